package isolate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the child: with TRUEFRAME_WORKER_TEST set it
// serves requests (KindScan as the mode says, KindFingerprint in testMux)
// until stdin closes instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("TRUEFRAME_WORKER_TEST_PARENT") == "1" {
		// A parent that starts a hanging worker and waits on it forever;
		// the test kills this process and watches the worker.
		os.Unsetenv("TRUEFRAME_WORKER_TEST_PARENT")
		Run(context.Background(), Options{Env: []string{"TRUEFRAME_WORKER_TEST=hang",
			"TRUEFRAME_WORKER_TEST_PIDFILE=" + os.Getenv("TRUEFRAME_WORKER_TEST_PIDFILE")}}, KindScan, map[string]int{"N": 1}, nil)
		os.Exit(0)
	}
	if mode := os.Getenv("TRUEFRAME_WORKER_TEST"); mode != "" {
		err := Serve(context.Background(), os.Stdin, testMux(mode), testCodes)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// errBadInput is the sentinel of the test children's clean failures.
var errBadInput = errors.New("bad input")

// testCodes is the test children's code table.
var testCodes = Codes{{Code: "bad_input", Err: errBadInput}}

// testMux is the test children's work: two kinds of it, and no KindGenerate.
func testMux(mode string) Mux {
	return Mux{
		KindScan: childFunc(mode),
		KindFingerprint: func(_ context.Context, req json.RawMessage, _ func(float64)) (any, error) {
			var in struct{ Fail bool }
			if err := json.Unmarshal(req, &in); err != nil {
				return nil, err
			}
			if in.Fail {
				return nil, fmt.Errorf("fingerprinting: %w", errBadInput)
			}
			return "fingerprinted", nil
		},
	}
}

func childFunc(mode string) Func {
	return func(ctx context.Context, req json.RawMessage, progress func(float64)) (any, error) {
		var in struct {
			N  int
			Do string // in "pool" mode, what this request does
		}
		if err := json.Unmarshal(req, &in); err != nil {
			return nil, err
		}
		mode := mode // per request in "pool" mode
		if mode == "pool" {
			mode = in.Do
		}
		fmt.Println("noise on stdout that must not confuse the protocol")
		progress(0.5)
		switch mode {
		case "error":
			return nil, fmt.Errorf("that file is not a video: %w", errBadInput)
		case "abort":
			syscall.Kill(os.Getpid(), syscall.SIGABRT)
			time.Sleep(time.Minute)
		case "segv":
			syscall.Kill(os.Getpid(), syscall.SIGSEGV)
			time.Sleep(time.Minute)
		case "oom":
			var keep [][]byte
			for i := 0; i < 1<<16; i++ {
				b := make([]byte, 64<<20)
				for j := range b {
					b[j] = byte(j)
				}
				keep = append(keep, b)
			}
			return len(keep), nil
		case "hang":
			if f := os.Getenv("TRUEFRAME_WORKER_TEST_PIDFILE"); f != "" {
				os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o644)
			}
			time.Sleep(time.Minute)
		case "exit":
			os.Exit(3)
		case "panic":
			var m map[string]int
			m["boom"]++
		case "env":
			return os.Environ(), nil
		}
		return map[string]int{"double": 2 * in.N, "pid": os.Getpid()}, nil
	}
}

func run(t *testing.T, ctx context.Context, mode string, maxMem int64) (json.RawMessage, []float64, error) {
	t.Helper()
	var seen []float64
	res, err := Run(ctx, Options{Env: []string{"TRUEFRAME_WORKER_TEST=" + mode}, MaxMemory: maxMem, Codes: testCodes},
		KindScan, map[string]int{"N": 21}, func(p float64) { seen = append(seen, p) })
	return res, seen, err
}

func TestRunResult(t *testing.T) {
	res, progress, err := run(t, t.Context(), "ok", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res), `{"double":42,`) {
		t.Fatalf("result %s", res)
	}
	if len(progress) != 1 || progress[0] != 0.5 {
		t.Fatalf("progress %v", progress)
	}
}

