package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trueframe/trueframe/api"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/internal/worker"
)

// generatorJobs runs the service's generator jobs by running this binary's
// own `generate` commands in child processes, in the job's directory: a
// crash ends the child, not the service; a stopped or restarted job
// resumes from the training checkpoint in that directory.
type generatorJobs struct {
	exe  string // this binary
	deps string
}

func (g generatorJobs) Generate(ctx context.Context, job store.Job, progress func(float64)) (json.RawMessage, error) {
	var p api.GeneratorParams
	if err := json.Unmarshal(job.Params, &p); err != nil {
		return nil, err
	}
	// The children run in the job's directory with paths relative to it,
	// so that what they write (model metadata, sidecars, manifests, face
	// indexes) and the results shown to API clients name files inside the
	// job, not the server's directory layout.
	wd, err := filepath.Abs(p.WorkDir)
	if err != nil {
		return nil, err
	}
	// Another job's model is a sibling directory: "../gen_…/out/model",
	// which names the job, not where the server keeps its data.
	rel := func(path string) string {
		abs, err := filepath.Abs(path)
		if err != nil {
			return path
		}
		if r, err := filepath.Rel(wd, abs); err == nil {
			return r
		}
		return abs
	}
	rels := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = rel(p)
		}
		return out
	}
	if err := os.MkdirAll(filepath.Join(wd, "out"), 0o750); err != nil {
		return nil, err
	}
	run := func(args []string, poll func()) error { return g.run(ctx, wd, args, poll) }
	switch p.Type {
	case "train":
		// Faces first (a cheap step, done again on a retry for simplicity).
		for _, id := range []string{"a", "b"} {
			dir := filepath.Join("faces", id)
			os.RemoveAll(filepath.Join(wd, dir))
			args := append([]string{"generate", "extract", "--out", dir}, rels(p.Inputs[id])...)
			if err := run(args, nil); err != nil {
				return nil, fmt.Errorf("extracting faces of %s: %w", strings.ToUpper(id), err)
			}
		}
		progress(0.02)
		modelDir := filepath.Join("out", "model")
		args := []string{"generate", "train", "--a", filepath.Join("faces", "a"), "--b", filepath.Join("faces", "b"),
			"--out", modelDir, "--steps", strconv.Itoa(p.Steps), "--progress-file", api.ProgressFile}
		progressFile := filepath.Join(wd, api.ProgressFile)
		if err := run(args, func() { readTrainProgress(progressFile, progress) }); err != nil {
			return nil, err
		}
		meta, err := model.ReadMeta(filepath.Join(wd, modelDir))
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"type": "train", "model": meta})
	case "swap":
		to := "b"
		if p.Direction == "b2a" {
			to = "a"
		}
		fake := filepath.Join("out", "fake.mp4")
		args := []string{"generate", "swap", "--model", rel(p.ModelDir), "--target", rel(p.Inputs["target"][0]), "--out", fake, "--to", to}
		if err := run(args, nil); err != nil {
			return nil, err
		}
		sidecar, err := os.ReadFile(filepath.Join(wd, strings.TrimSuffix(fake, ".mp4")+".json"))
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"type": "swap", "sidecar": json.RawMessage(sidecar)})
	case "dataset":
		args := []string{"generate", "dataset", "--real", filepath.Join("inputs", "real"), "--out", filepath.Join("out", "dataset")}
		if p.ModelDir != "" {
			args = append(args, "--model", rel(p.ModelDir))
		}
		if err := run(args, nil); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"type": "dataset", "manifest": "dataset/manifest.json"})
	}
	return nil, fmt.Errorf("unknown generator job type %q", p.Type)
}

// readTrainProgress reports the training step from the progress file.
func readTrainProgress(path string, progress func(float64)) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var p struct{ Step, Total int64 }
	if json.Unmarshal(b, &p) == nil && p.Total > 0 {
		progress(0.02 + 0.98*float64(p.Step)/float64(p.Total))
	}
}

// run runs this binary with args in dir, calling poll every second while
// it runs. On ctx's end the child gets SIGINT (training checkpoints and
// exports on it), then SIGKILL if it has not ended 2 minutes later.
func (g generatorJobs) run(ctx context.Context, dir string, args []string, poll func()) error {
	cmd := exec.Command(g.exe, args...)
	cmd.Dir = dir
	// The child reads untrusted videos: it gets a minimal environment, not
	// the service's, which can hold the ledger's key.
	cmd.Env = worker.ChildEnv("TRUEFRAME_DEPS="+g.deps, "GOMLX_NO_AUTO_INSTALL=1")
	tail := &tailWriter{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = tail, tail
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	runtime.LockOSThread() // Pdeathsig follows the thread that started the child
	err := cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if poll != nil {
				poll()
			}
			return childError(err, cmd.ProcessState, tail.String())
		case <-tick.C:
			if poll != nil {
				poll()
			}
		case <-ctx.Done():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
			return ctx.Err()
		}
	}
}

// childError turns a child's end into the runner's errors: a clean failure
// (exit status 1, the command said why) is not retried; a crash is.
func childError(err error, ps *os.ProcessState, output string) error {
	if err == nil {
		return nil
	}
	last := lastLines(output, 3)
	var exit *exec.ExitError
	if errors.As(err, &exit) && ps != nil && ps.ExitCode() == 1 {
		return &scan.AnalysisError{Code: "generator_failed", Message: last}
	}
	if ps != nil {
		return &worker.CrashError{ExitCode: ps.ExitCode(), Output: output, Reason: last}
	}
	return err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return string(t.buf) }
