package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/models/registry"
)

const modelsHelp = `
The registry lives in DATA/models (--data, default ./data); the models
embedded in the binary are its first versions. The nodes of a service with
a shared --database share one registry: pass the nodes' --database and
--blobs, and the versions are read from and added to the blob store, the
active ones kept in the database.`

// registryDir is where the data directory keeps the model registry.
func registryDir(data string) string { return filepath.Join(data, "models") }

// existingRegistry opens the data directory's model registry when it has
// one, and returns nil otherwise: a scan run without a registry uses the
// embedded models without creating one.
func existingRegistry(data string) (*registry.Registry, error) {
	if _, err := os.Stat(filepath.Join(registryDir(data), "active.json")); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return registry.Open(registryDir(data))
}

// modelsCommand declares --data, --database and --blobs, checks that the
// command got want arguments, and runs do on the opened registry: the
// data directory's, or a shared database's.
func modelsCommand(fs *flag.FlagSet, want int, do func(r *registry.Registry, args []string) error) action {
	db := registerDatabaseFlags(fs)
	blobURL := fs.String("blobs", "", "with a shared --database: the nodes' blob store (as serve's --blobs)")
	return func(ctx context.Context, args []string) error {
		if len(args) != want {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", commandName(fs), want, len(args))}
		}
		if !store.IsPostgres(*db.database) {
			r, err := registry.Open(registryDir(*db.data))
			if err != nil {
				return err
			}
			return do(r, args)
		}
		if *blobURL == "" {
			return usageError{errors.New("with a shared --database, --blobs names the blob store of the nodes' models")}
		}
		st, err := db.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		b, err := blobs.Open(ctx, *blobURL)
		if err != nil {
			return fmt.Errorf("--blobs: %w", err)
		}
		defer b.Close()
		data, err := filepath.Abs(*db.data)
		if err != nil {
			return err
		}
		r, err := openRegistry(data, st, b)
		if err != nil {
			return err
		}
		return do(r, args)
	}
}

func cmdModelsList(fs *flag.FlagSet) action {
	return modelsCommand(fs, 0, func(r *registry.Registry, _ []string) error {
		list, err := r.List()
		if err != nil {
			return err
		}
		active, err := r.Active()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTIVE\tKIND\tID\tCREATED\tORIGIN\tPARENT")
		for _, e := range list {
			mark := ""
			if active[e.Kind] == e.ID {
				mark = "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, e.Kind, e.ID, e.Created.Format(time.RFC3339), e.Origin, or(e.Parent, "-"))
		}
		return tw.Flush()
	})
}

func cmdModelsShow(fs *flag.FlagSet) action {
	return modelsCommand(fs, 1, func(r *registry.Registry, args []string) error {
		e, err := r.Get(args[0])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	})
}

func cmdModelsActivate(fs *flag.FlagSet) action {
	return modelsCommand(fs, 1, func(r *registry.Registry, args []string) error {
		e, err := r.Activate(args[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "active %s model: %s\n", e.Kind, e.ID)
		return nil
	})
}

func cmdModelsAdd(fs *flag.FlagSet) action {
	parent := fs.String("parent", "", "the version the new one was trained from")
	force := fs.String("force", "", "record that the version is added although a check refused it, and why")
	return modelsCommand(fs, 1, func(r *registry.Registry, args []string) error {
		path := args[0]
		opts := registry.AddOptions{Parent: *parent, Forced: *force}
		var e registry.Entry
		var err error
		if isFusionFile(path) {
			e, err = r.AddFusion(path, opts)
		} else {
			e, err = r.AddCard(path, opts)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "added %s model %s (activate it with: trueframe models activate %s)\n", e.Kind, e.ID, e.ID)
		return nil
	})
}

func cmdModelsVerify(fs *flag.FlagSet) action {
	return modelsCommand(fs, 0, func(r *registry.Registry, _ []string) error {
		problems, err := r.Verify()
		if err != nil {
			return err
		}
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, p)
		}
		if len(problems) > 0 {
			return fmt.Errorf("%d model version(s) fail their checksums", len(problems))
		}
		list, err := r.List()
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%d model versions, every file matches its recorded sha256\n", len(list))
		return nil
	})
}

// isFusionFile tells a fusion model from a model card: a card names its
// model file.
func isFusionFile(path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var probe struct {
		File      string          `json:"file"`
		Detectors json.RawMessage `json:"detectors"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.File == "" && len(probe.Detectors) > 0
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
