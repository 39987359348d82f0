package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
)

// The store's tests run on both databases: each test ranges over testDBs,
// each of which makes a new, empty database and returns its DSN.
var testDBs = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "trueframe.db") }},
	{"postgres", func(t *testing.T) string { return testutil.Postgres(t) }},
}

// eachDB runs test once per database, as a subtest, with a new database.
func eachDB(t *testing.T, test func(t *testing.T, dsn string)) {
	for _, db := range testDBs {
		t.Run(db.name, func(t *testing.T) { test(t, db.dsn(t)) })
	}
}

// openDSN opens dsn and closes it when the test ends.
func openDSN(t *testing.T, dsn string, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(t.Context(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTemp opens a new SQLite database, for the tests of what only SQLite
// has (a file and its mode).
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trueframe.db")
	return openDSN(t, path, Options{}), path
}

func TestKeysAuthenticate(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openDSN(t, dsn, Options{})
		k, token, err := s.NewKey(ctx, "desk", RoleAnalyst)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Authenticate(ctx, token)
		if err != nil || got.ID != k.ID || got.Role != RoleAnalyst || got.WebhookSecret == "" {
			t.Fatalf("Authenticate(valid) = %+v, %v", got, err)
		}
		other := token[:len(token)-1] + map[bool]string{true: "0", false: "1"}[strings.HasSuffix(token, "1")]
		for name, tok := range map[string]string{
			"empty":        "",
			"no prefix":    strings.TrimPrefix(token, "tf_"),
			"wrong secret": other,
			"unknown id":   "tf_0123456789abcdef_" + strings.Repeat("a", 64),
			"truncated":    token[:20],
		} {
			if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrBadToken) {
				t.Errorf("%s: err = %v, want ErrBadToken", name, err)
			}
		}
		if _, _, err := s.NewKey(ctx, "x", Role("root")); err == nil {
			t.Error("NewKey accepted an unknown role")
		}
		if err := s.RevokeKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, token); !errors.Is(err, ErrBadToken) {
			t.Errorf("revoked key: err = %v, want ErrBadToken", err)
		}
		if err := s.RevokeKey(ctx, k.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoking twice: err = %v, want ErrNotFound", err)
		}
	})
}

