package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	data string // the service's data directory: the model registry and the analysis cache (training jobs)
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
	case "retrain":
		return g.retrain(wd, filepath.Base(wd), p, run, progress)
	}
	return nil, fmt.Errorf("unknown generator job type %q", p.Type)
}

// retrain runs a training job in stages, each skipped when its output is
// already in the job's directory, so a job restarted after a crash or a
// restart of the service resumes at the stage it was in:
//
//  1. dataset: the real clips are split (every fourth, and at least one,
//     held apart) and each part gets its self-blended fakes;
//  2. fit: the active fusion is refitted on the first part plus what it was
//     fitted on (what of that is on this machine);
//  3. measure: the new fusion against the active one on the held-apart
//     part (models promote), registered (and activated when asked) only if
//     no figure dropped by more than the tolerance; a ROC plot of both.
func (g generatorJobs) retrain(wd, id string, p api.GeneratorParams, run func([]string, func()) error, progress func(float64)) (json.RawMessage, error) {
	stage := func(n int, name string) {
		progress(float64(n) / 4)
		b, _ := json.Marshal(map[string]any{"stage": name, "stage_number": n + 1, "stages": 3})
		os.WriteFile(filepath.Join(wd, api.ProgressFile), b, 0o644)
	}
	exists := func(rel string) bool { _, err := os.Stat(filepath.Join(wd, rel)); return err == nil }
	reals := slices.Clone(p.Inputs["real"])
	slices.Sort(reals)
	parts := map[string][]string{}
	for i, r := range reals {
		part := "fit"
		if i%4 == 3 || i == len(reals)-1 && len(parts["held"]) == 0 {
			part = "held"
		}
		parts[part] = append(parts[part], r)
	}
	stage(0, "dataset")
	for _, part := range []string{"fit", "held"} {
		manifest := filepath.Join("dataset-"+part, "manifest.json")
		if exists(manifest) {
			continue
		}
		dir := filepath.Join(wd, "real-"+part)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		for _, r := range parts[part] {
			if err := os.Link(r, filepath.Join(dir, filepath.Base(r))); err != nil {
				return nil, err
			}
		}
		if err := run([]string{"generate", "dataset", "--real", "real-" + part, "--out", "dataset-" + part}, nil); err != nil {
			return nil, fmt.Errorf("making the %s dataset: %w", part, err)
		}
	}
	cache := filepath.Join(g.data, "eval-cache")
	child := filepath.Join("out", "fusion.json")
	version := "fusion-" + strings.TrimPrefix(id, "gen_")
	stage(1, "fit")
	if !exists(child) {
		tmp := filepath.Join("out", "fusion.json.new")
		if err := run([]string{"detectors", "train", "fusion", "--from", "active", "--skip-missing-parent-data", "--data", g.data,
			"--cache", cache, "--out", tmp, "--version", version, filepath.Join("dataset-fit", "manifest.json")}, nil); err != nil {
			return nil, fmt.Errorf("fitting: %w", err)
		}
		if err := os.Rename(filepath.Join(wd, tmp), filepath.Join(wd, child)); err != nil {
			return nil, err
		}
	}
	stage(2, "measure")
	gatePath := filepath.Join("out", "gate.json")
	if !exists(gatePath) {
		held := filepath.Join("dataset-held", "manifest.json")
		args := []string{"models", "promote", "--data", g.data, "--cache", cache, "--report", gatePath,
			"--tolerance", strconv.FormatFloat(p.Tolerance, 'g', -1, 64)}
		if p.Activate {
			args = append(args, "--activate")
		}
		err := run(append(args, child, held), nil)
		if err != nil && !exists(gatePath) { // a refusal writes its report and exits 1
			return nil, fmt.Errorf("measuring: %w", err)
		}
		if err := run([]string{"eval", "--cache", cache, "--fusion", child, "--plot", filepath.Join("out", "roc.png"), held}, nil); err != nil {
			return nil, fmt.Errorf("plotting: %w", err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(wd, gatePath))
	if err != nil {
		return nil, err
	}
	var gate gateReport
	if err := json.Unmarshal(raw, &gate); err != nil {
		return nil, err
	}
	progress(1)
	return json.Marshal(map[string]any{"type": "retrain", "version": version, "parent": gate.Parent.ID,
		"registered": gate.Registered, "active": gate.Active, "regressions": gate.Regressions,
		"held_apart_clips": gate.Clips, "auc": map[string]any{"parent": gate.Parent.AUC, "child": gate.Child.AUC}})
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
	tail := worker.NewTail(4 << 10)
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := worker.StartChild(cmd); err != nil {
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
			return childError(err, cmd.ProcessState, tail)
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
func childError(err error, ps *os.ProcessState, tail *worker.Tail) error {
	if err == nil {
		return nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && ps != nil && ps.ExitCode() == 1 {
		return &scan.AnalysisError{Code: "generator_failed", Message: lastLines(tail.String(), 3)}
	}
	if ps != nil {
		return worker.CrashOf(ps, tail)
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