// The child picks the work by the request's kind; a kind it does not do
// is a reported ErrUnknownKind, never a scan by default.
func TestRunDispatchesByKind(t *testing.T) {
	opts := Options{Env: []string{"TRUEFRAME_WORKER_TEST=ok"}, Codes: testCodes}
	for name, tc := range map[string]struct {
		kind    Kind
		result  string // its prefix
		unknown bool
	}{
		"scan":        {kind: KindScan, result: `{"double":2,`},
		"fingerprint": {kind: KindFingerprint, result: `"fingerprinted"`},
		"generate":    {kind: KindGenerate, unknown: true},
		"no kind":     {kind: "", unknown: true},
		"made up":     {kind: "transcode", unknown: true},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Run(t.Context(), opts, tc.kind, map[string]int{"N": 1}, nil)
			if !tc.unknown {
				if err != nil || !strings.HasPrefix(string(res), tc.result) {
					t.Fatalf("result %s (%v), want %s…", res, err, tc.result)
				}
				return
			}
			var we *Error
			if !errors.Is(err, ErrUnknownKind) || !errors.As(err, &we) || we.Kind != tc.kind ||
				!strings.Contains(we.Message, fmt.Sprintf("%q", tc.kind)) {
				t.Fatalf("err = %v, want ErrUnknownKind of %q", err, tc.kind)
			}
		})
	}
}

// A failure the child reports comes back saying which kind of work
// failed, with the child's code, and unwrapping to that code's sentinel.
func TestRunReportedError(t *testing.T) {
	for name, tc := range map[string]struct {
		kind    Kind
		mode    string
		request any
		message string
	}{
		"scan":        {KindScan, "error", map[string]int{"N": 1}, "not a video"},
		"fingerprint": {KindFingerprint, "ok", map[string]bool{"Fail": true}, "fingerprinting"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Run(t.Context(), Options{Env: []string{"TRUEFRAME_WORKER_TEST=" + tc.mode}, Codes: testCodes}, tc.kind, tc.request, nil)
			var we *Error
			if !errors.As(err, &we) || we.Kind != tc.kind || we.Code != "bad_input" || !strings.Contains(we.Message, tc.message) {
				t.Fatalf("err = %#v", err)
			}
			if !errors.Is(err, errBadInput) || testCodes.Of(err) != "bad_input" {
				t.Fatalf("err = %v does not unwrap to its sentinel", err)
			}
		})
	}
}

func TestRunCrashes(t *testing.T) {
	for name, tc := range map[string]struct {
		mode   string
		maxMem int64
		reason string
		oom    bool
	}{
		"abort":         {mode: "abort", reason: "SIGABRT: abort"},
		"segfault":      {mode: "segv", reason: "SIGSEGV: segmentation violation"},
		"exit":          {mode: "exit"},
		"out of memory": {mode: "oom", maxMem: 1 << 30, reason: "fatal error: out of memory", oom: true},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := run(t, t.Context(), tc.mode, tc.maxMem)
			var ce *CrashError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCrashed) {
				t.Fatalf("err = %v, want a CrashError", err)
			}
			if k := ce.Kind; k == "" || !strings.HasPrefix(err.Error(), string(k)+" worker crashed") {
				t.Fatalf("crash %q of kind %q: the message must name the work", err, k)
			}
			if !strings.HasPrefix(ce.Reason, tc.reason) || ce.OutOfMemory != tc.oom {
				t.Fatalf("crash %v: reason %q oom %v, want %q oom %v", err, ce.Reason, ce.OutOfMemory, tc.reason, tc.oom)
			}
			t.Logf("reported as: %v", err)
		})
	}
}

// A Go panic in the work comes back as a reported error that names it.
func TestRunPanic(t *testing.T) {
	_, _, err := run(t, t.Context(), "panic", 0)
	var we *Error
	if !errors.As(err, &we) || we.Code != "internal" || !strings.Contains(we.Message, "assignment to entry in nil map") {
		t.Fatalf("err = %v", err)
	}
}

// Serve refuses to run without the pipe Run provides.
func TestServeByHand(t *testing.T) {
	t.Setenv(messageFDEnv, "")
	if err := Serve(t.Context(), strings.NewReader("{}"), nil, nil); err == nil || !strings.Contains(err.Error(), "fd 3") {
		t.Fatalf("err = %v", err)
	}
}

