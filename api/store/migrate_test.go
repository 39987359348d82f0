package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// Migration n is the same step on both databases.
func TestMigrationListsMatch(t *testing.T) {
	if len(sqliteMigrations) != schemaVersion+1 || len(postgresMigrations) != schemaVersion+1 {
		t.Fatalf("%d SQLite and %d PostgreSQL migrations for schema %d", len(sqliteMigrations)-1, len(postgresMigrations)-1, schemaVersion)
	}
	for n := 1; n <= schemaVersion; n++ {
		if sqliteMigrations[n] == "" || postgresMigrations[n] == "" {
			t.Errorf("migration %d missing on one database", n)
		}
	}
}

func TestMigrateTwice(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{NoMigrate: true})
		if v, err := s.SchemaVersion(ctx); v != 0 || err != nil {
			t.Fatalf("new database: SchemaVersion = %d, %v; want 0", v, err)
		}
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if v, err := s.SchemaVersion(ctx); v != schemaVersion || err != nil {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
			}
		}
		if _, _, err := s.NewKey(ctx, "k", RoleAnalyst); err != nil {
			t.Errorf("migrated database: %v", err)
		}
	})
}

// Nodes that start together all migrate: one does the work, the others
// wait for it and find nothing left to do. Each Store here stands for a
// node, with its own pool.
func TestMigrateConcurrently(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		const nodes = 4
		stores := make([]*Store, nodes)
		for i := range stores {
			stores[i] = openDSN(t, dsn, Options{NoMigrate: true})
		}
		var wg sync.WaitGroup
		errs := make([]error, nodes)
		found := make([]int, nodes)
		for i, s := range stores {
			wg.Go(func() { found[i], errs[i] = s.MigrateVersions(ctx) })
		}
		wg.Wait()
		worked := 0
		for i, err := range errs {
			if err != nil {
				t.Errorf("node %d: %v", i, err)
			}
			if found[i] == 0 {
				worked++
			}
		}
		if worked != 1 {
			t.Errorf("%d nodes found the new database unmigrated (versions found: %v), want 1", worked, found)
		}
		if v, err := stores[0].SchemaVersion(ctx); v != schemaVersion || err != nil {
			t.Errorf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
		}
	})
}

// A database an earlier version made (schema 3, before the rate-limit
// table) opens, keeps its rows and gains the new table.
func TestSQLiteUpgradeKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trueframe.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		if _, err := db.ExecContext(ctx, sqliteMigrations[n]); err != nil {
			t.Fatalf("migration %d: %v", n, err)
		}
	}
	for _, q := range []string{
		`INSERT INTO keys(id, name, role, secret_hash, webhook_secret, created_at) VALUES ('0123456789abcdef', 'old', 'admin', x'00', 'whsec_x', 1)`,
		`INSERT INTO jobs(id, key_id, state, file_name, file_path, evidence_dir, sha256, size_bytes, created_at)
			VALUES ('old-job', '0123456789abcdef', 'done', 'a.mp4', '/x', '/e', '00', 1, 1)`,
		"PRAGMA user_version = 3",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := openDSN(t, path, Options{})
	if v, err := s.SchemaVersion(ctx); v != schemaVersion || err != nil {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
	}
	if j, err := s.Job(ctx, "old-job"); err != nil || j.Kind != KindAnalysis || j.State != Done {
		t.Errorf("old job = %+v, %v", j, err)
	}
	if k, err := s.Key(ctx, "0123456789abcdef"); err != nil || k.Name != "old" {
		t.Errorf("old key = %+v, %v", k, err)
	}
	if ok, _, err := s.TakeToken(ctx, "0123456789abcdef", 1, 1); !ok || err != nil {
		t.Errorf("TakeToken after upgrade = %v, %v", ok, err)
	}
}

func TestRebind(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"none":          {"SELECT 1", "SELECT 1"},
		"in order":      {"a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		"quoted string": {"a = '?' AND b = ?", "a = '?' AND b = $1"},
		"doubled quote": {"a = 'it''s ?' AND b = ?", "a = 'it''s ?' AND b = $1"},
		"identifier":    {`"odd?" = ?`, `"odd?" = $1`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := postgres.rebind(tc.in); got != tc.want {
				t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := sqlite.rebind(tc.in); got != tc.in {
				t.Errorf("SQLite rebind changed %q to %q", tc.in, got)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"data/trueframe.db": "data/trueframe.db",
		"postgres://tf:s3cret@db.example.org:5432/tf?sslmode=require": "postgres://tf:xxxxx@db.example.org:5432/tf?sslmode=require",
		"postgresql://db/tf": "postgresql://db/tf",
		"postgres://db/tf?password=s3cret&sslmode=disable": "postgres://db/tf?password=xxxxx&sslmode=disable",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fmt.Sprint(IsPostgres("postgres://x"), IsPostgres("postgresql://x"), IsPostgres("./postgres.db")); got != "true true false" {
		t.Errorf("IsPostgres = %s", got)
	}
}
