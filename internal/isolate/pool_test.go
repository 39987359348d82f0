package isolate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// poolRun runs one request on the pool; do picks the child's behaviour
// ("" answers, "error" reports an error, "abort" crashes, "hang" hangs).
func poolRun(t *testing.T, ctx context.Context, p *Pool, do string) (pid int, err error) {
	t.Helper()
	res, err := p.Run(ctx, KindScan, map[string]any{"N": 1, "Do": do}, nil)
	if err != nil {
		return 0, err
	}
	var out struct{ Double, Pid int }
	if err := json.Unmarshal(res, &out); err != nil || out.Double != 2 {
		t.Fatalf("result %s (%v)", res, err)
	}
	return out.Pid, nil
}

func TestPoolReusesHealthyProcesses(t *testing.T) {
	p := NewPool(PoolOptions{Worker: Options{Env: []string{"TRUEFRAME_WORKER_TEST=pool"}}, MaxUses: 3})
	defer p.Close()
	ctx := t.Context()
	first, err := poolRun(t, ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if pid, _ := poolRun(t, ctx, p, ""); pid != first {
		t.Errorf("second request ran in process %d, not the warm %d", pid, first)
	}
	// A reported error is a clean answer: the process stays.
	var we *Error
	if _, err := poolRun(t, ctx, p, "error"); !errors.As(err, &we) {
		t.Fatalf("err = %v, want *Error", err)
	}
	// That was the third use: the process is retired.
	next, err := poolRun(t, ctx, p, "")
	if err != nil || next == first {
		t.Errorf("after MaxUses, pid %d (first %d), err %v", next, first, err)
	}

	// A crash ends the process; the next request gets a fresh one.
	if _, err := poolRun(t, ctx, p, "abort"); !errors.Is(err, ErrCrashed) {
		t.Fatalf("abort: err = %v, want a crash", err)
	}
	afterCrash, err := poolRun(t, ctx, p, "")
	if err != nil || afterCrash == next {
		t.Errorf("after a crash: pid %d (crashed one was %d?), err %v", afterCrash, next, err)
	}

	// Cancelled requests kill their process.
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := poolRun(t, cctx, p, "hang"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: err = %v, want deadline", err)
	}
	afterCancel, err := poolRun(t, ctx, p, "")
	if err != nil || afterCancel == afterCrash {
		t.Errorf("after a cancel: pid %d, err %v", afterCancel, err)
	}

	// An idle process killed from outside is replaced, not used.
	syscall.Kill(afterCancel, syscall.SIGKILL)
	waitFor(t, "the killed idle process to be seen dead", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.idle) == 1 && !p.idle[0].alive()
	})
	if pid, err := poolRun(t, ctx, p, ""); err != nil || pid == afterCancel {
		t.Errorf("after the idle process was killed: pid %d, err %v", pid, err)
	}
}

func TestPoolClose(t *testing.T) {
	p := NewPool(PoolOptions{Worker: Options{Env: []string{"TRUEFRAME_WORKER_TEST=pool"}}})
	pid, err := poolRun(t, t.Context(), p, "")
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	// Reaped processes are gone; a slow exit takes a moment.
	waitFor(t, fmt.Sprintf("idle worker %d to be gone after Close", pid), func() bool { return syscall.Kill(pid, 0) != nil })
	if _, err := p.Run(t.Context(), KindScan, map[string]int{"N": 1}, nil); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Run after Close: %v", err)
	}
}

func TestPoolMaxBusy(t *testing.T) {
	p := NewPool(PoolOptions{Worker: Options{Env: []string{"TRUEFRAME_WORKER_TEST=pool"}}, MaxBusy: 1})
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	hung := make(chan error, 1)
	go func() {
		_, err := p.Run(ctx, KindScan, map[string]any{"N": 1, "Do": "hang"}, nil)
		hung <- err
	}()
	waitFor(t, "the hanging request to hold the only slot", func() bool { return len(p.slots) == 1 })
	short, cancelShort := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancelShort()
	if _, err := p.Run(short, KindScan, map[string]any{"N": 1}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second request with the slot taken: err = %v, want to wait and time out", err)
	}
	cancel()
	<-hung
	if _, err := poolRun(t, t.Context(), p, ""); err != nil {
		t.Errorf("after the slot was freed: %v", err)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}
