package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/testutil"
)

// scripted is an Analyzer whose answer the test chooses per call.
type scripted struct {
	calls  atomic.Int64
	answer func(call int64, job store.Job) (*scan.Report, error)
}

func (s *scripted) Analyze(ctx context.Context, job store.Job, progress func(float64)) (*scan.Report, error) {
	return s.answer(s.calls.Add(1), job)
}

// databases are the store's databases the queue tests run on.
func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "trueframe.db") },
		"postgres": func(t *testing.T) string { return testutil.Postgres(t) },
	}
}

type queueFixture struct {
	st     *store.Store
	runner *Runner
	queue  *Queue
}

// startQueue opens the store at dsn and works its jobs with a until the
// test ends.
func startQueue(t *testing.T, dsn string, a Analyzer, opts Options) queueFixture {
	t.Helper()
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	opts.Workers = max(opts.Workers, 1)
	r := New(st, a, nil, metrics.New("test", noCounts{}, log), log, opts)
	q, err := NewQueue(t.Context(), st, QueueOptions{Analyses: r, MaxAttempts: opts.MaxAttempts, PollInterval: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := q.Run(ctx); err != nil {
			t.Errorf("queue: %v", err)
		}
	})
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		st.Close()
	})
	return queueFixture{st: st, runner: r, queue: q}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func (f queueFixture) submit(t *testing.T, id string) {
	t.Helper()
	if err := f.st.CreateJob(t.Context(), &store.Job{ID: id, KeyID: "k", FileName: id + ".mp4", FilePath: "/nowhere/" + id}); err != nil {
		t.Fatal(err)
	}
}

// waitEnded waits for a job to be done or failed and returns it.
func (f queueFixture) waitEnded(t *testing.T, id string) store.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := f.st.Job(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == store.Done || j.State == store.Failed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 30 s", id, j.State)
		}
		select {
		case <-f.runner.Finished():
		case <-time.After(time.Second):
		}
	}
}

func TestQueueRunsJobs(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			a := &scripted{answer: func(_ int64, j store.Job) (*scan.Report, error) {
				return &scan.Report{SHA256: j.ID, Score: 0.25}, nil
			}}
			f := startQueue(t, dsn(t), a, Options{Workers: 2})
			for i := range 10 {
				f.submit(t, fmt.Sprintf("job%02d", i))
			}
			for i := range 10 {
				j := f.waitEnded(t, fmt.Sprintf("job%02d", i))
				if j.State != store.Done || j.Attempts != 1 || len(j.Result) == 0 {
					t.Errorf("%s: %s after %d attempts, result %q", j.ID, j.State, j.Attempts, j.Result)
				}
			}
			if n := a.calls.Load(); n != 10 {
				t.Errorf("%d analyses for 10 jobs", n)
			}
		})
	}
}

func TestQueueRetriesCrashesThenFails(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			a := &scripted{answer: func(call int64, j store.Job) (*scan.Report, error) {
				if j.ID == "flaky" && call == 1 {
					return nil, &isolate.CrashError{}
				}
				if j.ID == "doomed" {
					return nil, &isolate.CrashError{}
				}
				if j.ID == "bad" {
					return nil, &isolate.Error{Kind: isolate.KindScan, Code: "not_video", Message: "not a video"}
				}
				return &scan.Report{}, nil
			}}
			f := startQueue(t, dsn(t), a, Options{MaxAttempts: 3})
			for _, id := range []string{"flaky", "doomed", "bad"} {
				f.submit(t, id)
				f.waitEnded(t, id) // one at a time: the calls are numbered per job
				a.calls.Store(0)
			}
			for _, c := range []struct {
				id       string
				state    store.State
				attempts int
				code     string
			}{
				{"flaky", store.Done, 2, ""},
				{"doomed", store.Failed, 3, "worker_crashed"},
				{"bad", store.Failed, 1, "not_video"}, // the file itself: no retry
			} {
				j, _ := f.st.Job(t.Context(), c.id)
				if j.State != c.state || j.Attempts != c.attempts || (c.code != "" && j.ErrorCode != c.code) {
					t.Errorf("%s: %s after %d attempts (%s), want %s after %d (%s)", c.id, j.State, j.Attempts, j.ErrorCode, c.state, c.attempts, c.code)
				}
			}
		})
	}
}

