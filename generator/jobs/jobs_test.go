package jobs

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/internal/isolate"
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
	var failed *isolate.Error
	if !errors.As(err, &failed) || failed.Kind != isolate.KindGenerate || failed.Code != "generator_failed" ||
		!strings.Contains(failed.Message, "no faces in a.mp4") {
		t.Errorf("exit 1: %v", err)
	}
	err = g.run(t.Context(), t.TempDir(), []string{"-c", "kill -9 $$"}, nil)
	var crash *isolate.CrashError
	if !errors.As(err, &crash) || crash.Signal == "" {
		t.Errorf("killed: %#v", err)
	}
}

// The progress file is the protocol between `generate train` and the
// executor: what one writes, the other reads back as the job's progress.
func TestTrainProgressFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ProgressFile)
	var got []float64
	read := func() { readTrainProgress(path, func(p float64) { got = append(got, p) }) }
	read() // no file yet: nothing reported
	WriteTrainProgress(path, model.Progress{Step: 250, Total: 1000, Loss: 0.04, StepsPerSec: 3, ETA: 250 * time.Second})
	read()
	if len(got) != 1 || math.Abs(got[0]-(0.02+0.98*0.25)) > 1e-9 {
		t.Fatalf("progress %v, want one report of %.4f", got, 0.02+0.98*0.25)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var detail map[string]float64
	if err := json.Unmarshal(b, &detail); err != nil || detail["eta_s"] != 250 || detail["steps_per_s"] != 3 || detail["loss"] != 0.04 {
		t.Errorf("detail %s (%v)", b, err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file is left: %v", err)
	}
}