// A worker does not outlive its parent: when the parent is killed with
// SIGKILL (no chance to clean up), the kernel kills the worker too.
func TestWorkerDiesWithParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(t.TempDir(), "worker.pid")
	parent := exec.Command(exe)
	parent.Env = append(os.Environ(), "TRUEFRAME_WORKER_TEST_PARENT=1", "TRUEFRAME_WORKER_TEST_PIDFILE="+pidFile)
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for i := 0; i < 200 && pid == 0; i++ { // up to 10 s for the worker to start
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid == 0 {
		parent.Process.Kill()
		t.Fatal("worker never started")
	}
	parent.Process.Kill()
	parent.Wait()
	for i := 0; i < 200; i++ { // up to 10 s for the kernel to act
		if syscall.Kill(pid, 0) == syscall.ESRCH || zombie(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("worker %d still running after its parent was killed", pid)
}

// zombie reports whether pid has exited but not been reaped (its parent is
// gone, so init reaps it eventually).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && strings.Contains(string(b), ") Z ")
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, _, err := run(t, ctx, "hang", 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

// A crash dump longer than the kept tail still yields its reason, and an
// allocation failure reported before it still marks it out of memory.
func TestTailBufferKeepsFatalLine(t *testing.T) {
	tb := newTail(1 << 10)
	fmt.Fprint(tb, "some log line\nOpenCV(4.6.0) alloc.cpp:73: error: (-4:Insufficient memory) Failed to allocate 576000000 bytes\n")
	fmt.Fprint(tb, "SIGABRT: ab")
	fmt.Fprint(tb, "ort\nPC=0x4 m=0 sigcode=18446744073709551610\n")
	for range 500 {
		fmt.Fprint(tb, "goroutine 1 gp=0xc000002380 m=nil [semacquire]:\nrax    0x0\n")
	}
	if strings.Contains(tb.String(), "SIGABRT") {
		t.Fatal("the test needs the fatal line to fall out of the tail")
	}
	ce := crashOf(KindScan, &os.ProcessState{}, tb)
	if ce.Reason != "SIGABRT: abort" {
		t.Errorf("Reason = %q, want SIGABRT: abort", ce.Reason)
	}
	if !ce.OutOfMemory {
		t.Error("the allocation failure before the dump was forgotten")
	}

	// Nothing about memory, nothing claimed; a marker in the unfinished
	// last line still counts.
	plain := newTail(1 << 10)
	fmt.Fprint(plain, "SIGSEGV: segmentation violation\nPC=0x4\n")
	if plain.OutOfMemory() {
		t.Error("a segfault reported as out of memory")
	}
	fmt.Fprint(plain, "fatal error: runtime: out of memory")
	if !plain.OutOfMemory() {
		t.Error("an unterminated out-of-memory line was missed")
	}

	// A new request starts with a clean slate.
	fmt.Fprint(plain, "\n")
	plain.forgetMemoryErrors()
	fmt.Fprint(plain, "SIGSEGV: segmentation violation\n")
	if plain.OutOfMemory() {
		t.Error("an earlier request's allocation failure was blamed for a later crash")
	}
}

// Children decode untrusted files: they inherited the whole environment,
// the ledger's signing key included (issue 15, finding 7). They get what
// they need to run and what the caller passes, nothing else.
func TestChildEnvironmentIsMinimal(t *testing.T) {
	secrets := map[string]string{
		"TRUEFRAME_LEDGER_KEY":           "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
		"TRUEFRAME_LEDGER_PASSWORD_FILE": "/run/secrets/pw",
		"TRUEFRAME_LEDGER_RPC":           "https://node.example/v3/SECRETAPIKEY",
		"AWS_SECRET_ACCESS_KEY":          "wJalrXUtnFEMI",
		"DATABASE_URL":                   "postgres://u:pw@db/x",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
	t.Setenv("TMPDIR", t.TempDir())
	t.Setenv("TRUEFRAME_DEPS", "/opt/trueframe/deps")
	res, err := Run(t.Context(), Options{Env: []string{"TRUEFRAME_WORKER_TEST=env", "TRUEFRAME_EXTRA=given"}}, KindScan, map[string]int{"N": 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	if err := json.Unmarshal(res, &env); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k := range secrets {
		if _, ok := got[k]; ok {
			t.Errorf("the child has %s", k)
		}
	}
	for k, want := range map[string]string{"PATH": os.Getenv("PATH"), "TMPDIR": os.Getenv("TMPDIR"),
		"TRUEFRAME_DEPS": "/opt/trueframe/deps", "TRUEFRAME_EXTRA": "given", messageFDEnv: "3"} {
		if got[k] != want {
			t.Errorf("the child's %s = %q, want %q", k, got[k], want)
		}
	}
	if len(got) > 12 {
		t.Errorf("the child has %d variables: %v", len(got), env)
	}
}
