package faceset

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary index files to Load: it must return faces or an
// error, never panic, and never read outside the set directory.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"size":64,"entries":[{"file":"a.png"}]}`))
	f.Add([]byte(`{"entries":[{"file":"../x.png"}]}`))
	f.Add([]byte(`{"entries":null}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, index []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, IndexFile), index, 0o644); err != nil {
			t.Fatal(err)
		}
		faces, err := Load(dir, 8)
		if err == nil && len(faces) == 0 {
			t.Error("no error and no faces")
		}
	})
}
