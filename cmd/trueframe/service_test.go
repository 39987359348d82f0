package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// events records what the components of a test service did, in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log)
}

// waiter is a component that runs until cancelled and notes its stop;
// started is done once it runs.
func waiter(ev *events, name string, started *sync.WaitGroup) func(context.Context) error {
	started.Add(1)
	return func(ctx context.Context) error {
		started.Done()
		<-ctx.Done()
		ev.add("stop " + name)
		return nil
	}
}

// A service stops its components in the reverse order of their start, each
// after the later one has returned (the HTTP server drains first, the
// queue gives its jobs back, then the ledger), and Close frees what it
// opened in the reverse order; asked to stop, Run returns nil.
func TestServiceStopsInReverseOrder(t *testing.T) {
	ev := &events{}
	s := &service{log: slog.New(slog.DiscardHandler)}
	s.closing(func() error { ev.add("close store"); return nil })
	s.closing(func() error { ev.add("close ledger"); return errors.New("index busy") })
	var started sync.WaitGroup
	s.start("ledger", waiter(ev, "ledger", &started), nil)
	started.Add(1)
	s.start("queue", func(ctx context.Context) error {
		started.Done()
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // giving the jobs back takes a while
		ev.add("stop queue")
		return errors.New("jobs: stopping the queue: timeout")
	}, nil)
	s.start("probe", func(context.Context) error { ev.add("ready"); return nil }, nil) // returns at once

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inHandler, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inHandler)
		<-release
		ev.add("request answered")
	})}
	s.serveHTTP(ln, srv, func() { ev.add("notice"); close(release) })

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	started.Wait()
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	<-inHandler
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run after cancel: %v, want nil (errors while stopping are logged)", err)
	}
	if err := <-got; err != nil {
		t.Errorf("the request in flight was not answered: %v", err)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "index busy") {
		t.Errorf("Close: %v, want the ledger's error", err)
	}
	if err := s.Close(); err == nil {
		t.Errorf("Close again: nil, want the same error")
	}
	want := []string{"ready", "notice", "request answered", "stop queue", "stop ledger", "close ledger", "close store"}
	if got := ev.get(); !slices.Equal(got, want) {
		t.Errorf("events\n%q, want\n%q", got, want)
	}
}

// A component that fails stops the others, in order, and Run returns its
// error.
func TestServiceStopsOnFailure(t *testing.T) {
	ev := &events{}
	s := &service{log: slog.New(slog.DiscardHandler)}
	var started sync.WaitGroup
	s.start("ledger", waiter(ev, "ledger", &started), nil)
	s.start("queue", waiter(ev, "queue", &started), nil)
	s.start("runner", func(context.Context) error {
		started.Wait()
		return errors.New("database gone")
	}, nil)
	s.start("http", waiter(ev, "http", &started), nil)
	err := s.Run(context.Background())
	if err == nil || err.Error() != "runner: database gone" {
		t.Errorf("Run: %v, want the runner's failure", err)
	}
	if got, want := ev.get(), []string{"stop http", "stop queue", "stop ledger"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}
