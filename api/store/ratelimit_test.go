package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTakeToken(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{})

		// A burst of 3 at one token a second: 3 requests pass, the 4th
		// waits about a second; another key has its own bucket.
		for i := range 3 {
			if ok, _, err := s.TakeToken(ctx, "a", 1, 3); !ok || err != nil {
				t.Fatalf("request %d of the burst refused: %v", i+1, err)
			}
		}
		ok, wait, err := s.TakeToken(ctx, "a", 1, 3)
		if ok || err != nil || wait < 800*time.Millisecond || wait > time.Second {
			t.Errorf("past the burst: ok %v, retry after %v, %v; want refused, ~1s", ok, wait, err)
		}
		if ok, _, _ := s.TakeToken(ctx, "b", 1, 3); !ok {
			t.Error("key b refused for key a's requests")
		}

		// Refill: at 20 tokens a second, a refused request is told to wait
		// ~50 ms, and after that wait it passes.
		for range 2 {
			s.TakeToken(ctx, "c", 20, 2)
		}
		ok, wait, err = s.TakeToken(ctx, "c", 20, 2)
		if ok || err != nil || wait <= 0 || wait > 50*time.Millisecond {
			t.Fatalf("empty bucket: ok %v, retry after %v, %v; want refused, ≤50ms", ok, wait, err)
		}
		time.Sleep(wait + 10*time.Millisecond)
		if ok, wait, err := s.TakeToken(ctx, "c", 20, 2); !ok || err != nil {
			t.Errorf("after the advised wait: refused (retry after %v), %v", wait, err)
		}

		if _, _, err := s.TakeToken(ctx, "d", 0, 1); err == nil {
			t.Error("a zero rate accepted")
		}
	})
}

// The bucket holds across nodes: two Stores (two API nodes) taking at
// once from a bucket of 10 get 10 tokens between them, not 10 each.
func TestTakeTokenAcrossNodes(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		nodes := []*Store{openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})}
		const burst = 10
		var granted atomic.Int32
		var wg sync.WaitGroup
		for _, n := range nodes {
			for range 8 {
				wg.Go(func() {
					for range 3 {
						ok, _, err := n.TakeToken(ctx, "shared", 0.001, burst)
						if err != nil {
							t.Error(err)
						}
						if ok {
							granted.Add(1)
						}
					}
				})
			}
		}
		wg.Wait()
		if got := granted.Load(); got != burst {
			t.Errorf("%d requests passed, want the burst of %d", got, burst)
		}
	})
}
