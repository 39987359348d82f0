package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trueframe/trueframe/models"
)

// childCard writes a copy of the embedded model name as a new version id
// (the same weights) into dir and returns the card's path.
func childCard(t *testing.T, dir, name, id string) string {
	t.Helper()
	card, data, err := models.Trained(name)
	if err != nil {
		t.Fatal(err)
	}
	card.Version = id
	raw, err := json.Marshal(card)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, card.File), data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, id+".json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenAddsTheEmbeddedModels(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	active, err := r.Active()
	if err != nil {
		t.Fatal(err)
	}
	names, err := models.TrainedNames()
	if err != nil {
		t.Fatal(err)
	}
	fusion, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	if active[KindFusion] != fusion.Version {
		t.Errorf("active fusion %q, want the embedded %q", active[KindFusion], fusion.Version)
	}
	for _, name := range names {
		card, _, err := models.Trained(name)
		if err != nil {
			t.Fatal(err)
		}
		if active[name] != card.Version {
			t.Errorf("active %s %q, want the embedded %q", name, active[name], card.Version)
		}
		e, err := r.Get(card.Version)
		if err != nil {
			t.Fatal(err)
		}
		if e.Origin != OriginEmbedded || e.Kind != name || e.SHA256[card.File] != card.SHA256 {
			t.Errorf("entry %+v does not describe the embedded %s", e, name)
		}
		// The registered card loads as a scan loads it.
		if _, _, err := models.LoadCard(r.Path(e)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	list, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(names)+1 {
		t.Errorf("%d versions, want %d", len(list), len(names)+1)
	}
	// Opening again changes nothing, and keeps an operator's choice.
	child, err := r.AddCard(childCard(t, t.TempDir(), "motion", "motion-child-1"), AddOptions{Parent: active["motion"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Activate(child.ID); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	list2, _ := r2.List()
	active2, _ := r2.Active()
	if len(list2) != len(list)+1 || active2["motion"] != child.ID {
		t.Errorf("reopened: %d versions, active motion %q; want %d and %q", len(list2), active2["motion"], len(list)+1, child.ID)
	}
}

func TestAddActivateSelect(t *testing.T) {
	r, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := r.Active()
	src := t.TempDir()
	path := childCard(t, src, "face_cnn", "face_cnn-child-1")
	e, err := r.AddCard(path, AddOptions{Parent: before["face_cnn"]})
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != "face_cnn" || e.Parent != before["face_cnn"] || e.Origin != OriginAdded {
		t.Errorf("entry %+v", e)
	}
	// Adding the same files again is harmless; other files under the same
	// id are refused.
	if again, err := r.AddCard(path, AddOptions{}); err != nil || again.ID != e.ID {
		t.Errorf("re-adding: %v, %v", again.ID, err)
	}
	raw, _ := os.ReadFile(path)
	var card models.Card
	json.Unmarshal(raw, &card)
	card.Notes = "other"
	raw, _ = json.Marshal(card)
	os.WriteFile(path, raw, 0o644)
	if _, err := r.AddCard(path, AddOptions{}); !errors.Is(err, ErrExists) {
		t.Errorf("same id, other card: %v, want ErrExists", err)
	}
	// A parent must exist and be of the same kind.
	if _, err := r.AddCard(childCard(t, src, "face_cnn", "face_cnn-child-2"), AddOptions{Parent: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing parent: %v", err)
	}
	if _, err := r.AddCard(childCard(t, src, "face_cnn", "face_cnn-child-3"), AddOptions{Parent: before["motion"]}); err == nil {
		t.Error("a parent of another kind was accepted")
	}

	sel, err := r.ActiveSelection()
	if err != nil {
		t.Fatal(err)
	}
	if sel.Cards["face_cnn"] != r.Path(mustGet(t, r, before["face_cnn"])) {
		t.Errorf("selection %v before activation", sel)
	}
	if _, err := r.Activate(e.ID); err != nil {
		t.Fatal(err)
	}
	sel, err = r.ActiveSelection()
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := models.LoadCard(sel.Cards["face_cnn"])
	if err != nil || got.Version != e.ID {
		t.Errorf("active face_cnn card: %v, %v; want version %s", got, err, e.ID)
	}
	if sel.Fusion == "" || sel.Cards["motion"] == "" {
		t.Errorf("selection %+v lacks the other kinds", sel)
	}
	if _, err := r.Activate("no-such-version"); !errors.Is(err, ErrNotFound) {
		t.Errorf("activating a missing version: %v", err)
	}
	if _, err := r.Activate("../../etc"); !errors.Is(err, ErrNotFound) {
		t.Errorf("activating a path: %v", err)
	}
}

func TestAddFusion(t *testing.T) {
	r, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	parent := f.Version
	f.Version = "fusion-child"
	f.Bias += 0.5
	raw, _ := json.Marshal(f)
	path := filepath.Join(t.TempDir(), "fusion.json")
	os.WriteFile(path, raw, 0o644)
	e, err := r.AddFusion(path, AddOptions{Parent: parent, Forced: "worse on EDTalk, kept for a comparison"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindFusion || e.Forced == "" {
		t.Errorf("entry %+v", e)
	}
	if _, err := r.Activate(e.ID); err != nil {
		t.Fatal(err)
	}
	sel, _ := r.ActiveSelection()
	got, err := models.LoadFusion(sel.Fusion)
	if err != nil || got.Version != "fusion-child" {
		t.Errorf("active fusion %v, %v", got, err)
	}
	// An invalid fusion is refused.
	os.WriteFile(path, []byte(`{"version":"x"}`), 0o644)
	if _, err := r.AddFusion(path, AddOptions{}); err == nil {
		t.Error("an invalid fusion model was added")
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	r, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := r.Verify(); err != nil || len(problems) != 0 {
		t.Fatalf("fresh registry: %v, %v", problems, err)
	}
	active, _ := r.Active()
	e := mustGet(t, r, active["motion"])
	card, _, _ := models.Trained("motion")
	model := filepath.Join(r.Dir(), "versions", e.ID, card.File)
	data, _ := os.ReadFile(model)
	data[len(data)/2] ^= 1
	os.WriteFile(model, data, 0o640)
	problems, err := r.Verify()
	if err != nil {
		t.Fatal(err)
	}
	var ce *ChecksumError
	if len(problems) != 1 || !errors.As(problems[0], &ce) || ce.ID != e.ID || ce.File != card.File {
		t.Fatalf("problems %v, want one checksum error on %s/%s", problems, e.ID, card.File)
	}
	// A damaged version cannot be activated; a missing file is reported.
	if _, err := r.Activate(e.ID); !errors.As(err, &ce) {
		t.Errorf("activating a damaged version: %v", err)
	}
	os.Remove(model)
	problems, _ = r.Verify()
	if len(problems) != 1 || !errors.As(problems[0], &ce) || ce.Got != "" {
		t.Errorf("missing file: %v", problems)
	}
}

// TestCrashLeftovers: what a crash can leave — a version directory or an
// active pointer written under its temporary name — is ignored.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := r.Active()
	n, _ := r.List()
	os.MkdirAll(filepath.Join(dir, "versions", ".new-123"), 0o750)
	os.WriteFile(filepath.Join(dir, "versions", ".new-123", "entry.json"), []byte("{trunc"), 0o640)
	os.WriteFile(filepath.Join(dir, ".active-456"), []byte(`{"motion":"x`), 0o640)
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := r.Active()
	list, err := r.List()
	if err != nil || len(list) != len(n) || after["motion"] != before["motion"] {
		t.Errorf("after leftovers: %d versions (%v), active %v; want %d and %v", len(list), err, after, len(n), before)
	}
}

func mustGet(t *testing.T, r *Registry, id string) Entry {
	t.Helper()
	e, err := r.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// memFiles is an in-memory Files, as a blob store shared by nodes.
type memFiles struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memFiles) ReadFile(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return bytes.Clone(b), nil
}

func (m *memFiles) WriteFile(_ context.Context, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	m.files[name] = bytes.Clone(data)
	return nil
}

func (m *memFiles) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.files {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out, nil
}

// memPointer is an in-memory Pointer, as the shared database.
type memPointer struct {
	mu     sync.Mutex
	active map[string]string
}

func (p *memPointer) ActiveModels(context.Context) (map[string]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.active), nil
}

func (p *memPointer) SetActiveModel(_ context.Context, kind, id string, ifUnset bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active == nil {
		p.active = map[string]string{}
	}
	if !ifUnset || p.active[kind] == "" {
		p.active[kind] = id
	}
	return nil
}

// Two nodes share a registry: what one adds and activates, the other
// lists and runs, from its own local copy of the files; a version
// damaged in the shared store is not copied.
func TestSharedRegistry(t *testing.T) {
	shared := Shared{Files: &memFiles{}, Pointer: &memPointer{}}
	a, err := OpenShared(shared, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenShared(shared, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := b.Active()
	f, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	if before[KindFusion] != f.Version {
		t.Fatalf("seeded active %v", before)
	}
	f.Version = "fusion-child"
	f.Bias += 0.5
	raw, _ := json.Marshal(f)
	path := filepath.Join(t.TempDir(), "fusion.json")
	os.WriteFile(path, raw, 0o644)
	if _, err := a.AddFusion(path, AddOptions{Parent: before[KindFusion]}); err != nil {
		t.Fatal(err)
	}
	list, err := b.List()
	if err != nil || !slices.ContainsFunc(list, func(e Entry) bool { return e.ID == "fusion-child" }) {
		t.Fatalf("b lists %v (%v), without a's version", list, err)
	}
	if _, err := b.Activate("fusion-child"); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Registry{"a": a, "b": b} {
		sel, err := r.ActiveSelection()
		if err != nil {
			t.Fatal(err)
		}
		got, err := models.LoadFusion(sel.Fusion)
		if err != nil || got.Version != "fusion-child" || !strings.HasPrefix(sel.Fusion, r.Dir()) {
			t.Errorf("%s: active fusion %s: %v, %v", name, sel.Fusion, got, err)
		}
		if len(sel.Cards) != len(before)-1 {
			t.Errorf("%s: selection %v", name, sel)
		}
	}
	// Another kind activated meanwhile is not lost.
	if after, _ := a.Active(); after[KindFusion] != "fusion-child" || after["motion"] != before["motion"] {
		t.Errorf("active after: %v", after)
	}

	// A child process reads a local export of the active versions.
	dir := t.TempDir()
	if err := b.Export(dir); err != nil {
		t.Fatal(err)
	}
	local, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if act, _ := local.Active(); act[KindFusion] != "fusion-child" {
		t.Errorf("export's active %v", act)
	}
	if e, err := local.Get("fusion-child"); err != nil || e.Parent != before[KindFusion] {
		t.Errorf("exported entry %+v, %v", e, err)
	}

	// Damaged in the store: not copied, not activated.
	shared.Files.WriteFile(t.Context(), "versions/"+before["motion"]+"/card.json", []byte("{}"))
	c, err := OpenShared(shared, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ce *ChecksumError
	if _, err := c.ActiveSelection(); !errors.As(err, &ce) {
		t.Errorf("selection of a damaged version: %v", err)
	}
	if _, err := c.Activate(before["motion"]); !errors.As(err, &ce) {
		t.Errorf("activating a damaged version: %v", err)
	}
}
