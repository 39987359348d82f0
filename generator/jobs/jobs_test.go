package jobs

import (
	"errors"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/internal/worker"
)

// The generator's children read untrusted videos: they inherited the
// service's whole environment, the ledger's signing key included (issue
// 15, finding 7).
func TestGeneratorChildEnvironment(t *testing.T) {
	t.Setenv("TRUEFRAME_LEDGER_KEY", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
	t.Setenv("TRUEFRAME_LEDGER_RPC", "https://node.example/v3/SECRETAPIKEY")
	g := Executor{Exe: "/bin/sh", Deps: "/opt/trueframe/deps"}
	script := `for v in TRUEFRAME_LEDGER_KEY TRUEFRAME_LEDGER_RPC; do
		if env | grep -q "^$v="; then echo "the child has $v"; exit 1; fi
	done
	[ "$TRUEFRAME_DEPS" = /opt/trueframe/deps ] || { echo "TRUEFRAME_DEPS is $TRUEFRAME_DEPS"; exit 1; }
	[ -n "$PATH" ] || { echo "no PATH"; exit 1; }`
	if err := g.run(t.Context(), t.TempDir(), []string{"-c", script}, nil); err != nil {
		t.Error(err)
	}
}

// A command that fails and says why is a final failure with its last
// lines; one that dies is a crash, which the runner retries.
func TestChildFailures(t *testing.T) {
	g := Executor{Exe: "/bin/sh", Deps: t.TempDir()}
	err := g.run(t.Context(), t.TempDir(), []string{"-c", "echo starting; echo 'no faces in a.mp4' >&2; exit 1"}, nil)
	var failed *FailedError
	if !errors.As(err, &failed) || failed.Code() != "generator_failed" || !strings.Contains(failed.Message, "no faces in a.mp4") {
		t.Errorf("exit 1: %v", err)
	}
	err = g.run(t.Context(), t.TempDir(), []string{"-c", "kill -9 $$"}, nil)
	var crash *worker.CrashError
	if !errors.As(err, &crash) || crash.Signal == "" {
		t.Errorf("killed: %#v", err)
	}
}
