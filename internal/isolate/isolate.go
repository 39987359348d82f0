package isolate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Error is a failure the child reported itself: the work of kind Kind
// failed cleanly, and another try would fail the same way. Code
// classifies it (see Codes), and the error unwraps to the sentinel Code
// stands for in the parent's Codes, if any.
type Error struct {
	Kind    Kind   `json:"-"` // the parent knows what it asked for
	Code    string `json:"code"`
	Message string `json:"message"`
	err     error  // the sentinel of Code
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.err }

// CrashError reports a child that died without reporting a result.
type CrashError struct {
	Kind     Kind   // the work it was doing
	ExitCode int    // -1 when killed by a signal
	Signal   string // e.g. "aborted", "segmentation fault", "killed"
	// Reason is the runtime's own account of the death when it gave one
	// ("SIGABRT: abort", "fatal error: runtime: out of memory"): Go turns a
	// fatal signal in C code into a dump and exit status 2.
	Reason string
	// OutOfMemory is set when the child ran out of its memory limit or was
	// killed the way the kernel's OOM killer kills.
	OutOfMemory bool
	Output      string // the tail of the child's stdout and stderr
}

func (e *CrashError) Error() string {
	var b strings.Builder
	switch e.Kind {
	case KindGenerate:
		b.WriteString("generator command crashed")
	case "":
		b.WriteString("worker crashed")
	default:
		b.WriteString(string(e.Kind) + " worker crashed")
	}
	if e.Signal != "" {
		b.WriteString(" (" + e.Signal + ")")
	} else {
		fmt.Fprintf(&b, " (exit status %d)", e.ExitCode)
	}
	switch {
	case e.Reason != "":
		b.WriteString(": " + e.Reason)
	case e.OutOfMemory:
		b.WriteString(": out of memory")
	default:
		if line := lastLine(e.Output); line != "" {
			b.WriteString(": " + line)
		}
	}
	return b.String()
}

// ErrCrashed matches every *CrashError with errors.Is.
var ErrCrashed = errors.New("worker crashed")

func (e *CrashError) Is(target error) bool { return target == ErrCrashed }

// Options configures Run. The zero value runs os.Executable() with no
// arguments and no memory limit.
type Options struct {
	Executable string   // default: this binary
	Args       []string // e.g. {"isolate"}
	Env        []string // environment added to the little the child inherits (see ChildEnv)
	// MaxMemory caps the child's address space in bytes (0: no cap). The
	// child applies it to itself before the work starts.
	MaxMemory int64
	// OutputTail is how many bytes of the child's output to keep (default 8 KiB).
	OutputTail int
	// Codes are the sentinels the child's reported failures unwrap to: the
	// table the child's Serve classifies them with.
	Codes Codes
}

// envelope is one request on the wire.
type envelope struct {
	Kind      Kind            `json:"kind"`
	MaxMemory int64           `json:"max_memory,omitempty"`
	Request   json.RawMessage `json:"request"`
}

