package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/internal/cluster"
	"github.com/trueframe/trueframe/internal/testutil"
)

// testCluster is PostgreSQL, an S3 server, and trueframe nodes started as
// processes of this test binary, on loopback.
type testCluster struct {
	t         *testing.T
	dsn, blob string
	opts      cluster.Options
	key       string
}

func newTestCluster(t *testing.T) *testCluster {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, dsn: testutil.Postgres(t), blob: testutil.S3(t),
		opts: cluster.Options{Exe: exe, Env: []string{"TRUEFRAME_CLI_TEST=1", "TRUEFRAME_DEPS=" + testutil.DepsDir(t)}}}
	if r := trueframe(t, "migrate", "--database", c.dsn); r.code != 0 {
		t.Fatalf("migrate: exit %d: %s", r.code, r.stderr)
	}
	r := trueframe(t, "keys", "create", "--role", "analyst", "--database", c.dsn)
	if r.code != 0 {
		t.Fatalf("keys create: exit %d: %s", r.code, r.stderr)
	}
	c.key = strings.TrimSpace(r.stdout)
	return c
}

// nodeArgs are the flags every node of the cluster gets.
func (c *testCluster) nodeArgs(name string) []string {
	return []string{"--database", c.dsn, "--blobs", c.blob, "--data", c.t.TempDir(), "--node", name,
		// A killed node's job waits this long for another node (an
		// analysis of the clip takes a few seconds).
		"--job-timeout", "40s"}
}

func (c *testCluster) api(ctx context.Context, name string, extra ...string) *cluster.Node {
	c.t.Helper()
	o := c.opts
	o.Args = append(append(c.nodeArgs(name), extra...), "--workers", "0", "--generator=false", "--ledger=false",
		// One key plays every client: the per-key limits must not bind.
		"--rate", "1000", "--burst", "1000", "--max-waiting", "1000", "--max-uploads-per-key", "100", "--max-queued-per-key", "1000")
	n, err := cluster.StartAPI(ctx, name, o)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(n.Kill)
	return n
}

func (c *testCluster) worker(ctx context.Context, name string) *cluster.Node {
	c.t.Helper()
	o := c.opts
	o.Args = append(c.nodeArgs(name), "--workers", "1")
	n, err := cluster.StartWorker(ctx, name, o)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(n.Kill)
	return n
}

// TestCluster: PostgreSQL + an S3 server + 2 API nodes + 2 worker nodes;
// 200 uploads from 20 clients spread over both API nodes; one worker node
// and one API node are killed (-9, with their worker processes) during the
// run. Every accepted job must end, done or failed with a reason; none
// lost; and every blob left in the store belongs to a job.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the cluster test takes minutes")
	}
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg")
	video, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c := newTestCluster(t)
	apis := []*cluster.Node{c.api(ctx, "api1"), c.api(ctx, "api2")}
	workers := []*cluster.Node{c.worker(ctx, "worker1"), c.worker(ctx, "worker2")}

	const n, conc = 200, 20
	var once sync.Once
	var killedAt int
	load := cluster.Load{URLs: []string{apis[0].URL, apis[1].URL}, Key: c.key, Clip: video, ClipName: "bbaf2n.mpg",
		N: n, Concurrency: conc, Deadline: 5 * time.Minute,
		Progress: func(accepted, ended int) {
			// A quarter in: jobs are queued and running on both workers,
			// uploads are in flight on both API nodes.
			if ended >= n/4 {
				once.Do(func() {
					killedAt = ended
					go workers[0].Kill()
					go apis[0].Kill()
				})
			}
		}}
	res := load.Run(ctx)
	t.Logf("cluster (2 API + 2 worker nodes, PostgreSQL, S3), worker1 and api1 killed after %d jobs ended:\n%s", killedAt, res.Summary(n, conc))
	if killedAt == 0 {
		t.Fatal("the nodes were never killed")
	}
	if len(res.Lost) > 0 {
		t.Errorf("%d accepted jobs lost: %v", len(res.Lost), res.Lost)
	}
	if res.Accepted != n {
		t.Errorf("%d of %d uploads accepted (a client moves to the other API node when one dies)", res.Accepted, n)
	}
	if res.Ended() != res.Accepted {
		t.Errorf("%d accepted, %d ended", res.Accepted, res.Ended())
	}
	for id, code := range res.Failures {
		if code == "" {
			t.Errorf("job %s failed without a reason", id)
		}
	}
	if !workers[1].Alive() || !apis[1].Alive() {
		t.Fatalf("a surviving node died:\n%s\n%s", workers[1].Output(), apis[1].Output())
	}

	// Jobs the killed worker had: taken over by the other, their attempt counted.
	st, err := store.Open(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs, retried := map[string]bool{}, 0
	for before := int64(0); ; {
		page, next, err := st.Jobs(ctx, "", nil, before, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page {
			jobs[j.ID] = true
			if j.Attempts > 1 {
				retried++
			}
			if j.State != store.Done && j.State != store.Failed {
				t.Errorf("job %s is %s", j.ID, j.State)
			}
		}
		if next == 0 {
			break
		}
		before = next
	}
	t.Logf("%d jobs in the database, %d taken over after their node died, %d failed: %v", len(jobs), retried, len(res.Failures), res.Failures)

	// No orphaned blobs: every upload and every evidence file is a job's.
	// The killed API node may have stored an upload it never queued; an
	// operator restarts it, and its start sweeps such files (here all of
	// them: nothing is in flight any more).
	c.api(ctx, "api1-again", "--orphan-age", "1ns")
	b, err := blobs.Open(ctx, c.blob)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	objs, err := b.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	orphans := 0
	for _, o := range objs {
		if strings.HasPrefix(o.Key, modelsPrefix) {
			continue // the shared model registry's, seeded by the first node
		}
		if id := blobJob(o.Key); !jobs[id] {
			orphans++
			t.Errorf("blob %s belongs to no job", o.Key)
		}
	}
	t.Logf("%d blobs, %d orphaned", len(objs), orphans)
}

// blobJob returns the id of the job a blob key belongs to:
// uploads/<id><ext>, evidence/<id>/<name> or generator/<id>/<path>.
func blobJob(key string) string {
	switch dir, rest, _ := strings.Cut(key, "/"); dir {
	case "uploads":
		return strings.TrimSuffix(rest, filepath.Ext(rest))
	case "evidence", "generator":
		id, _, _ := strings.Cut(rest, "/")
		return id
	}
	return fmt.Sprintf("(not a job's: %s)", key)
}
