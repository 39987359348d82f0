// Package registry keeps the versions of the models a scan can run — the
// learned detectors and the fusion — with which one of each kind is active.
//
// The registry reads and writes through a Storage: a directory (Dir, the
// data directory's, for a service on one machine) or a store every node
// of a larger service shares (Shared: the files in a blob store, the
// active pointer in the database). Either way the layout is the same:
//
//	versions/<id>/entry.json   the Entry
//	versions/<id>/<files>      the model card and model file (a detector), or fusion.json
//	active.json                kind -> id of the active version
//
// A version's directory is written under a temporary name and renamed into
// place, and active.json is replaced by a rename, so a crash at any point
// leaves either the old state or the new one, never a half-written version or
// pointer. Versions are immutable: a scan that started on one keeps reading
// the same files while another is activated.
//
// (Shared keeps the files under the same names, and the pointer in the
// database instead of active.json.)
//
// The models embedded in the binary are the first versions: Open adds any
// embedded version the registry lacks and activates it for a kind that has
// no active version yet.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/trueframe/trueframe/models"
)

// KindFusion is the kind of fusion models; learned detectors' kind is their
// detector name.
const KindFusion = "fusion"

// Origins of a version.
const (
	OriginEmbedded = "embedded" // shipped inside the binary
	OriginAdded    = "added"    // added by an operator (trained or refitted)
)

// Entry describes one model version.
type Entry struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Created time.Time `json:"created"`
	// Parent is the version this one was trained or refitted from.
	Parent string `json:"parent,omitempty"`
	Origin string `json:"origin"`
	// File is the file a scan loads: the model card of a detector (which
	// names its model file beside it), or the fusion model.
	File string `json:"file"`
	// SHA256 holds each file of the version and its hash, rechecked by
	// Verify.
	SHA256 map[string]string `json:"sha256"`
	// Eval holds the figures the card or fusion fit recorded.
	Eval json.RawMessage `json:"eval,omitempty"`
	// Gate holds the comparison with the parent on held-apart clips that
	// admitted the version (trueframe models promote).
	Gate json.RawMessage `json:"gate,omitempty"`
	// Forced records that the version was added despite a check that
	// refused it, and why.
	Forced string `json:"forced,omitempty"`
}