func newJob(t *testing.T, s *Store, key string, n int) *Job {
	t.Helper()
	j := &Job{ID: fmt.Sprintf("job%02d", n), KeyID: key, FileName: "a.mp4", FilePath: "/x", SHA256: "00", SizeBytes: 1}
	if err := s.CreateJob(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJobLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			newJob(t, s, "k1", i)
		}
		j, err := s.Claim(ctx, nil)
		if err != nil || j.ID != "job00" || j.State != Running || j.Attempts != 1 {
			t.Fatalf("Claim = %+v, %v; want job00 running, attempt 1", j, err)
		}
		// A crash: back in the queue, first in line again, reason kept.
		if err := s.Retry(ctx, j.ID, "worker_crashed", "SIGABRT"); err != nil {
			t.Fatal(err)
		}
		if j, _ = s.Claim(ctx, nil); j.ID != "job00" || j.Attempts != 2 || j.ErrorCode != "worker_crashed" {
			t.Fatalf("after Retry, Claim = %+v", j)
		}
		if err := s.Complete(ctx, j.ID, []byte(`{"score":0.1}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, j.ID, []byte(`{}`)); !errors.Is(err, ErrNotFound) {
			t.Errorf("completing a done job: err = %v, want ErrNotFound", err)
		}
		got, _ := s.Job(ctx, "job00")
		if got.State != Done || string(got.Result) != `{"score":0.1}` || got.Webhook.State != "" {
			t.Errorf("done job = %+v", got)
		}

		// The service dies with job01 running: the next life requeues it
		// without counting the attempt.
		j, _ = s.Claim(ctx, nil)
		s.Close()
		s, err = Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if n, err := s.RequeueRunning(ctx, nil); n != 1 || err != nil {
			t.Fatalf("RequeueRunning = %d, %v; want 1", n, err)
		}
		if j2, _ := s.Claim(ctx, nil); j2.ID != j.ID || j2.Attempts != 1 {
			t.Fatalf("after restart, Claim = %+v, want %s attempt 1", j2, j.ID)
		}
		if err := s.Fail(ctx, j.ID, "not_video", "not a video"); err != nil {
			t.Fatal(err)
		}
		counts, err := s.Counts(ctx)
		if err != nil || counts[Done] != 1 || counts[Failed] != 1 || counts[Queued] != 1 || counts[Running] != 0 {
			t.Errorf("Counts = %v, %v", counts, err)
		}
		if n, _ := s.Waiting(ctx); n != 1 {
			t.Errorf("Waiting = %d, want 1", n)
		}
		deleted, err := s.DeleteJob(ctx, "job02")
		if err != nil || deleted.FilePath != "/x" {
			t.Errorf("DeleteJob = %+v, %v", deleted, err)
		}
		if _, err := s.Job(ctx, "job02"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted job: err = %v", err)
		}
		if _, err := s.Claim(ctx, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("empty queue: Claim err = %v, want ErrNotFound", err)
		}
	})
}

func TestJobsPagination(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openDSN(t, dsn, Options{})
		for i := range 7 {
			newJob(t, s, []string{"a", "b"}[i%2], i)
		}
		var seen []string
		before := int64(0)
		for page := 0; ; page++ {
			jobs, next, err := s.Jobs(ctx, "a", nil, before, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if j.KeyID != "a" {
					t.Fatalf("key a sees job of %s", j.KeyID)
				}
				seen = append(seen, j.ID)
			}
			if next == 0 {
				break
			}
			before = next
		}
		if got := strings.Join(seen, ","); got != "job06,job04,job02,job00" {
			t.Errorf("pages = %s", got)
		}
		all, _, _ := s.Jobs(ctx, "", nil, 0, 100)
		if len(all) != 7 {
			t.Errorf("all keys: %d jobs, want 7", len(all))
		}
	})
}

func TestWebhookScheduling(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openDSN(t, dsn, Options{})
		j := &Job{ID: "hooked", KeyID: "k", FilePath: "/x", CallbackURL: "https://example.org/hook"}
		if err := s.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		s.Claim(ctx, nil)
		if due, _ := s.DueWebhooks(ctx, 10); len(due) != 0 {
			t.Fatalf("webhook due before the job finished: %+v", due)
		}
		if err := s.Fail(ctx, j.ID, "truncated", "cut"); err != nil {
			t.Fatal(err)
		}
		due, err := s.DueWebhooks(ctx, 10)
		if err != nil || len(due) != 1 || due[0].Webhook.State != WebhookPending {
			t.Fatalf("DueWebhooks = %+v, %v", due, err)
		}
		later := time.Now().Add(time.Hour)
		s.SetWebhook(ctx, j.ID, Webhook{State: WebhookPending, Attempts: 1, NextAt: later, LastError: "503", LastCode: 503})
		if due, _ := s.DueWebhooks(ctx, 10); len(due) != 0 {
			t.Errorf("webhook due before its retry time")
		}
		if at, ok, _ := s.NextWebhook(ctx); !ok || at.UnixMilli() != later.UnixMilli() {
			t.Errorf("NextWebhook = %v, %v", at, ok)
		}
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{})
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.setVersion(ctx, tx, 99); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := Open(ctx, dsn); !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open of a newer schema: err = %v, want ErrSchemaTooNew", err)
		}
	})
}

// The database holds webhook secrets in the clear: it is created readable
// by its owner only (issue 15, finding 12), and so are the WAL and shared
// memory files SQLite makes beside it.
func TestDatabaseIsPrivate(t *testing.T) {
	s, path := openTemp(t)
	if _, _, err := s.NewKey(context.Background(), "k", RoleAnalyst); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", filepath.Base(p), perm)
		}
	}

	// A database an older version created world-readable is made private.
	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if st, _ := os.Stat(old); st.Mode().Perm()&0o077 != 0 {
		t.Errorf("existing database left with mode %v", st.Mode().Perm())
	}
}

func TestOriginalOwner(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openDSN(t, dsn, Options{})
		sha := strings.Repeat("ab", 32)
		if _, err := s.OriginalOwner(ctx, sha); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown original: %v, want ErrNotFound", err)
		}
		for _, key := range []string{"k1", "k2"} { // a later registration replaces the row
			if err := s.SetOriginalOwner(ctx, sha, key); err != nil {
				t.Fatal(err)
			}
			if got, err := s.OriginalOwner(ctx, sha); err != nil || got != key {
				t.Fatalf("owner = %q, %v; want %s", got, err, key)
			}
		}
	})
}
