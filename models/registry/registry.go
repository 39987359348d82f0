// Package registry keeps the versions of the models a scan can run — the
// learned detectors and the fusion — in the data directory, with which one
// of each kind is active.
//
// Layout, under the registry's directory:
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
// The models embedded in the binary are the first versions: Open adds any
// embedded version the registry lacks and activates it for a kind that has
// no active version yet.
package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
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

// Registry is a directory of model versions.
type Registry struct {
	dir string
}

// Open opens (creating it if needed) the registry in dir and adds the
// binary's embedded models to it.
func Open(dir string) (*Registry, error) {
	if err := os.MkdirAll(filepath.Join(dir, "versions"), 0o750); err != nil {
		return nil, err
	}
	r := &Registry{dir: dir}
	if err := r.seed(); err != nil {
		return nil, fmt.Errorf("registry: adding the embedded models: %w", err)
	}
	return r, nil
}

// Dir is the registry's directory.
func (r *Registry) Dir() string { return r.dir }

// seed adds the embedded models the registry lacks.
func (r *Registry) seed() error {
	active, err := r.Active()
	if err != nil {
		return err
	}
	changed := false
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
			active[card.Name], changed = card.Version, true
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
		active[KindFusion], changed = f.Version, true
	}
	if !changed {
		return nil
	}
	return r.writeActive(active)
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
	tmp, err := os.MkdirTemp(filepath.Join(r.dir, "versions"), ".new-")
	if err != nil {
		return Entry{}, err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	for name, data := range files {
		if err := writeSynced(filepath.Join(tmp, name), data); err != nil {
			return Entry{}, err
		}
	}
	raw, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, err
	}
	if err := writeSynced(filepath.Join(tmp, "entry.json"), append(raw, '\n')); err != nil {
		return Entry{}, err
	}
	if err := os.Rename(tmp, r.versionDir(e.ID)); err != nil {
		return Entry{}, err
	}
	return e, syncDir(filepath.Join(r.dir, "versions"))
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

func (r *Registry) versionDir(id string) string { return filepath.Join(r.dir, "versions", id) }

// Get returns the version id.
func (r *Registry) Get(id string) (Entry, error) {
	if !idPattern.MatchString(id) {
		return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	raw, err := os.ReadFile(filepath.Join(r.versionDir(id), "entry.json"))
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
	return e, nil
}

// List returns every version, by kind and then by creation time.
func (r *Registry) List() ([]Entry, error) {
	ents, err := os.ReadDir(filepath.Join(r.dir, "versions"))
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range ents {
		if !d.IsDir() || !idPattern.MatchString(d.Name()) {
			continue // a temporary directory a crash left
		}
		e, err := r.Get(d.Name())
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
	raw, err := os.ReadFile(filepath.Join(r.dir, "active.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	active := map[string]string{}
	if err := json.Unmarshal(raw, &active); err != nil {
		return nil, fmt.Errorf("registry: active.json: %w", err)
	}
	return active, nil
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
	active, err := r.Active()
	if err != nil {
		return Entry{}, err
	}
	active[e.Kind] = e.ID
	return e, r.writeActive(active)
}

func (r *Registry) writeActive(active map[string]string) error {
	raw, err := json.MarshalIndent(active, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(r.dir, ".active-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(r.dir, "active.json")); err != nil {
		return err
	}
	return syncDir(r.dir)
}

// Path returns the file a scan loads for version id: a detector's model
// card or the fusion model.
func (r *Registry) Path(e Entry) string { return filepath.Join(r.versionDir(e.ID), e.File) }

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
		if kind == KindFusion {
			sel.Fusion = r.Path(e)
		} else {
			sel.Cards[kind] = r.Path(e)
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
	names := make([]string, 0, len(e.SHA256))
	for name := range e.SHA256 {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(r.versionDir(e.ID), name))
		if errors.Is(err, fs.ErrNotExist) {
			return &ChecksumError{ID: e.ID, File: name, Want: e.SHA256[name]}
		}
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != e.SHA256[name] {
			return &ChecksumError{ID: e.ID, File: name, Want: e.SHA256[name], Got: got}
		}
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
