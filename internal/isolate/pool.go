package isolate

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
)

// Pool keeps worker processes warm between requests, so that each request
// does not pay for starting a process and loading models. A process serves
// one request at a time; one that crashes or is cancelled is discarded, and
// one that has served MaxUses requests is retired, so that a slow leak in a
// C library cannot grow without bound.
type Pool struct {
	opts    Options
	maxUses int
	slots   chan struct{} // one per running request; nil: unbounded

	mu     sync.Mutex
	idle   []*process
	closed bool
}

// PoolOptions configure a Pool.
type PoolOptions struct {
	Worker Options
	// MaxIdle is how many idle processes are kept (default 1); more are
	// stopped when they finish.
	MaxIdle int
	// MaxUses retires a process after this many requests (default 100).
	MaxUses int
	// MaxBusy bounds the requests running at once, so the processes
	// (each up to Worker.MaxMemory) are bounded too; Run waits for a slot.
	// 0: unbounded, the callers bound the concurrency.
	MaxBusy int
}

// ErrPoolClosed is returned by Run after Close.
var ErrPoolClosed = errors.New("isolate: pool closed")

// NewPool returns an empty pool; processes start on demand.
func NewPool(opts PoolOptions) *Pool {
	if opts.MaxIdle <= 0 {
		opts.MaxIdle = 1
	}
	if opts.MaxUses <= 0 {
		opts.MaxUses = 100
	}
	p := &Pool{opts: opts.Worker, maxUses: opts.MaxUses, idle: make([]*process, 0, opts.MaxIdle)}
	if opts.MaxBusy > 0 {
		p.slots = make(chan struct{}, opts.MaxBusy)
	}
	return p
}

// Run is like the package's Run, on a warm process when one is idle. It
// starts a process when none is idle, waiting first for a slot when
// MaxBusy is set.
func (p *Pool) Run(ctx context.Context, kind Kind, request any, progress func(float64)) (json.RawMessage, error) {
	env, err := encodeRequest(p.opts, kind, request)
	if err != nil {
		return nil, err
	}
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
			defer func() { <-p.slots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	proc, err := p.get()
	if err != nil {
		return nil, err
	}
	res, err := proc.do(ctx, kind, env, progress)
	var reported *Error
	// A clean answer leaves the process fine, unless ctx ended meanwhile:
	// the watcher may have killed it just as the answer came.
	if (err == nil || errors.As(err, &reported)) && ctx.Err() == nil {
		p.put(proc)
	} else {
		proc.kill() // crashed or cancelled: never reused
		proc.stop()
	}
	return res, err
}

func (p *Pool) get() (*process, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		proc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if proc.alive() {
			p.mu.Unlock()
			return proc, nil
		}
		go proc.stop() // died while idle (killed from outside)
	}
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, ErrPoolClosed
	}
	return startProcess(p.opts)
}

func (p *Pool) put(proc *process) {
	p.mu.Lock()
	keep := !p.closed && proc.uses < p.maxUses && len(p.idle) < cap(p.idle)
	if keep {
		p.idle = append(p.idle, proc)
	}
	p.mu.Unlock()
	if !keep {
		go proc.stop()
	}
}

// Close stops the idle processes; processes busy now are stopped when
// their request ends.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, proc := range idle {
		wg.Go(proc.stop)
	}
	wg.Wait()
	return nil
}
