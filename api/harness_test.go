package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/models/registry"
)

// The test binary doubles as the analysis worker: the runner starts it
// again with workerEnv set, and TestMain then serves one analysis with the
// real models, exactly like `trueframe worker`.
const workerEnv = "TRUEFRAME_API_TEST_WORKER"

// crashMarker in an upload makes the test worker abort the way an OpenCV
// exception does (SIGABRT), to test what a worker crash does to a job.
const crashMarker = "CRASH-THE-WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		err := scan.ServeWorker(context.Background(), os.Stdin, func(req scan.Request) (*scan.Analyzer, error) {
			if b, err := os.ReadFile(req.Path); err == nil && bytes.Contains(b[:min(len(b), 4096)], []byte(crashMarker)) {
				syscall.Kill(os.Getpid(), syscall.SIGABRT)
				time.Sleep(time.Minute)
			}
			return scan.OpenRequest(os.Getenv("TRUEFRAME_DEPS"), req)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// service is a real server on a loopback port, with real worker processes.
type service struct {
	t       *testing.T
	url     string
	client  *http.Client // checks every answer against the OpenAPI document
	data    string
	store   *store.Store
	server  *Server
	admin   string // admin key
	stop    func() // stops the runner and the HTTP server
	stopped chan struct{}
}

type serviceOptions struct {
	api        Options
	jobs       jobs.Options
	noRunner   bool // accept jobs but never run them
	data       string
	hookHosts  []string
	keepRunner bool
	ledger     *ledger.Registry   // serves the provenance routes and checks
	generator  jobs.Generator     // runs generator jobs, in a runner of their own
	models     *registry.Registry // serves the model routes and picks the analyses' models
	log        io.Writer          // receives the service's log (info and up) when set
}