// A job another node is working on (its heartbeat is fresh) is not run
// again when River hands it out twice; once that node's lease runs out, a
// node takes it over.
func TestQueueTakeRefusesAJobWithAFreshHeartbeat(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "trueframe.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateJob(t.Context(), &store.Job{ID: "j", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Take(t.Context(), "j", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Take(t.Context(), "j", time.Minute); !errors.Is(err, store.ErrBusy) {
		t.Fatalf("second take of a job with a fresh heartbeat: %v, want ErrBusy", err)
	}
	time.Sleep(20 * time.Millisecond)
	j, err := st.Take(t.Context(), "j", 10*time.Millisecond)
	if err != nil || j.Attempts != 2 {
		t.Fatalf("take after the lease: attempts %d, %v; want 2, nil", j.Attempts, err)
	}
	if err := st.Complete(t.Context(), "j", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Take(t.Context(), "j", 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("take of a finished job: %v, want ErrNotFound", err)
	}
}

// A job deleted while it runs stops at its node's next heartbeat, even
// when the deletion came from another node (which cannot call Cancel).
func TestQueueDeletedJobStops(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			started := make(chan struct{})
			stopped := make(chan error, 1)
			a := analyzerFunc(func(ctx context.Context, j store.Job) (*scan.Report, error) {
				close(started)
				<-ctx.Done()
				stopped <- context.Cause(ctx)
				return nil, ctx.Err()
			})
			f := startQueue(t, dsn(t), a, Options{})
			f.submit(t, "long")
			<-started
			if _, err := f.st.DeleteJob(t.Context(), "long"); err != nil {
				t.Fatal(err)
			}
			select {
			case cause := <-stopped:
				if !errors.Is(cause, errDeleted) {
					t.Errorf("stopped by %v, want the deletion", cause)
				}
			case <-time.After(3 * heartbeatEvery):
				t.Fatal("the analysis of a deleted job went on")
			}
		})
	}
}

type analyzerFunc func(ctx context.Context, j store.Job) (*scan.Report, error)

func (f analyzerFunc) Analyze(ctx context.Context, j store.Job, _ func(float64)) (*scan.Report, error) {
	return f(ctx, j)
}

