package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// TestMigrate: trueframe migrate brings a new database to the current
// schema and says so; run again, it finds it up to date. By default it is
// the SQLite file serve uses; --database (or TRUEFRAME_DATABASE) names a
// PostgreSQL database instead, which several nodes may migrate at once.
func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	in := runOptions{dir: dir}
	if r := trueframeWith(t, in, "migrate", "extra"); r.code != 2 {
		t.Errorf("migrate extra: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a refused migrate created ./data")
	}

	t.Run("sqlite", func(t *testing.T) {
		data := filepath.Join(dir, "d")
		r := trueframeWith(t, in, "migrate", "--data", data)
		if r.code != 0 || !strings.Contains(r.stderr, "migrated from 0") {
			t.Fatalf("migrate --data: exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(data, "trueframe.db")); err != nil {
			t.Errorf("not serve's database: %v", err)
		}
		if r := trueframeWith(t, in, "migrate", "--data", data); r.code != 0 || !strings.Contains(r.stderr, "up to date") {
			t.Errorf("second migrate: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		dsn := testutil.Postgres(t)
		var wg sync.WaitGroup
		results := make([]result, 3)
		for i := range results {
			wg.Go(func() {
				results[i] = trueframeWith(t, runOptions{dir: dir, env: []string{"TRUEFRAME_DATABASE=" + dsn}}, "migrate")
			})
		}
		wg.Wait()
		migrated := 0
		for _, r := range results {
			if r.code != 0 {
				t.Fatalf("concurrent migrate: exit %d, stderr %q", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "migrated from 0") {
				migrated++
			}
		}
		if migrated != 1 {
			t.Errorf("%d of 3 concurrent migrations did the work, want 1: %+v", migrated, results)
		}
		if r := trueframeWith(t, in, "migrate", "--database", dsn); r.code != 0 || !strings.Contains(r.stderr, "up to date") {
			t.Errorf("migrate --database: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