func startService(t *testing.T, so serviceOptions) *service {
	t.Helper()
	deps := testutil.DepsDir(t)
	if so.data == "" {
		so.data = t.TempDir()
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(so.data, "trueframe.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if so.log != nil {
		log = slog.New(slog.NewTextHandler(so.log, nil))
	}
	hooks := webhook.New(webhook.Options{AllowedHosts: append([]string{"127.0.0.1"}, so.hookHosts...)})
	m := metrics.New("test", countsAdapter{st}, log)
	pool := isolate.NewPool(isolate.PoolOptions{MaxIdle: 2,
		Worker: isolate.Options{Executable: os.Args[0], Env: []string{workerEnv + "=1", "TRUEFRAME_DEPS=" + deps}, MaxMemory: 6 << 30, Codes: scan.ErrorCodes}})
	iso := &jobs.Pooled{Pooled: scan.Pooled{Pool: pool}}
	if so.models != nil {
		iso.Models, so.api.Models = so.models, so.models
	}
	var srv *Server
	so.jobs.Payload = func(j store.Job) ([]byte, error) { return srv.WebhookBody(j) }
	if so.ledger != nil {
		so.api.Ledger = so.ledger
		so.jobs.Provenance = func(ctx context.Context, j store.Job) json.RawMessage {
			v, err := so.ledger.Verify(ctx, j.FilePath)
			if err != nil {
				t.Errorf("provenance of %s: %v", j.ID, err)
			}
			b, _ := json.Marshal(v)
			return b
		}
	}
	// The runner reads what the server stores: the directory the server
	// opens when its options name no store, unless the test gives one.
	files := so.api.Blobs
	if files == nil {
		if files, err = blobs.Open(ctx, filepath.Join(so.data, "blobs")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { files.Close() })
	}
	so.jobs.Files = &jobs.Files{Blobs: files, CacheDir: filepath.Join(so.data, "cache")}
	if so.api.Ledger != nil {
		so.jobs.Verify = VerifyWith(so.api.Ledger, log)
	}
	runner := jobs.New(st, iso, hooks, m, log, so.jobs)
	var genRunner *jobs.Runner
	if so.generator != nil {
		genRunner = jobs.New(st, nil, hooks, m, log, jobs.Options{Workers: 1, Kinds: GeneratorKinds, Generator: so.generator,
			GeneratorFiles: &jobs.GeneratorFiles{Blobs: files, CacheDir: filepath.Join(so.data, "cache")}})
		so.api.Generator = genRunner
	}
	qopts := jobs.QueueOptions{Log: log, MaxAttempts: so.jobs.MaxAttempts, PollInterval: 100 * time.Millisecond}
	if !so.noRunner {
		qopts.Analyses, qopts.Generator, qopts.Webhooks = runner, genRunner, runner
	}
	// Verifications run even when analyses do not: the route answers them.
	qopts.Verify = runner
	queue, err := jobs.NewQueue(ctx, st, qopts)
	if err != nil {
		t.Fatal(err)
	}
	so.api.DataDir = so.data
	so.api.Version = "test"
	srv = New(st, runner, hooks, m, log, so.api)
	if err := srv.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(nil)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Config = srv.HTTPServer("")
	hs.Start()

	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// The queue runs verifications even when analyses do not.
	wg.Go(func() { runner.Run(rctx) })
	wg.Go(func() {
		if err := queue.Run(rctx); err != nil {
			t.Errorf("queue: %v", err)
		}
	})
	if !so.noRunner {
		if genRunner != nil {
			wg.Go(func() { genRunner.Run(rctx) })
		}
	}
	s := &service{t: t, url: hs.URL, client: validatingClient(t), data: so.data, store: st, server: srv}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			srv.Close()
			cancel()
			wg.Wait()
			hs.Close()
			pool.Close()
			st.Close()
		})
	}
	t.Cleanup(s.stop)
	keys, _ := st.Keys(ctx)
	if len(keys) == 0 {
		_, s.admin, err = st.NewKey(ctx, "admin", store.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type countsAdapter struct{ st *store.Store }

func (a countsAdapter) Counts(ctx context.Context) (map[string]int, error) {
	c, err := a.st.Counts(ctx)
	out := map[string]int{}
	for k, v := range c {
		out[string(k)] = v
	}
	return out, err
}

// newKey creates a key through the API, as an admin would.
func (s *service) newKey(role store.Role) (token, webhookSecret string) {
	s.t.Helper()
	var out NewKeyResponse
	s.expect(s.do("POST", "/v1/keys", s.admin, "application/json", strings.NewReader(`{"name":"t","role":"`+string(role)+`"}`)), 201, &out)
	return out.Key, out.WebhookSecret
}

func (s *service) do(method, path, key, contentType string, body io.Reader) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// expect checks the status and decodes the JSON body into out (when not nil).
func (s *service) expect(resp *http.Response, status int, out any) []byte {
	s.t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		s.t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v in %s", resp.Request.Method, resp.Request.URL.Path, err, b)
		}
	}
	return b
}

// multipartBody builds an upload of content named name, plus extra fields.
func multipartBody(t *testing.T, name string, content []byte, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func (s *service) upload(key, query, name string, content []byte, fields map[string]string) *http.Response {
	s.t.Helper()
	ct, body := multipartBody(s.t, name, content, fields)
	return s.do("POST", "/v1/analyses"+query, key, ct, body)
}

// waitDone polls a job until it is done or failed.
func (s *service) waitDone(key, id string) Analysis {
	s.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var a Analysis
		s.expect(s.do("GET", "/v1/analyses/"+id+"?wait=20", key, "", nil), 200, &a)
		if a.Status == store.Done || a.Status == store.Failed {
			return a
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s still %s", id, a.Status)
		}
	}
}

func gridClip(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testutil.SharedDir(t, "data", "videos", "real", "grid", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorCode decodes the one error shape and returns its code.
func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not the error shape: %s", b)
	}
	return e.Error.Code
}

// syncBuffer is a bytes.Buffer safe for the service's goroutines to write
// while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// handled counts the requests the service has answered on a route (its
// template) with a method, from its metrics: a request is counted once its
// handler has returned.
func (s *service) handled(route, method string) int {
	s.t.Helper()
	families, err := s.server.metrics.Registry.Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		if f.GetName() != "trueframe_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["method"] == method {
				n += int(m.GetCounter().GetValue())
			}
		}
	}
	return n
}