type message struct {
	Progress *float64        `json:"progress,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    *Error          `json:"error,omitempty"`
}

// Run starts a child for this one request of kind kind, sends it and
// waits for the answer, calling progress (if not nil) with values in [0,1]
// as the child reports them. A failure the child reports is an *Error, a
// death a *CrashError. On ctx's end the child is killed and ctx.Err()
// returned.
func Run(ctx context.Context, opts Options, kind Kind, request any, progress func(float64)) (json.RawMessage, error) {
	env, err := encodeRequest(opts, kind, request)
	if err != nil {
		return nil, err
	}
	p, err := startProcess(opts)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	return p.do(ctx, kind, env, progress)
}

func encodeRequest(opts Options, kind Kind, request any) ([]byte, error) {
	req, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	env, err := json.Marshal(envelope{Kind: kind, MaxMemory: opts.MaxMemory, Request: req})
	if err != nil {
		return nil, err
	}
	return append(env, '\n'), nil
}

// process is one running child. It serves requests one at a time until
// its stdin is closed.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   *bufio.Scanner
	msgR   *os.File
	output *tail
	codes  Codes
	exited chan struct{} // closed once the child is gone and reaped
	uses   int
}

// startChild starts cmd in its own process group, so that a kill reaches
// the child's children too, and with SIGKILL as its death signal, so that a
// dead service leaves no child running. The death signal is tied to the OS
// thread that starts the child, so that thread is held for the start.
// Every child that decodes untrusted input starts here: the workers and
// the commands.
func startChild(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Start()
}

// newTail returns a writer for a child's stdout and stderr that keeps the
// last max bytes (8 KiB when max <= 0) and the first fatal and
// out-of-memory lines, for crashOf.
func newTail(max int) *tail {
	if max <= 0 {
		max = 8 << 10
	}
	return &tail{max: max}
}

func startProcess(opts Options) (*process, error) {
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	msgR, msgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := &process{msgR: msgR, output: newTail(opts.OutputTail), codes: opts.Codes, exited: make(chan struct{})}
	cmd := exec.Command(exe, opts.Args...)
	cmd.Env = ChildEnv(append(opts.Env, messageFDEnv+"=3")...)
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		msgR.Close()
		msgW.Close()
		return nil, err
	}
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	cmd.ExtraFiles = []*os.File{msgW}
	err = startChild(cmd)
	msgW.Close() // the child holds its copy; EOF on msgR means the child is gone
	if err != nil {
		msgR.Close()
		return nil, fmt.Errorf("starting worker: %w", err)
	}
	p.cmd = cmd
	p.msgs = bufio.NewScanner(msgR)
	p.msgs.Buffer(make([]byte, 64<<10), 256<<20)
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// alive reports whether the child is still running.
func (p *process) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *process) kill() { syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }

// stop ends the child: stdin closed, so a healthy child exits on its own;
// killed if it does not within a few seconds.
func (p *process) stop() {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.kill()
		<-p.exited
	}
	p.msgR.Close()
}

// do sends one encoded request of kind kind and reads messages until its
// answer. A *CrashError means the child died; it must not be used again
// then, nor after ctx ended (it was killed).
func (p *process) do(ctx context.Context, kind Kind, env []byte, progress func(float64)) (json.RawMessage, error) {
	p.uses++
	// An allocation failure an earlier request survived (a codec refusing a
	// huge frame, say) says nothing about why this one dies.
	p.output.forgetMemoryErrors()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			p.kill()
		case <-done:
		}
	}()
	// A write error means the child is dead: the reads below say how.
	p.stdin.Write(env)
	for p.msgs.Scan() {
		var m message
		if err := json.Unmarshal(p.msgs.Bytes(), &m); err != nil {
			continue // a torn last line of a dying child
		}
		switch {
		case m.Progress != nil:
			if progress != nil {
				progress(*m.Progress)
			}
		case m.Result != nil:
			return m.Result, nil
		case m.Error != nil:
			return nil, p.codes.Error(kind, m.Error.Code, m.Error.Message)
		}
	}
	<-p.exited
	if ctx.Err() != nil {
		// Killed by us (or dying anyway): the cancellation is the answer.
		return nil, ctx.Err()
	}
	return nil, crashOf(kind, p.cmd.ProcessState, p.output)
}

// crashOf describes a dead child from its exit status and what its
// output's tail kept: the last bytes, its first fatal line and whether it
// reported running out of memory.
func crashOf(kind Kind, ps *os.ProcessState, t *tail) *CrashError {
	output, fatal, oom := t.String(), t.Fatal(), t.OutOfMemory()
	ce := &CrashError{Kind: kind, ExitCode: ps.ExitCode(), Output: output}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		ce.Signal = ws.Signal().String()
		// The kernel's OOM killer sends SIGKILL; nobody else here does.
		ce.OutOfMemory = ws.Signal() == syscall.SIGKILL
	}
	if fatal != "" {
		ce.Reason = strings.TrimSpace(fatal)
	} else if m := fatalLine.FindStringSubmatch(output); m != nil {
		ce.Reason = strings.TrimSpace(m[1])
	}
	if oom {
		ce.OutOfMemory = true
	}
	return ce
}

// Func does one kind of work in the child: it decodes the request, reports
// progress and returns a JSON-encodable result.
type Func func(ctx context.Context, request json.RawMessage, progress func(float64)) (any, error)

// Serve is the child's side: it reads requests from in one after another
// until EOF, applies the memory limit (once: it is process-wide), runs the
// Func mux has for each request's kind and writes its messages to fd 3.
// codes classify a failure for the parent (see Codes); a kind mux lacks is
// reported as ErrUnknownKind.
func Serve(ctx context.Context, in io.Reader, mux Mux, codes Codes) error {
	// Only a child started by Run has the message pipe on fd 3; run by hand,
	// fd 3 may be anything, and writing to it would corrupt it.
	var st syscall.Stat_t
	if os.Getenv(messageFDEnv) != "3" || syscall.Fstat(3, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return errors.New("isolate: no message pipe on fd 3 (the worker is started by trueframe, not by hand)")
	}
	out := os.NewFile(3, "worker-messages")
	defer out.Close()
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	send := func(m message) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(m)
	}
	dec := json.NewDecoder(in)
	limited := false
	for {
		var env envelope
		if err := dec.Decode(&env); err == io.EOF {
			return nil // the parent closed stdin: no more work
		} else if err != nil {
			return fmt.Errorf("isolate: reading request: %w", err)
		}
		if env.MaxMemory > 0 && !limited {
			lim := syscall.Rlimit{Cur: uint64(env.MaxMemory), Max: uint64(env.MaxMemory)}
			if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
				return fmt.Errorf("isolate: memory limit: %w", err)
			}
			limited = true
		}
		var last time.Time
		progress := func(p float64) {
			// Progress is advisory: at most ten messages a second.
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || p >= 1 {
				last = now
				send(message{Progress: &p})
			}
		}
		if err := send(answer(ctx, mux, codes, env, progress)); err != nil {
			return err
		}
	}
}

func answer(ctx context.Context, mux Mux, codes Codes, env envelope, progress func(float64)) message {
	fn, ok := mux[env.Kind]
	if !ok {
		return message{Error: &Error{Code: codeUnknownKind, Message: fmt.Sprintf("%v %q", ErrUnknownKind, env.Kind)}}
	}
	res, err := runRecovered(ctx, fn, env.Request, progress)
	if err != nil {
		return message{Error: &Error{Code: codes.Of(err), Message: err.Error()}}
	}
	data, err := json.Marshal(res)
	if err != nil {
		return message{Error: &Error{Code: codeInternal, Message: err.Error()}}
	}
	return message{Result: data}
}

// runRecovered runs fn, turning a Go panic into an error that names it, so
// the parent gets the reason rather than a stack dump to dig through.
func runRecovered(ctx context.Context, fn Func, req json.RawMessage, progress func(float64)) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("worker panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx, req, progress)
}

// messageFDEnv tells a child that Run gave it the message pipe on fd 3.
const messageFDEnv = "TRUEFRAME_WORKER_FD"

// tail keeps the last max bytes written to it, the first line that
// reports a fatal error, and whether any line reported running out of
// memory: a crash dump can be far longer than the tail (a goroutine and
// register dump follow the "SIGABRT: abort" line, and OpenCV's or the C++
// runtime's allocation failure comes before it).
type tail struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	line  []byte // the current incomplete line, up to 1 KiB
	fatal string
	oom   bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	// Lines are kept only up to 1 KiB; a marker further along a long line
	// is still in the chunk that brought it.
	if !t.oom {
		t.oom = reportsOutOfMemory(string(p))
	}
	for _, c := range p {
		if c != '\n' {
			if len(t.line) < 1<<10 {
				t.line = append(t.line, c)
			}
			continue
		}
		t.scanLine()
		t.line = t.line[:0]
	}
	return len(p), nil
}

func (t *tail) scanLine() {
	if t.fatal == "" {
		if m := fatalLine.FindSubmatch(t.line); m != nil {
			t.fatal = string(m[1])
		}
	}
	if !t.oom {
		t.oom = reportsOutOfMemory(string(t.line))
	}
}

// forgetMemoryErrors clears what OutOfMemory remembers, at the start of a
// request.
func (t *tail) forgetMemoryErrors() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.oom = false
}

// Fatal returns the first fatal-error line written, or "".
func (t *tail) Fatal() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fatal
}

// OutOfMemory reports whether any line, the unfinished last one included,
// reported an allocation failure.
func (t *tail) OutOfMemory() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.oom || reportsOutOfMemory(string(t.line))
}

// reportsOutOfMemory recognises the allocation failures of the Go runtime,
// the C++ runtime, OpenCV and libc.
func reportsOutOfMemory(s string) bool {
	lower := strings.ToLower(s)
	for _, m := range []string{"out of memory", "bad_alloc", "insufficient memory", "cannot allocate memory"} {
		if strings.Contains(lower, m) {
			return true
		}
	}
	return false
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// fatalLine finds the Go runtime's report of a fatal signal or error.
var fatalLine = regexp.MustCompile(`(?m)^((?:SIG[A-Z]+: .*)|(?:fatal error: .*)|(?:panic: .*))$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 200 {
				l = l[:200] + "…"
			}
			return l
		}
	}
	return ""
}
