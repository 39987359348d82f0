package jobs

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

type noCounts struct{}

func (noCounts) Counts(context.Context) (map[string]int, error) { return map[string]int{}, nil }

// hookRunner is a Runner that only sends webhooks, with its River queue
// of deliveries, on a fresh database.
func hookRunner(t *testing.T, hooks *webhook.Client, opts Options) (*Runner, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "trueframe.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.Kinds = []string{"nothing"}
	opts.Workers = 1
	opts.Payload = func(j store.Job) ([]byte, error) { return []byte(`{"id":"` + j.ID + `"}`), nil }
	r := New(st, nil, hooks, metrics.New("test", noCounts{}, log), log, opts)
	q, err := NewQueue(t.Context(), st, QueueOptions{Webhooks: r, PollInterval: 50 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { q.Run(ctx) })
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		st.Close()
	})
	return r, st
}

// finish ends a job of the test's as its runner would: taken, then done
// or failed, which queues its webhook.
func finish(t *testing.T, st *store.Store, j store.Job, failCode string) {
	t.Helper()
	if err := st.CreateJob(t.Context(), &j); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Take(t.Context(), j.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	var err error
	if failCode != "" {
		err = st.Fail(t.Context(), j.ID, failCode, "cut short")
	} else {
		err = st.Complete(t.Context(), j.ID, []byte(`{}`))
	}
	if err != nil {
		t.Fatal(err)
	}
}

func webhookOf(t *testing.T, st *store.Store, id string) store.Webhook {
	t.Helper()
	j, err := st.Job(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j.Webhook
}

func waitAttempt(t *testing.T, st *store.Store, id string) store.Webhook {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if w := webhookOf(t, st, id); w.Attempts > 0 {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery attempt for %s", id)
		}
	}
}

// A key could probe the service's network through its jobs' webhook
// status: last_error told a name that does not resolve from a closed port
// from a private address, with the address and port. It now says only
// whether the receiver answered, and what.
func TestWebhookErrorsAreCoarse(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/hook"
	closed.Close()                                  // nothing listens there now
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer refusing.Close()

	hooks := webhook.New(webhook.Options{AllowedHosts: []string{"127.0.0.1", "no-such-host.invalid"}, Timeout: 500 * time.Millisecond})
	_, st := hookRunner(t, hooks, Options{})
	// The deliveries need the job's key for its secret.
	k, _, err := st.NewKey(t.Context(), "owner", store.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]string{
		"an_000000000000000000000001": closedURL,                                    // connection refused
		"an_000000000000000000000002": "http://no-such-host.invalid/hook",           // no such name
		"an_000000000000000000000003": "http://" + silent.Addr().String() + "/hook", // no answer: timeout
		"an_000000000000000000000004": refusing.URL + "/hook",                       // answers 503
	}
	for id, url := range jobs {
		finish(t, st, store.Job{ID: id, KeyID: k.ID, Kind: "test", FileName: "f", CallbackURL: url}, "")
	}
	unreachable := ""
	for _, id := range []string{"an_000000000000000000000001", "an_000000000000000000000002", "an_000000000000000000000003"} {
		w := waitAttempt(t, st, id)
		for _, leak := range []string{"127.0.0.1", "invalid", "dial", "lookup", "refused", "timeout", "no such host", strings.TrimPrefix(jobs[id], "http://")} {
			if strings.Contains(w.LastError, leak) {
				t.Errorf("%s: last_error %q shows %q", jobs[id], w.LastError, leak)
			}
		}
		if unreachable == "" {
			unreachable = w.LastError
		}
		if w.LastError == "" || w.LastError != unreachable {
			t.Errorf("%s: last_error %q; every unreachable receiver should read the same (%q)", jobs[id], w.LastError, unreachable)
		}
	}
	if w := waitAttempt(t, st, "an_000000000000000000000004"); !strings.Contains(w.LastError, "503") || w.LastCode != 503 {
		t.Errorf("a receiver that answered 503: %+v", w)
	}
}

// Webhooks were delivered one at a time: a receiver that takes its time
// held back every other job's delivery until its timeout. A slow receiver
// now holds one delivery, not the queue.
func TestSlowReceiverDoesNotHoldOthers(t *testing.T) {
	fastArrived := make(chan struct{})
	slowSaw := make(chan string, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers only once the other receiver has its delivery, or when
		// the sender gives up on this one.
		select {
		case <-fastArrived:
			slowSaw <- "the other delivery arrived first"
		case <-r.Context().Done():
			slowSaw <- "the sender gave up waiting"
		case <-time.After(time.Minute):
			slowSaw <- "nothing happened for a minute"
		}
	}))
	defer slow.Close()
	var once sync.Once
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(fastArrived) })
	}))
	defer fast.Close()

	hooks := webhook.New(webhook.Options{AllowedHosts: []string{"127.0.0.1"}, Timeout: 5 * time.Second})
	_, st := hookRunner(t, hooks, Options{})
	k, _, err := st.NewKey(t.Context(), "owner", store.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	// The slow receiver's job finished first: it is due first.
	for _, j := range []store.Job{
		{ID: "an_000000000000000000000011", KeyID: k.ID, Kind: "test", FileName: "f", CallbackURL: slow.URL + "/hook"},
		{ID: "an_000000000000000000000012", KeyID: k.ID, Kind: "test", FileName: "f", CallbackURL: fast.URL + "/hook"},
	} {
		finish(t, st, j, "")
		time.Sleep(2 * time.Millisecond) // queued in this order
	}
	// Sent one at a time, the slow delivery times out before the other is
	// sent; sent side by side, the other arrives and the slow one is
	// answered.
	if w := waitAttempt(t, st, "an_000000000000000000000011"); w.State != store.WebhookDelivered {
		t.Errorf("the slow receiver's delivery: %+v (%s)", w, <-slowSaw)
	}
	if w := waitAttempt(t, st, "an_000000000000000000000012"); w.State != store.WebhookDelivered {
		t.Errorf("the fast receiver's delivery: %+v", w)
	}
}

