package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Storage keeps a registry's versions and which one of each kind is
// active. Implementations must be safe for concurrent use.
type Storage interface {
	// ReadFile returns the file name of version id (entryFile included),
	// or an error wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, id, name string) ([]byte, error)
	// PutVersion stores version id: its files, then its entry. A version
	// is listed, and read, only once its entry is stored, so a crash
	// half-way leaves no version.
	PutVersion(ctx context.Context, id string, files map[string][]byte, entry []byte) error
	// Versions returns the ids of the stored versions.
	Versions(ctx context.Context) ([]string, error)
	Pointer
}

// Pointer keeps the active version of each kind.
type Pointer interface {
	// ActiveModels returns the active version of each kind.
	ActiveModels(ctx context.Context) (map[string]string, error)
	// SetActiveModel makes id the active version of kind, leaving the
	// other kinds as they are, in one atomic step; with ifUnset, only when
	// kind has no active version.
	SetActiveModel(ctx context.Context, kind, id string, ifUnset bool) error
}

// Dir is the storage of a registry in a local directory: the layout of the
// package comment, every version a directory renamed into place, the
// pointer a file replaced by a rename.
type Dir struct{ dir string }

// NewDir returns the storage in dir, creating it if needed.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(dir, "versions"), 0o750); err != nil {
		return nil, err
	}
	return &Dir{dir: dir}, nil
}

func (d *Dir) String() string { return d.dir }

func (d *Dir) versionDir(id string) string { return filepath.Join(d.dir, "versions", id) }

// ReadFile reads a file of a version.
func (d *Dir) ReadFile(_ context.Context, id, name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.versionDir(id), name))
}

// PutVersion writes the version's directory under a temporary name and
// renames it into place.
func (d *Dir) PutVersion(_ context.Context, id string, files map[string][]byte, entry []byte) error {
	return writeVersionDir(filepath.Join(d.dir, "versions"), id, files, entry)
}

// writeVersionDir writes a version's directory into versions under a
// temporary name and renames it into place; when another writer renamed
// one there first, that one stays (versions never change).
func writeVersionDir(versions, id string, files map[string][]byte, entry []byte) error {
	tmp, err := os.MkdirTemp(versions, ".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	for name, data := range files {
		if err := writeSynced(filepath.Join(tmp, name), data); err != nil {
			return err
		}
	}
	if err := writeSynced(filepath.Join(tmp, entryFile), entry); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(versions, id)); err != nil {
		return err
	}
	return syncDir(versions)
}

// Versions lists the version directories; temporary ones a crash left are
// filtered out by the registry.
func (d *Dir) Versions(context.Context) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(d.dir, "versions"))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// ActiveModels reads active.json.
func (d *Dir) ActiveModels(context.Context) (map[string]string, error) {
	raw, err := os.ReadFile(filepath.Join(d.dir, "active.json"))
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

// SetActiveModel replaces active.json by a rename. The registry of a data
// directory has one writer at a time in practice (the service, or an
// operator's command), so the read before the write is not locked.
func (d *Dir) SetActiveModel(ctx context.Context, kind, id string, ifUnset bool) error {
	active, err := d.ActiveModels(ctx)
	if err != nil {
		return err
	}
	if ifUnset && active[kind] != "" || active[kind] == id {
		return nil
	}
	active[kind] = id
	raw, err := json.MarshalIndent(active, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.dir, ".active-")
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
	if err := os.Rename(tmp.Name(), filepath.Join(d.dir, "active.json")); err != nil {
		return err
	}
	return syncDir(d.dir)
}

// Files is a store of named files every node of a service reaches (a blob
// store). Names are slash-separated.
type Files interface {
	// ReadFile returns the file name, or an error wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// WriteFile stores data as name, whole or not at all.
	WriteFile(ctx context.Context, name string, data []byte) error
	// List returns the names that start with prefix, at any depth.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Shared is the storage of a registry that several nodes share: the
// versions' files in Files (versions/<id>/<file>, as in a directory), the
// active pointer in a Pointer (the service's database). A single pointer
// file in a blob store would need a read, a change and a write, and two
// nodes activating versions of two kinds at once would lose one of them;
// the database changes one kind's row in one statement.
type Shared struct {
	Files   Files
	Pointer Pointer
}

func (s Shared) String() string { return fmt.Sprint(s.Files) }

// ReadFile reads a file of a version.
func (s Shared) ReadFile(ctx context.Context, id, name string) ([]byte, error) {
	return s.Files.ReadFile(ctx, "versions/"+id+"/"+name)
}

// PutVersion stores the files, then the entry: a version whose entry is
// stored is complete. Versions never change, so a version stored again
// after a crash half-way holds the same files.
func (s Shared) PutVersion(ctx context.Context, id string, files map[string][]byte, entry []byte) error {
	for name, data := range files {
		if err := s.Files.WriteFile(ctx, "versions/"+id+"/"+name, data); err != nil {
			return err
		}
	}
	return s.Files.WriteFile(ctx, "versions/"+id+"/"+entryFile, entry)
}

// Versions lists the versions that have an entry.
func (s Shared) Versions(ctx context.Context) ([]string, error) {
	names, err := s.Files.List(ctx, "versions/")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, n := range names {
		id, file, ok := strings.Cut(strings.TrimPrefix(n, "versions/"), "/")
		if ok && file == entryFile {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// ActiveModels reads the pointer.
func (s Shared) ActiveModels(ctx context.Context) (map[string]string, error) {
	return s.Pointer.ActiveModels(ctx)
}

// SetActiveModel changes the pointer.
func (s Shared) SetActiveModel(ctx context.Context, kind, id string, ifUnset bool) error {
	return s.Pointer.SetActiveModel(ctx, kind, id, ifUnset)
}

// fetch copies version e's files from a shared storage to the cache, once:
// checked against their hashes, written under a temporary name, renamed
// into place.
func (r *Registry) fetch(e Entry) error {
	if _, err := os.Stat(filepath.Join(r.cache, "versions", e.ID, entryFile)); err == nil {
		return nil
	}
	files, entry, err := r.versionFiles(e)
	if err != nil {
		return err
	}
	err = writeVersionDir(filepath.Join(r.cache, "versions"), e.ID, files, entry)
	if _, serr := os.Stat(filepath.Join(r.cache, "versions", e.ID, entryFile)); serr == nil {
		return nil // another fetch of the same version won the rename
	}
	return err
}

// versionFiles returns version e's files, checked against their hashes,
// and its entry as the version directory stores it.
func (r *Registry) versionFiles(e Entry) (map[string][]byte, []byte, error) {
	files, err := r.readFiles(e)
	if err != nil {
		return nil, nil, err
	}
	entry, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return files, append(entry, '\n'), nil
}

// Export writes a registry in the local directory dir (as Open opens it)
// holding the active version of each kind, active there too: what a child
// process that reads models from a directory needs of a shared registry.
func (r *Registry) Export(dir string) error {
	active, err := r.Active()
	if err != nil {
		return err
	}
	d, err := NewDir(dir)
	if err != nil {
		return err
	}
	ctx, cancel := r.ctx()
	defer cancel()
	for kind, id := range active {
		e, err := r.Get(id)
		if err != nil {
			return fmt.Errorf("active %s: %w", kind, err)
		}
		files, entry, err := r.versionFiles(e)
		if err != nil {
			return err
		}
		if _, err := os.Stat(d.versionDir(id)); err != nil {
			if err := d.PutVersion(ctx, id, files, entry); err != nil {
				return err
			}
		}
		if err := d.SetActiveModel(ctx, kind, id, false); err != nil {
			return err
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
