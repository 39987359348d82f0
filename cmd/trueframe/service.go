package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// service is a node as serve or worker built it: components that run
// until stopped, and what they use, closed after them. Run runs it; Close
// frees what it opened, whether or not it ran.
type service struct {
	log        *slog.Logger
	components []component
	closers    []func() error
	closeOnce  sync.Once
	closeErr   error
}

// component is a part of a service that runs until stopped: the ledger's
// batcher, a job runner, the queue, the HTTP server.
type component struct {
	name string
	// run runs until ctx is cancelled, or until stop makes it return.
	run func(ctx context.Context) error
	// stop, when set, makes run return where cancelling ctx does not: an
	// HTTP server drains its requests.
	stop func() error
}

// start adds a component to run. Components stop in the reverse order of
// their start: what others use is started first and stopped last.
func (s *service) start(name string, run func(context.Context) error, stop func() error) {
	s.components = append(s.components, component{name, run, stop})
}

// closing adds what Close frees, in the reverse order of the calls.
func (s *service) closing(close func() error) { s.closers = append(s.closers, close) }

// Run runs the components until ctx ends or one fails, then stops them
// one after the other in the reverse order of their start, each once the
// one started after it has returned. It returns the failure that stopped
// the service; errors while stopping are only logged, so that a service
// asked to stop exits cleanly.
func (s *service) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	cancels := make([]context.CancelFunc, len(s.components))
	done := make([]chan struct{}, len(s.components))
	for i, c := range s.components {
		// Not ctx's child: a component runs until its turn to stop, so
		// that requests still in flight reach the ones behind the server.
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cancels[i], done[i] = cancel, make(chan struct{})
		g.Go(func() error {
			defer close(done[i])
			err := c.run(cctx)
			if err != nil && cctx.Err() != nil {
				s.log.Error("stopping", "component", c.name, "err", err)
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		s.log.Info("stopping")
		for i, c := range slices.Backward(s.components) {
			cancels[i]()
			if c.stop != nil {
				if err := c.stop(); err != nil {
					s.log.Error("stopping", "component", c.name, "err", err)
				}
			}
			<-done[i]
		}
		return nil
	})
	err := g.Wait()
	s.log.Info("stopped")
	return err
}

// serveHTTP starts srv on ln as the service's last component, the first to
// stop: before gives notice (readiness turns 503, long polls are answered
// now), then the server drains its requests for at most 15 s.
func (s *service) serveHTTP(ln net.Listener, srv *http.Server, before func()) {
	s.start("http", func(context.Context) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func() error {
		before()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
}

// Close frees what the service opened, in the reverse order of opening,
// once Run has returned. Calling it again does nothing.
func (s *service) Close() error {
	s.closeOnce.Do(func() {
		for _, close := range slices.Backward(s.closers) {
			s.closeErr = errors.Join(s.closeErr, close())
		}
	})
	return s.closeErr
}