// A failed job's webhook says so in its event, and every attempt of one
// delivery carries the same delivery id (receivers deduplicate by it)
// with its attempt number.
func TestWebhookEventAndDeliveryID(t *testing.T) {
	type seen struct{ event, id, attempt string }
	got := make(chan seen, 4)
	calls := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("X-Trueframe-Event"), r.Header.Get("X-Trueframe-Delivery"), r.Header.Get("X-Trueframe-Attempt")}
		if calls++; calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer receiver.Close()
	hooks := webhook.New(webhook.Options{AllowedHosts: []string{"127.0.0.1"}})
	_, st := hookRunner(t, hooks, Options{})
	k, _, err := st.NewKey(t.Context(), "owner", store.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	finish(t, st, store.Job{ID: "an_000000000000000000000021", KeyID: k.ID, Kind: "test", FileName: "f", CallbackURL: receiver.URL}, "truncated")
	first, second := <-got, <-got
	if first.event != "analysis.failed" || second.event != "analysis.failed" {
		t.Errorf("events %q, %q; want analysis.failed", first.event, second.event)
	}
	if first.id == "" || first.id != second.id || first.attempt != "1" || second.attempt != "2" {
		t.Errorf("deliveries %+v then %+v: want one id, attempts 1 and 2", first, second)
	}
}

// Job durations are by kind: generator jobs last hours and must not
// share the analyses' histogram.
func TestJobMetricsByKind(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New("test", noCounts{}, log)
	m.JobSeconds.WithLabelValues(store.KindAnalysis, "done").Observe(1)
	m.JobSeconds.WithLabelValues("generate.train", "done").Observe(3600)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range families {
		if f.GetName() != "trueframe_job_duration_seconds" {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "kind" {
					kinds[l.GetValue()] = true
				}
			}
		}
	}
	if !kinds[store.KindAnalysis] || !kinds["generate.train"] {
		t.Errorf("job duration kinds: %v", kinds)
	}
}
