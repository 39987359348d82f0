package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

// fakeStore is an in-memory Store: one key per token, jobs in a map, and
// an error to return from every job query when err is set.
type fakeStore struct {
	mu     sync.Mutex
	keys   map[string]store.Key // by token
	jobs   map[string]store.Job
	err    error         // returned by the job queries when set
	jobHit chan struct{} // when set, every Job call sends on it first
}

func newFakeStore() *fakeStore {
	return &fakeStore{keys: map[string]store.Key{}, jobs: map[string]store.Job{}}
}

func (f *fakeStore) Ping(context.Context) error { return nil }

func (f *fakeStore) Authenticate(_ context.Context, token string) (store.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k, ok := f.keys[token]; ok {
		return k, nil
	}
	return store.Key{}, store.ErrBadToken
}

func (f *fakeStore) NewKey(context.Context, string, store.Role) (store.Key, string, error) {
	return store.Key{}, "", errors.New("fake store: no new keys")
}
func (f *fakeStore) Keys(context.Context) ([]store.Key, error) { return nil, nil }
func (f *fakeStore) RevokeKey(context.Context, string) error   { return store.ErrNotFound }

func (f *fakeStore) CreateJob(_ context.Context, j *store.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs[j.ID] = *j
	return nil
}

func (f *fakeStore) Job(_ context.Context, id string) (store.Job, error) {
	if f.jobHit != nil {
		f.jobHit <- struct{}{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.Job{}, f.err
	}
	j, ok := f.jobs[id]
	if !ok {
		return store.Job{}, store.ErrNotFound
	}
	return j, nil
}

func (f *fakeStore) Jobs(context.Context, string, []string, int64, int) ([]store.Job, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return nil, 0, f.err
}

func (f *fakeStore) DeleteJob(_ context.Context, id string) (store.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	delete(f.jobs, id)
	if !ok {
		return j, store.ErrNotFound
	}
	return j, nil
}

func (f *fakeStore) Waiting(context.Context, ...string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 0, f.err
}

func (f *fakeStore) WaitingFor(context.Context, string, ...string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return 0, f.err
}

func (f *fakeStore) SetOriginalOwner(context.Context, string, string) error { return nil }
func (f *fakeStore) OriginalOwner(context.Context, string) (string, error) {
	return "", store.ErrNotFound
}

func (f *fakeStore) Counts(context.Context) (map[string]int, error) { return map[string]int{}, nil }

// TakeToken never limits: the limit's tests run on the real store.
func (f *fakeStore) TakeToken(context.Context, string, float64, int) (bool, time.Duration, error) {
	return true, 0, nil
}

// Uploads in progress: the handler tests here upload nothing.
func (f *fakeStore) BeginUpload(context.Context, string, string, bool, int) (int, error) {
	return 1, nil
}
func (f *fakeStore) TouchUpload(context.Context, string) error                   { return nil }
func (f *fakeStore) EndUpload(context.Context, string) error                     { return nil }
func (f *fakeStore) AnalysesUploading(context.Context, string) (int, int, error) { return 1, 1, nil }

// idleRunner is a Runner that never runs anything.
type idleRunner struct{}

func (idleRunner) Finished() <-chan struct{}     { return nil }
func (idleRunner) Cancel(string) <-chan struct{} { return nil }

// fakeServer is a Server on the fake store, answering through httptest,
// with no database, worker or chain behind it.
func fakeServer(t *testing.T, st *fakeStore, opts Options) (*Server, string) {
	t.Helper()
	st.keys["tf_admin"] = store.Key{ID: "admin0000000000a", Role: store.RoleAdmin}
	st.keys["tf_analyst"] = store.Key{ID: "analyst00000000a", Role: store.RoleAnalyst}
	log := slog.New(slog.DiscardHandler)
	opts.DataDir = t.TempDir()
	srv := New(st, idleRunner{}, webhook.New(webhook.Options{}), metrics.New("fake", st, log), log, opts)
	if err := srv.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.SetReady(nil)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() { srv.Close() })
	return srv, hs.URL
}

func TestHandlersWithFakeStore(t *testing.T) {
	st := newFakeStore()
	_, url := fakeServer(t, st, Options{})
	client := validatingClient(t)
	get := func(path, token string) (int, ErrorBody, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e ErrorBody
		json.Unmarshal(b, &e)
		return resp.StatusCode, e, b
	}
	st.jobs["an_000000000000000000000001"] = store.Job{ID: "an_000000000000000000000001", KeyID: "admin0000000000a",
		Kind: store.KindAnalysis, State: store.Queued, FileName: "a.mp4", CreatedAt: time.Now()}

	// Another key's job does not exist, for the analyst; the admin sees it.
	if status, e, _ := get("/v1/analyses/an_000000000000000000000001", "tf_analyst"); status != 404 || e.Error.Code != codeNotFound {
		t.Errorf("another key's job: %d %+v", status, e)
	}
	if status, _, b := get("/v1/analyses/an_000000000000000000000001", "tf_admin"); status != 200 {
		t.Errorf("admin: %d %s", status, b)
	}

	// A database that fails is the service's fault, and what it said stays
	// in the logs.
	st.mu.Lock()
	st.err = errors.New("sqlite: disk I/O error at /srv/trueframe/trueframe.db")
	st.mu.Unlock()
	for _, path := range []string{"/v1/analyses", "/v1/analyses/an_000000000000000000000001"} {
		status, e, b := get(path, "tf_admin")
		if status != 500 || e.Error.Code != codeInternal || e.Error.RequestID == "" || strings.Contains(string(b), "/srv/") {
			t.Errorf("%s with a failing store: %d %s", path, status, b)
		}
	}
}

// TestCloseAnswersWaitingRequests: a request waiting for a job (?wait) is
// answered as soon as the server closes, with the job as it is, and the
// server is no longer ready.
func TestCloseAnswersWaitingRequests(t *testing.T) {
	st := newFakeStore()
	srv, url := fakeServer(t, st, Options{MaxWait: time.Hour})
	client := validatingClient(t)
	st.jobs["an_000000000000000000000002"] = store.Job{ID: "an_000000000000000000000002", KeyID: "admin0000000000a",
		Kind: store.KindAnalysis, State: store.Running, FileName: "a.mp4", CreatedAt: time.Now()}

	st.jobHit = make(chan struct{})
	type answer struct {
		status int
		a      Analysis
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("GET", url+"/v1/analyses/an_000000000000000000000002?wait=3600", nil)
		req.Header.Set("Authorization", "Bearer tf_admin")
		resp, err := client.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		var a Analysis
		err = json.NewDecoder(resp.Body).Decode(&a)
		answers <- answer{resp.StatusCode, a, err}
	}()
	<-st.jobHit // the handler has read the job
	<-st.jobHit // and waits (it reads the job again before it waits)
	srv.Close()
	var got answer
	select {
	case got = <-answers:
	case <-time.After(time.Minute): // far beyond an answer, far short of the hour's wait
		t.Fatal("Close did not end the waiting request")
	}
	if got.err != nil || got.status != 200 || got.a.Status != store.Running {
		t.Errorf("the waiting request got %d %+v (%v)", got.status, got.a, got.err)
	}
	resp, err := client.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("readyz after Close: %d", resp.StatusCode)
	}
	srv.SetReady(nil) // a late probe does not revive a closed server
	if resp, _ := client.Get(url + "/readyz"); resp.StatusCode != 503 {
		t.Errorf("readyz after Close and SetReady(nil): %d", resp.StatusCode)
	}
	srv.Close() // twice is harmless
}
