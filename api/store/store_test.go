package store

import (
	"context"
	"database/sql"
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
		j, err := s.Take(ctx, "job00", time.Minute)
		if err != nil || j.ID != "job00" || j.State != Running || j.Attempts != 1 {
			t.Fatalf("Take = %+v, %v; want job00 running, attempt 1", j, err)
		}
		// A crash: back in the queue, reason kept.
		if err := s.Retry(ctx, j.ID, "worker_crashed", "SIGABRT"); err != nil {
			t.Fatal(err)
		}
		if j, _ = s.Take(ctx, "job00", time.Minute); j.Attempts != 2 || j.ErrorCode != "worker_crashed" {
			t.Fatalf("after Retry, Take = %+v", j)
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
		j, _ = s.Take(ctx, "job01", time.Minute)
		s.Close()
		s, err = Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if n, err := s.RequeueRunning(ctx, nil); n != 1 || err != nil {
			t.Fatalf("RequeueRunning = %d, %v; want 1", n, err)
		}
		if j2, _ := s.Take(ctx, j.ID, time.Minute); j2.ID != j.ID || j2.Attempts != 1 {
			t.Fatalf("after restart, Take = %+v, want %s attempt 1", j2, j.ID)
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
		if _, err := s.Take(ctx, "job02", time.Minute); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted job: Take err = %v, want ErrNotFound", err)
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

// A job with a callback gets its webhook queued when it ends, in the
// transaction that ends it; a job without one, or one that is not
// running, queues nothing.
func TestWebhookQueuedWhenJobEnds(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var queued []string
		refuse := false
		s := openDSN(t, dsn, Options{EnqueueWebhook: func(ctx context.Context, tx *sql.Tx, id string) error {
			if refuse {
				return errors.New("queue down")
			}
			queued = append(queued, id)
			return nil
		}})
		for _, j := range []*Job{
			{ID: "hooked", KeyID: "k", FilePath: "/x", CallbackURL: "https://example.org/hook"},
			{ID: "quiet", KeyID: "k", FilePath: "/x"},
			{ID: "refused", KeyID: "k", FilePath: "/x", CallbackURL: "https://example.org/hook"},
		} {
			if err := s.CreateJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Take(ctx, j.ID, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Fail(ctx, "hooked", "truncated", "cut"); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, "quiet", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, "hooked", []byte(`{}`)); !errors.Is(err, ErrNotFound) {
			t.Errorf("completing a failed job: %v, want ErrNotFound", err)
		}
		if fmt.Sprint(queued) != "[hooked]" {
			t.Errorf("queued webhooks %v, want [hooked]", queued)
		}
		if j, _ := s.Job(ctx, "hooked"); j.Webhook.State != WebhookPending || j.State != Failed {
			t.Errorf("hooked: %s, webhook %+v", j.State, j.Webhook)
		}
		// The queue refuses: the job does not end, so that it never ends
		// without its delivery queued.
		refuse = true
		if err := s.Complete(ctx, "refused", []byte(`{}`)); err == nil {
			t.Fatal("Complete succeeded while its webhook could not be queued")
		}
		if j, _ := s.Job(ctx, "refused"); j.State != Running {
			t.Errorf("refused: %s, want still running", j.State)
		}
		later := time.Now().Add(time.Hour)
		if err := s.SetWebhook(ctx, "hooked", Webhook{State: WebhookPending, Attempts: 1, NextAt: later, LastError: "503", LastCode: 503}); err != nil {
			t.Fatal(err)
		}
		if j, _ := s.Job(ctx, "hooked"); j.Webhook.Attempts != 1 || j.Webhook.NextAt.UnixMilli() != later.UnixMilli() || j.Webhook.LastCode != 503 {
			t.Errorf("after SetWebhook: %+v", j.Webhook)
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

func TestJobsSummary(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{})
		results := map[string]string{
			"job00": `{"verdict":"fake","score":0.875,"frames":[1,2]}`,
			"job01": `{"verdict":3,"score":"high"}`, // not a report's types: no summary
			"job02": ``,                             // still queued
		}
		for i := range 3 {
			newJob(t, s, "k", i)
		}
		for _, id := range []string{"job00", "job01"} {
			j, err := s.Take(ctx, id, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Complete(ctx, j.ID, []byte(results[j.ID])); err != nil {
				t.Fatal(err)
			}
		}
		jobs, _, err := s.Jobs(ctx, "", nil, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, j := range jobs {
			if j.Result != nil {
				t.Errorf("%s: a list carries the result", j.ID)
			}
			got[j.ID] = fmt.Sprintf("%q %g", j.Verdict, j.Score)
		}
		want := map[string]string{"job00": `"fake" 0.875`, "job01": `"" 0`, "job02": `"" 0`}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("summaries = %v, want %v", got, want)
		}
		// The result comes back byte for byte, not re-encoded.
		if j, _ := s.Job(ctx, "job00"); string(j.Result) != results["job00"] {
			t.Errorf("result = %s", j.Result)
		}
	})
}

// Take hands a job to one node at a time: a second Take while the first
// node's heartbeat is fresh is refused; once it is older than the lease,
// the job is taken over and the attempt counted.
func TestTakeAndHeartbeat(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{})
		j := &Job{ID: "gen", KeyID: "k", Kind: "swap", Params: []byte(`{"steps":3}`), EvidenceDir: "/w"}
		if err := s.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		got, err := s.Take(ctx, "gen", time.Minute)
		if err != nil || got.State != Running || got.Attempts != 1 || string(got.Params) != `{"steps":3}` || got.StartedAt.IsZero() {
			t.Fatalf("Take = %+v, %v", got, err)
		}
		if err := s.SetProgress(ctx, "gen", 0.5); err != nil {
			t.Fatal(err)
		}
		if err := s.Heartbeat(ctx, "gen"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Take(ctx, "gen", time.Minute); !errors.Is(err, ErrBusy) {
			t.Fatalf("Take of a job with a fresh heartbeat: err = %v, want ErrBusy", err)
		}
		// Its node died mid-run: once the lease is over, the next attempt
		// starts it over.
		time.Sleep(20 * time.Millisecond)
		if got, err = s.Take(ctx, "gen", 10*time.Millisecond); err != nil || got.Attempts != 2 || got.Progress != 0 {
			t.Fatalf("Take after the lease = %+v, %v", got, err)
		}
		if err := s.Complete(ctx, "gen", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Take(ctx, "gen", 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("Take of a done job: err = %v, want ErrNotFound", err)
		}
		if err := s.Heartbeat(ctx, "gen"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Heartbeat of a done job: err = %v, want ErrNotFound", err)
		}
		if _, err := s.Take(ctx, "nope", time.Minute); !errors.Is(err, ErrNotFound) {
			t.Errorf("Take of a deleted job: err = %v, want ErrNotFound", err)
		}
	})
}

// With Options.Enqueue, the job's row and its queue entry commit together:
// the hook runs inside the insert's transaction, and when it fails there
// is no job.
func TestEnqueueInTransaction(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		errQueue := errors.New("queue unavailable")
		var fail bool
		var seen []Job
		var s *Store
		s = openDSN(t, dsn, Options{Enqueue: func(ctx context.Context, tx *sql.Tx, j Job) error {
			// The row is visible inside the transaction, as a queue's
			// foreign key or trigger would see it.
			var n int
			if err := tx.QueryRowContext(ctx, s.d.rebind("SELECT COUNT(*) FROM jobs WHERE id = ?"), j.ID).Scan(&n); err != nil || n != 1 {
				return fmt.Errorf("row inside the transaction: %d, %v", n, err)
			}
			seen = append(seen, j)
			if fail {
				return errQueue
			}
			return nil
		}})
		ok := &Job{ID: "ok", KeyID: "k", FilePath: "/x"}
		if err := s.CreateJob(ctx, ok); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || seen[0].ID != "ok" || seen[0].Seq != ok.Seq || ok.Seq == 0 || seen[0].State != Queued {
			t.Fatalf("Enqueue saw %+v; job %+v", seen, ok)
		}
		fail = true
		if err := s.CreateJob(ctx, &Job{ID: "lost", KeyID: "k", FilePath: "/x"}); !errors.Is(err, errQueue) {
			t.Fatalf("CreateJob with a failing Enqueue: err = %v, want it wrapped", err)
		}
		if _, err := s.Job(ctx, "lost"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a job whose enqueue failed exists: err = %v", err)
		}
		if n, _ := s.Waiting(ctx); n != 1 {
			t.Errorf("Waiting = %d, want 1", n)
		}
	})
}

// Jobs and keys are written with every commit synced; only the rate-limit
// buckets, rewritten on every request, are not (see Store.buckets).
func TestSQLiteSynchronous(t *testing.T) {
	s, _ := openTemp(t)
	for name, tc := range map[string]struct {
		db   *sql.DB
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{"state": {s.db, 2}, "buckets": {s.buckets, 1}} {
		var got int
		if err := tc.db.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil || got != tc.want {
			t.Errorf("%s pool: synchronous = %d, %v; want %d", name, got, err, tc.want)
		}
	}
}