// BenchmarkQueueOverhead measures what the queue itself costs a job: b.N
// jobs inserted, then fetched by River, taken, analysed by a no-op and
// completed by 32 workers (River fetches at most a worker's worth every
// 100 ms, so fewer would measure that cadence instead); it reports the wall time and the CPU time (this
// process, which also hosts SQLite; not a PostgreSQL server's) per job.
func BenchmarkQueueOverhead(b *testing.B) {
	for name, dsn := range map[string]func(b *testing.B) string{
		"sqlite":   func(b *testing.B) string { return filepath.Join(b.TempDir(), "trueframe.db") },
		"postgres": func(b *testing.B) string { return testutil.Postgres(b) },
	} {
		b.Run(name, func(b *testing.B) {
			st, err := store.Open(b.Context(), dsn(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			log := slog.New(slog.DiscardHandler)
			var done atomic.Int64
			a := analyzerFunc(func(context.Context, store.Job) (*scan.Report, error) {
				done.Add(1)
				return &scan.Report{}, nil
			})
			r := New(st, a, nil, metrics.New("bench", noCounts{}, log), log, Options{Workers: 32})
			q, err := NewQueue(b.Context(), st, QueueOptions{Analyses: r, Log: log, PollInterval: 100 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { q.Run(ctx) })
			wg.Go(func() { r.Run(ctx) })
			defer func() { cancel(); wg.Wait() }()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				if err := st.CreateJob(ctx, &store.Job{ID: fmt.Sprintf("b%08d", i), KeyID: "k"}); err != nil {
					b.Fatal(err)
				}
			}
			for done.Load() < int64(b.N) {
				select {
				case <-r.Finished():
				case <-time.After(10 * time.Second):
					b.Fatalf("%d of %d jobs done after 10 s without progress", done.Load(), b.N)
				}
			}
			// The last outcome is recorded just after its analysis returns.
			for {
				c, _ := st.Counts(ctx)
				if c[store.Done] == b.N {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/job")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/job")
		})
	}
}

// cpuTime is the CPU time this process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The node that leads River's upkeep rescues a dead node's analysis even
// when it runs no analyses itself (an API node): it must know the kind and
// its timeout, or River discards the job and its row stays running.
func TestQueueAPINodeRescuesADeadWorkersJob(t *testing.T) {
	dsn := testutil.Postgres(t)
	st, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	hooks := New(st, nil, nil, metrics.New("test", noCounts{}, log), log, Options{
		Payload: func(store.Job) ([]byte, error) { return []byte(`{}`), nil }})
	q, err := NewQueue(t.Context(), st, QueueOptions{Webhooks: hooks, JobTimeout: time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateJob(t.Context(), &store.Job{ID: "orphan", KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	// A worker node took it an hour ago and died.
	if _, err := st.DB().ExecContext(t.Context(), `UPDATE river_job SET state = 'running', attempt = 1,
		attempted_at = now() - interval '1 hour', attempted_by = ARRAY['dead-worker']`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { q.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	var state string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := st.DB().QueryRowContext(t.Context(), `SELECT state FROM river_job`).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "running" {
			break
		}
	}
	if state != "retryable" && state != "available" {
		t.Fatalf("the dead worker's job is %s after the API node's rescue, want retryable or available", state)
	}
}

type generatorFunc func(ctx context.Context, job store.Job, h genjobs.Hooks) (json.RawMessage, error)

func (f generatorFunc) Generate(ctx context.Context, job store.Job, h genjobs.Hooks) (json.RawMessage, error) {
	return f(ctx, job, h)
}

// With a shared database and blob store, any generator node takes any
// generator job: jobs whose inputs were stored through node A, which runs
// none, are run by node B from its local copies, and what B made is in
// the blob store for A to serve. A job whose node stops mid-stage resumes
// on the other node from what the first stored.
func TestQueueGeneratorJobsRunOnAnyNode(t *testing.T) {
	dsn := testutil.Postgres(t)
	b, err := blobs.Open(t.Context(), testutil.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	log := slog.New(slog.DiscardHandler)
	var mu sync.Mutex
	ranOn := map[string][]string{} // job id → nodes, in order
	ran := func() map[string][]string {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(ranOn)
	}
	// A two-stage job: the first stage writes state and an artifact, the
	// second waits for the test, then finishes. One started with a state
	// file stored skips the first stage.
	release := make(chan struct{})
	stages := func(name string) generatorFunc {
		return func(ctx context.Context, j store.Job, h genjobs.Hooks) (json.RawMessage, error) {
			var p genjobs.Params
			json.Unmarshal(j.Params, &p)
			in, err := os.ReadFile(p.Inputs["real"][0])
			if err != nil {
				return nil, err
			}
			node := string(in)
			mu.Lock()
			ranOn[j.ID] = append(ranOn[j.ID], name)
			mu.Unlock()
			state := filepath.Join(p.WorkDir, "dataset-fit", "manifest.json")
			resumed := "no"
			if _, err := os.Stat(state); err == nil {
				resumed = "yes"
			} else {
				os.MkdirAll(filepath.Dir(state), 0o700)
				os.WriteFile(state, []byte(node), 0o600)
				os.WriteFile(filepath.Join(p.WorkDir, "out", "first.txt"), []byte("stage 1 of "+node), 0o600)
				if err := h.StageDone(ctx); err != nil {
					return nil, err
				}
			}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			os.WriteFile(filepath.Join(p.WorkDir, "out", "second.txt"), []byte("resumed "+resumed), 0o600)
			return json.RawMessage(`{}`), nil
		}
	}
	type node struct {
		st     *store.Store
		q      *Queue
		cancel context.CancelFunc
		done   chan struct{}
	}
	nodes := map[string]*node{}
	for _, name := range []string{"gen-a", "gen-b", "gen-c"} {
		st, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var opts QueueOptions
		if name != "gen-a" { // A only receives
			r := New(st, nil, nil, metrics.New("test", noCounts{}, log), log, Options{Workers: 1, Kinds: []string{"generate.train"},
				Generator:      stages(name),
				GeneratorFiles: &GeneratorFiles{Blobs: b, CacheDir: t.TempDir()}, Lease: 2 * time.Second})
			opts.Generator = r
		}
		opts.Node, opts.PollInterval, opts.Log = name, 50*time.Millisecond, log
		q, err := NewQueue(t.Context(), st, opts)
		if err != nil {
			t.Fatal(err)
		}
		nodes[name] = &node{st: st, q: q, done: make(chan struct{})}
	}
	start := func(name string) {
		n := nodes[name]
		ctx, cancel := context.WithCancel(context.Background())
		n.cancel = cancel
		go func() { defer close(n.done); n.q.Run(ctx) }()
	}
	stop := func(name string) { nodes[name].cancel(); <-nodes[name].done }
	defer func() {
		for name, n := range nodes {
			if n.cancel != nil {
				select {
				case <-n.done:
				default:
					stop(name)
				}
			}
		}
	}()

	// A stores the inputs and queues the job, as the API does.
	id := fmt.Sprintf("gen_%024x", time.Now().UnixNano())
	prefix := GeneratorPrefix(id)
	if _, _, err := b.Put(t.Context(), prefix+GeneratorInputs+"real/00-a.mpg", strings.NewReader("input stored through gen-a"), nil); err != nil {
		t.Fatal(err)
	}
	params, _ := json.Marshal(genjobs.Params{Type: "retrain", Inputs: map[string][]string{"real": {GeneratorInputs + "real/00-a.mpg"}}})
	if err := nodes["gen-a"].st.CreateJob(t.Context(), &store.Job{ID: id, KeyID: "k", Kind: "generate.train", Params: params, EvidenceDir: prefix}); err != nil {
		t.Fatal(err)
	}
	start("gen-a")
	start("gen-b")
	waitUntil(t, "B to finish the first stage", func() bool {
		ok, _ := b.Exists(t.Context(), prefix+"state/dataset-fit/manifest.json")
		return ok
	})
	// B stops mid-job (the job goes back to the queue), C takes it and
	// resumes after the first stage.
	stop("gen-b")
	start("gen-c")
	close(release)
	waitUntil(t, "the job to end", func() bool {
		j, err := nodes["gen-a"].st.Job(t.Context(), id)
		return err == nil && (j.State == store.Done || j.State == store.Failed)
	})
	if j, _ := nodes["gen-a"].st.Job(t.Context(), id); j.State != store.Done {
		t.Fatalf("job %s: %s %s", id, j.ErrorCode, j.ErrorMessage)
	}
	if got := ran()[id]; fmt.Sprint(got) != "[gen-b gen-c]" {
		t.Errorf("the job ran on %v, want gen-b then gen-c", got)
	}
	for key, want := range map[string]string{
		prefix + GeneratorArtifacts + "first.txt":  "stage 1 of input stored through gen-a",
		prefix + GeneratorArtifacts + "second.txt": "resumed yes",
	} {
		r, err := b.NewReader(t.Context(), key)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if string(got) != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
