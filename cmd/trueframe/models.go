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

	"github.com/trueframe/trueframe/models/registry"
)

const modelsUsage = `usage:
  trueframe models list                       every model version, the active ones marked
  trueframe models show ID                    one version's entry (JSON)
  trueframe models activate ID                scans started afterwards run it
  trueframe models add [--parent ID] [--force REASON] FILE
                                              add a detector's model card or a fusion model
  trueframe models promote [--parent ID] [--tolerance T] [--activate] FILE [SOURCE]
                                              measure a new version against its parent on the same
                                              clips; add it only if no method got worse (see promote -h)
  trueframe models verify                     recheck every version's files against their hashes
The registry lives in DATA/models (--data, $TRUEFRAME_DATA, default ./data); the models
embedded in the binary are its first versions.`

// registryDir is where the data directory keeps the model registry.
func registryDir(data string) string { return filepath.Join(data, "models") }

// activeSelection returns the registry's active model files when the data
// directory has a registry, and nothing otherwise: a scan run without a
// registry uses the embedded models without creating one.
func activeSelection(data string) (*registry.Registry, error) {
	if _, err := os.Stat(filepath.Join(registryDir(data), "active.json")); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return registry.Open(registryDir(data))
}

func cmdModels(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "promote" {
		return cmdModelsPromote(ctx, args[1:])
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(os.Stderr, modelsUsage)
		if len(args) == 0 {
			return usageError{errors.New("missing models command")}
		}
		return nil
	}
	fs := flag.NewFlagSet("models "+args[0], flag.ContinueOnError)
	data := fs.String("data", envOr("TRUEFRAME_DATA", "data"), "data directory of the service")
	parent := fs.String("parent", "", "add: the version the new one was trained from")
	force := fs.String("force", "", "add: record that the version is added although a check refused it, and why")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	want := map[string]int{"list": 0, "verify": 0, "show": 1, "activate": 1, "add": 1}
	n, ok := want[args[0]]
	if !ok {
		return usageError{fmt.Errorf("unknown models command %q\n%s", args[0], modelsUsage)}
	}
	if fs.NArg() != n {
		return usageError{fmt.Errorf("models %s takes %d argument(s)\n%s", args[0], n, modelsUsage)}
	}
	r, err := registry.Open(registryDir(*data))
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
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
	case "show":
		e, err := r.Get(fs.Arg(0))
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	case "activate":
		e, err := r.Activate(fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "active %s model: %s\n", e.Kind, e.ID)
		return nil
	case "add":
		path := fs.Arg(0)
		opts := registry.AddOptions{Parent: *parent, Forced: *force}
		var e registry.Entry
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
	default: // verify
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
	}
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
