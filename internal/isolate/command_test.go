package isolate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A command's end: success, a clean failure (exit status 1, with its last
// lines, not to be retried) or a crash (anything else, to be retried).
func TestRunCommandEnds(t *testing.T) {
	for name, tc := range map[string]struct {
		script  string
		failure string // the clean failure's message, in part
		crash   string // the crash's signal, or "exit" for an exit status
	}{
		"success":       {script: "echo fine"},
		"clean failure": {script: "echo starting; echo 'no faces in a.mp4' >&2; exit 1", failure: "starting | no faces in a.mp4"},
		"killed":        {script: "kill -9 $$", crash: "killed"},
		"aborted":       {script: "kill -ABRT $$", crash: "aborted"},
		"exit status 2": {script: "echo 'panic: boom'; exit 2", crash: "exit"},
	} {
		t.Run(name, func(t *testing.T) {
			polls := 0
			err := RunCommand(t.Context(), CommandOptions{Executable: "/bin/sh", Args: []string{"-c", tc.script},
				Kind: KindGenerate, Code: "generator_failed", Poll: func() { polls++ }})
			if polls == 0 {
				t.Error("Poll was not called after the end")
			}
			var failed *Error
			var crash *CrashError
			switch {
			case tc.failure != "":
				if !errors.As(err, &failed) || failed.Kind != KindGenerate || failed.Code != "generator_failed" ||
					!strings.Contains(failed.Message, tc.failure) || errors.Is(err, ErrCrashed) {
					t.Fatalf("err = %#v, want a clean failure saying %q", err, tc.failure)
				}
			case tc.crash != "":
				if !errors.As(err, &crash) || errors.As(err, &failed) || crash.Kind != KindGenerate ||
					!strings.HasPrefix(err.Error(), "generator command crashed") {
					t.Fatalf("err = %#v, want a generator command's crash", err)
				}
				if tc.crash == "exit" && (crash.ExitCode != 2 || crash.Reason != "panic: boom") ||
					tc.crash != "exit" && crash.Signal != tc.crash {
					t.Fatalf("crash %+v, want %s", crash, tc.crash)
				}
			case err != nil:
				t.Fatal(err)
			}
		})
	}
}

// On ctx's end the child gets SIGINT and time to stop cleanly (a training
// saves its checkpoint); one that ignores SIGINT is killed after the grace
// period. Either way RunCommand returns ctx's error.
func TestRunCommandCancel(t *testing.T) {
	for name, tc := range map[string]struct {
		trap  string // the child's SIGINT trap
		saved bool   // whether it saves on SIGINT
	}{
		"stops on SIGINT":  {trap: `trap 'echo step 7 > checkpoint; exit 0' INT`, saved: true},
		"ignores SIGINT":   {trap: `trap '' INT`},
		"dies from SIGINT": {trap: `trap - INT`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			script := tc.trap + "; touch ready; while :; do sleep 0.1; done"
			// Cancelled once the child has set its trap: the poll after it
			// wrote "ready".
			poll := func() {
				if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
					cancel()
				}
			}
			start := time.Now()
			err := RunCommand(ctx, CommandOptions{Executable: "/bin/sh", Args: []string{"-c", script}, Dir: dir,
				Kind: KindGenerate, Code: "generator_failed", Poll: poll, Grace: 200 * time.Millisecond})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "checkpoint"))
			if saved := string(b) == "step 7\n"; saved != tc.saved {
				t.Errorf("checkpoint %q, want saved %v", b, tc.saved)
			}
			// Well under the default grace of 2 minutes: Grace applies.
			if d := time.Since(start); d > time.Minute {
				t.Errorf("took %s", d)
			}
		})
	}
}

// A child that cannot start says why.
func TestRunCommandNoExecutable(t *testing.T) {
	err := RunCommand(t.Context(), CommandOptions{Executable: filepath.Join(t.TempDir(), "none")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// The code table both ways: a failure's code in the child, the sentinel of
// a code in the parent.
func TestCodes(t *testing.T) {
	errOther := errors.New("other")
	codes := Codes{{Code: "bad_input", Err: errBadInput}, {Code: "canceled", Err: context.Canceled}}
	for name, tc := range map[string]struct {
		err  error
		code string
	}{
		"sentinel":          {errBadInput, "bad_input"},
		"wrapped sentinel":  {errors.Join(errOther, context.Canceled), "canceled"},
		"no sentinel":       {errOther, "internal"},
		"a reported error":  {&Error{Kind: KindScan, Code: "not_video"}, "not_video"},
		"an unknown kind":   {codes.Error(KindGenerate, "unknown_kind", "x"), "unknown_kind"},
		"reported sentinel": {codes.Error(KindFingerprint, "bad_input", "x"), "bad_input"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := codes.Of(tc.err); got != tc.code {
				t.Errorf("Of = %q, want %q", got, tc.code)
			}
		})
	}
	for code, want := range map[string]error{"bad_input": errBadInput, "canceled": context.Canceled, "unknown_kind": ErrUnknownKind, "mystery": nil} {
		e := codes.Error(KindFingerprint, code, "m")
		if e.Kind != KindFingerprint || e.Code != code || e.Error() != "m" || errors.Unwrap(e) != want {
			t.Errorf("Error(%q) = %+v unwrapping to %v, want %v", code, e, errors.Unwrap(e), want)
		}
	}
}