// Errors of the registry.
var (
	ErrNotFound = errors.New("registry: no such model version")
	ErrExists   = errors.New("registry: a different model already has this version id")
	ErrBadID    = errors.New("registry: version id must be 1-100 letters, digits, '.', '_', '+' or '-'")
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$`)

// Registry is a set of model versions in a Storage. All methods are safe
// for concurrent use.
//
// Its methods take no context: they predate the shared storage, and its
// callers (the model routes, each analysis choosing its models) are short.
// Each call to a shared storage is bounded by storageTimeout instead.
type Registry struct {
	store Storage
	// local is the directory of a Dir storage, where scans read the
	// versions' files; "" for a shared one, whose files are copied to
	// cache first.
	local string
	cache string
	// entries caches the entries of a shared storage: versions never
	// change, and each analysis reads the active ones.
	entries sync.Map // id -> Entry
}

// storageTimeout bounds one call of the registry to a shared storage.
const storageTimeout = 2 * time.Minute

// Open opens (creating it if needed) the registry in dir and adds the
// binary's embedded models to it.
func Open(dir string) (*Registry, error) {
	d, err := NewDir(dir)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: d, local: dir}
	if err := r.seed(); err != nil {
		return nil, fmt.Errorf("registry: adding the embedded models: %w", err)
	}
	return r, nil
}

// OpenShared opens the registry kept in a shared storage, adding the
// binary's embedded models to it when they are missing (the first node of
// a service to start adds them). Scans load models from files, so the
// versions they run are copied to cacheDir (this node's own) first; a
// version never changes, so a copy is good for as long as it is there.
func OpenShared(s Storage, cacheDir string) (*Registry, error) {
	if cacheDir == "" {
		return nil, errors.New("registry: a shared registry needs a local cache directory")
	}
	if err := os.MkdirAll(filepath.Join(cacheDir, "versions"), 0o750); err != nil {
		return nil, err
	}
	r := &Registry{store: s, cache: cacheDir}
	if err := r.seed(); err != nil {
		return nil, fmt.Errorf("registry: adding the embedded models: %w", err)
	}
	return r, nil
}

// Dir is the registry's directory: a local one's, or a shared one's cache.
func (r *Registry) Dir() string {
	if r.local != "" {
		return r.local
	}
	return r.cache
}

// String describes where the registry is.
func (r *Registry) String() string {
	if r.local != "" {
		return r.local
	}
	return fmt.Sprint(r.store)
}

// ctx returns the context of one call to the storage.
func (r *Registry) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storageTimeout)
}

// seed adds the embedded models the registry lacks, and activates them for
// the kinds that have no active version. Nodes starting together each do
// it: a version added twice with the same files is the same version, and
// an activation only fills a kind that has none.
func (r *Registry) seed() error {
	active, err := r.Active()
	if err != nil {
		return err
	}
	initial := map[string]string{}
	names, err := models.TrainedNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		card, data, err := models.Trained(name)
		if err != nil {
			return err
		}
		cardJSON, err := json.MarshalIndent(card, "", "  ")
		if err != nil {
			return err
		}
		e := Entry{ID: card.Version, Kind: card.Name, Created: card.Created, Origin: OriginEmbedded,
			File: "card.json", Eval: card.Eval}
		if err := r.addIfMissing(e, map[string][]byte{"card.json": cardJSON, card.File: data}); err != nil {
			return err
		}
		if active[card.Name] == "" {
			initial[card.Name] = card.Version
		}
	}
	raw := models.DefaultFusionJSON()
	f, err := models.ParseFusion(raw)
	if err != nil {
		return err
	}
	e := Entry{ID: f.Version, Kind: KindFusion, Origin: OriginEmbedded, File: "fusion.json", Eval: f.Fit}
	if err := r.addIfMissing(e, map[string][]byte{"fusion.json": raw}); err != nil {
		return err
	}
	if active[KindFusion] == "" {
		initial[KindFusion] = f.Version
	}
	ctx, cancel := r.ctx()
	defer cancel()
	for _, kind := range slices.Sorted(maps.Keys(initial)) {
		if err := r.store.SetActiveModel(ctx, kind, initial[kind], true); err != nil {
			return err
		}
	}
	return nil
}

// addIfMissing adds e unless a version of its id exists with the same
// files.
func (r *Registry) addIfMissing(e Entry, files map[string][]byte) error {
	_, err := r.add(e, files)
	if errors.Is(err, errSame) {
		return nil
	}
	return err
}

var errSame = errors.New("registry: the same version is already present")

// AddOptions describe an added version.
type AddOptions struct {
	// Parent is the version it was trained from (optional; must exist).
	Parent string
	// Forced is why it was added despite being refused by a check.
	Forced string
	// Gate is the comparison with the parent that admitted it.
	Gate json.RawMessage
}

// AddCard adds the learned detector whose model card is at cardPath (the
// model file beside it, checked against the card) as version card.Version.
// Adding the same files again returns the existing entry.
func (r *Registry) AddCard(cardPath string, opts AddOptions) (Entry, error) {
	card, data, err := models.LoadCard(cardPath)
	if err != nil {
		return Entry{}, err
	}
	cardJSON, err := os.ReadFile(cardPath)
	if err != nil {
		return Entry{}, err
	}
	if card.Name == "" || card.Name == KindFusion {
		return Entry{}, fmt.Errorf("registry: model card %s: bad name %q", cardPath, card.Name)
	}
	e := Entry{ID: card.Version, Kind: card.Name, Created: card.Created, Origin: OriginAdded,
		File: "card.json", Eval: card.Eval, Parent: opts.Parent, Forced: opts.Forced, Gate: opts.Gate}
	return r.addChecked(e, map[string][]byte{"card.json": cardJSON, card.File: data})
}

// AddFusion adds the fusion model at path as version fusion.Version.
func (r *Registry) AddFusion(path string, opts AddOptions) (Entry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Entry{}, err
	}
	f, err := models.ParseFusion(raw)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{ID: f.Version, Kind: KindFusion, Origin: OriginAdded, File: "fusion.json", Eval: f.Fit,
		Parent: opts.Parent, Forced: opts.Forced, Gate: opts.Gate}
	return r.addChecked(e, map[string][]byte{"fusion.json": raw})
}

func (r *Registry) addChecked(e Entry, files map[string][]byte) (Entry, error) {
	if e.Parent != "" {
		p, err := r.Get(e.Parent)
		if err != nil {
			return Entry{}, fmt.Errorf("parent %q: %w", e.Parent, err)
		}
		if p.Kind != e.Kind {
			return Entry{}, fmt.Errorf("registry: parent %q is a %s model, not %s", e.Parent, p.Kind, e.Kind)
		}
	}
	out, err := r.add(e, files)
	if errors.Is(err, errSame) {
		return r.Get(e.ID)
	}
	return out, err
}

// add writes a version's directory under a temporary name and renames it
// into place. It returns errSame when the version exists with the same
// files and ErrExists when it exists with others.
func (r *Registry) add(e Entry, files map[string][]byte) (Entry, error) {
	if !idPattern.MatchString(e.ID) {
		return Entry{}, fmt.Errorf("%w: %q", ErrBadID, e.ID)
	}
	e.SHA256 = map[string]string{}
	for name, data := range files {
		if filepath.Base(name) != name || name == "entry.json" {
			return Entry{}, fmt.Errorf("registry: bad file name %q", name)
		}
		sum := sha256.Sum256(data)
		e.SHA256[name] = hex.EncodeToString(sum[:])
	}
	if old, err := r.Get(e.ID); err == nil {
		if sameFiles(old.SHA256, e.SHA256) {
			return old, errSame
		}
		return Entry{}, fmt.Errorf("%w: %q", ErrExists, e.ID)
	} else if !errors.Is(err, ErrNotFound) {
		return Entry{}, err
	}
	if e.Created.IsZero() {
		e.Created = time.Now().UTC()
	}
	raw, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, err
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.store.PutVersion(ctx, e.ID, files, append(raw, '\n')); err != nil {
		return Entry{}, fmt.Errorf("registry: storing version %q: %w", e.ID, err)
	}
	return e, nil
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Get returns the version id.
func (r *Registry) Get(id string) (Entry, error) {
	if !idPattern.MatchString(id) {
		return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if e, ok := r.entries.Load(id); ok {
		return e.(Entry), nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	raw, err := r.store.ReadFile(ctx, id, entryFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Entry{}, fmt.Errorf("registry: version %q: %w", id, err)
	}
	if r.local == "" {
		r.entries.Store(id, e)
	}
	return e, nil
}

// entryFile is the file of a version that holds its Entry; a storage
// writes it last, so that a version with one is complete.
const entryFile = "entry.json"

// List returns every version, by kind and then by creation time.
func (r *Registry) List() ([]Entry, error) {
	ctx, cancel := r.ctx()
	ids, err := r.store.Versions(ctx)
	cancel()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, id := range ids {
		if !idPattern.MatchString(id) {
			continue // a temporary directory a crash left
		}
		e, err := r.Get(id)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Active returns the active version of each kind.
func (r *Registry) Active() (map[string]string, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	return r.store.ActiveModels(ctx)
}

// Activate makes version id the active one of its kind. Scans started
// afterwards run it; those already running finish on the version they
// started with.
func (r *Registry) Activate(id string) (Entry, error) {
	e, err := r.Get(id)
	if err != nil {
		return Entry{}, err
	}
	if err := r.checkFiles(e); err != nil {
		return Entry{}, err
	}
	ctx, cancel := r.ctx()
	defer cancel()
	return e, r.store.SetActiveModel(ctx, e.Kind, e.ID, false)
}

// Path returns the file a scan loads for version id: a detector's model
// card or the fusion model. Of a shared registry it is where the version's
// local copy is, which LocalPath makes.
func (r *Registry) Path(e Entry) string { return filepath.Join(r.Dir(), "versions", e.ID, e.File) }

// LocalPath returns Path(e), first copying the version's files there from
// a shared storage when they are not there yet.
func (r *Registry) LocalPath(e Entry) (string, error) {
	if r.local == "" {
		if err := r.fetch(e); err != nil {
			return "", err
		}
	}
	return r.Path(e), nil
}

// Selection is what a scan runs: the model card of each learned detector
// and the fusion model, by path.
type Selection struct {
	Cards  map[string]string
	Fusion string
}

// ActiveSelection returns the files of the active versions.
func (r *Registry) ActiveSelection() (Selection, error) {
	active, err := r.Active()
	if err != nil {
		return Selection{}, err
	}
	sel := Selection{Cards: map[string]string{}}
	for kind, id := range active {
		e, err := r.Get(id)
		if err != nil {
			return Selection{}, fmt.Errorf("active %s: %w", kind, err)
		}
		path, err := r.LocalPath(e)
		if err != nil {
			return Selection{}, fmt.Errorf("active %s: %w", kind, err)
		}
		if kind == KindFusion {
			sel.Fusion = path
		} else {
			sel.Cards[kind] = path
		}
	}
	return sel, nil
}

// ChecksumError is a version whose file no longer matches its recorded
// hash.
type ChecksumError struct {
	ID, File string
	Want     string
	Got      string // empty when the file is missing
}

func (e *ChecksumError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("registry: %s: %s is missing", e.ID, e.File)
	}
	return fmt.Sprintf("registry: %s: %s has sha256 %s, recorded %s", e.ID, e.File, e.Got, e.Want)
}

// Verify rechecks every version's files against their recorded hashes and
// returns one error per mismatch (nil when all hold).
func (r *Registry) Verify() ([]error, error) {
	list, err := r.List()
	if err != nil {
		return nil, err
	}
	var problems []error
	for _, e := range list {
		if err := r.checkFiles(e); err != nil {
			problems = append(problems, err)
		}
	}
	return problems, nil
}

func (r *Registry) checkFiles(e Entry) error {
	_, err := r.readFiles(e)
	return err
}

// readFiles reads the files of version e, checked against their recorded
// hashes.
func (r *Registry) readFiles(e Entry) (map[string][]byte, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	files := map[string][]byte{}
	for _, name := range slices.Sorted(maps.Keys(e.SHA256)) {
		data, err := r.store.ReadFile(ctx, e.ID, name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &ChecksumError{ID: e.ID, File: name, Want: e.SHA256[name]}
		}
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != e.SHA256[name] {
			return nil, &ChecksumError{ID: e.ID, File: name, Want: e.SHA256[name], Got: got}
		}
		files[name] = data
	}
	return files, nil
}
