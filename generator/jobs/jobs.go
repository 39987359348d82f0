// Package jobs runs the generator's and the training jobs the service
// queues: each is a sequence of the trueframe binary's own commands run as
// child processes in the job's directory.
package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/models/registry"
)

// Params are a generator job's parameters, stored with it and given to
// the runner. As stored, Inputs name files relative to the job's place in
// the blob store ("inputs/a/00-a.mp4") and WorkDir and ModelDir are empty;
// the runner fetches the files to a local directory and gives Run the
// local absolute paths.
type Params struct {
	Type  string `json:"type"`            // train, swap or dataset
	Steps int    `json:"steps,omitempty"` // train
	// CheckpointEvery is the steps between a training's checkpoints (0:
	// the trainer's default): what a killed node's training loses at most.
	CheckpointEvery int                 `json:"checkpoint_every,omitempty"` // train
	Model           string              `json:"model,omitempty"`            // swap, dataset: a finished train job's id
	ModelDir        string              `json:"model_dir,omitempty"`        // its model directory
	Direction       string              `json:"direction,omitempty"`        // swap: a2b or b2a
	Inputs          map[string][]string `json:"inputs"`                     // by field: a, b (train), target (swap), real (dataset, retrain)
	Detector        string              `json:"detector,omitempty"`         // retrain: "" (the fusion) or face_cnn
	Activate        bool                `json:"activate,omitempty"`         // retrain: activate the child if admitted
	Tolerance       float64             `json:"tolerance,omitempty"`        // retrain: largest AUC drop admitted
	WorkDir         string              `json:"work_dir,omitempty"`         // outputs go to WorkDir/out
}

// A job's directory holds its inputs, its outputs (out/, the artifacts
// clients download) and what it resumes from. StateFiles are the latter,
// beside out/ (a training checkpoint is out/model itself): a runner that
// keeps them, and out/, where another node can fetch them lets any node
// resume the job. They are in the order a runner stores them: the progress
// file last, so that whoever reads a stage there finds the outputs of the
// stages before it stored.
var StateFiles = []string{"dataset-fit", "dataset-held", "crops-fit", ProgressFile}

// Hooks are how Run reports on a job. The zero value is usable.
type Hooks struct {
	// Progress receives the job's progress, from 0 to 1.
	Progress func(float64)
	// StageDone is called when a stage of a job that has several has
	// ended and the next one begins (its progress file says which): the
	// directory holds the finished stages' outputs, to be kept where
	// another node can resume from them. An error ends the attempt.
	StageDone func(context.Context) error
}

// Models is a model registry the nodes of a service share, which the
// children (reading models from a directory, with no access to the
// shared store) see through a local export. *registry.Registry is one.
type Models interface {
	// Export writes a local registry of the active versions in dir.
	Export(dir string) error
	AddFusion(path string, opts registry.AddOptions) (registry.Entry, error)
	AddCard(cardPath string, opts registry.AddOptions) (registry.Entry, error)
	Activate(id string) (registry.Entry, error)
}

// ProgressFile is where a generator job writes its detailed progress (in
// its work directory), so that the API can show it without a protocol of
// its own, and a restarted job can pick it up.
const ProgressFile = "progress.json"

// CodeFailed is the error code, as clients see it, of a job whose command
// failed cleanly (exit status 1, having said why): an *isolate.Error of
// isolate.KindGenerate, not retried, since another try would fail the same
// way.
const CodeFailed = "generator_failed"

// Executor runs the service's generator and training jobs by running the
// trueframe binary's own commands in child processes, in the job's
// directory: a crash ends the child, not the service; a stopped or
// restarted job resumes from what its directory holds (the training
// checkpoint, a training job's finished stages).
type Executor struct {
	Exe  string // the trueframe binary
	Deps string // its installation directory (TRUEFRAME_DEPS)
	Data string // the service's data directory: the model registry and the analysis cache (training jobs)
	// Models, when set, is the registry training jobs measure against and
	// add to, shared with other nodes; nil: the registry in Data, which
	// the children use directly.
	Models Models
}

// Run runs the job p describes, reporting through h, and returns its
// result.
func (g Executor) Run(ctx context.Context, p Params, h Hooks) (json.RawMessage, error) {
	progress := h.Progress
	if progress == nil {
		progress = func(float64) {}
	}
	stageDone := func() error {
		if h.StageDone == nil {
			return nil
		}
		return h.StageDone(ctx)
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
			"--out", modelDir, "--steps", strconv.Itoa(p.Steps), "--progress-file", ProgressFile}
		if p.CheckpointEvery > 0 {
			args = append(args, "--checkpoint-every", strconv.Itoa(p.CheckpointEvery))
		}
		progressFile := filepath.Join(wd, ProgressFile)
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
		return g.retrain(wd, filepath.Base(wd), p, run, progress, stageDone)
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
//     fitted on (what of that is on this machine) — or, for detector
//     face_cnn, the active face_cnn fine-tuned on the first part's faces
//     (self-blended as it trains; a generator model's swaps too) plus the
//     sets it was trained on that are here;
//  3. measure: the new fusion against the active one on the held-apart
//     part (models promote), registered (and activated when asked) only if
//     no figure dropped by more than the tolerance; a ROC plot of both.
//
// Each stage's start is reported to stageDone, which keeps what the
// finished ones made where another node can resume from it. With a shared
// registry (Executor.Models) the children measure against a local export
// of it, and the runner, not the child, adds (and activates) the admitted
// version, from the measure stage's report: again when the job resumes
// after that stage, which changes nothing the second time.
func (g Executor) retrain(wd, id string, p Params, run func([]string, func()) error,
	progress func(float64), stageDone func() error) (json.RawMessage, error) {
	started := time.Now()
	stage := func(n int, name string) error {
		p := float64(n) / 4
		detail := map[string]any{"stage": name, "stage_number": n + 1, "stages": 3}
		if elapsed := time.Since(started).Seconds(); p > 0 && elapsed > 1 {
			// A rough guess: the stages' shares of progress are not their
			// shares of time, and a resumed job skips finished stages.
			detail["eta_s"] = int(elapsed * (1 - p) / p)
		}
		b, _ := json.Marshal(detail)
		os.WriteFile(filepath.Join(wd, ProgressFile), b, 0o644)
		if err := stageDone(); err != nil {
			return err
		}
		progress(p)
		return nil
	}
	// data is the data directory the children take (--data): the model
	// registry's, the service's own or a local export of a shared one.
	data := g.Data
	export := func() error { return nil }
	if g.Models != nil {
		data = filepath.Join(wd, "registry")
		defer os.RemoveAll(data)
		export = func() error {
			os.RemoveAll(data)
			if err := g.Models.Export(filepath.Join(data, "models")); err != nil {
				return fmt.Errorf("exporting the active models: %w", err)
			}
			return nil
		}
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
	if err := stage(0, "dataset"); err != nil {
		return nil, err
	}
	for _, part := range []string{"fit", "held"} {
		// The manifests name the real clips in real-<part>: made again for
		// a job resumed in another directory (links to the inputs).
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
		manifest := filepath.Join("dataset-"+part, "manifest.json")
		if exists(manifest) {
			continue
		}
		if err := run([]string{"generate", "dataset", "--real", "real-" + part, "--out", "dataset-" + part}, nil); err != nil {
			return nil, fmt.Errorf("making the %s dataset: %w", part, err)
		}
	}
	cache := filepath.Join(g.Data, "eval-cache")
	child := filepath.Join("out", "fusion.json")
	version := "fusion-" + strings.TrimPrefix(id, "gen_")
	if p.Detector == faceCNN {
		child = filepath.Join("out", faceCNN, faceCNN+".json")
		version = faceCNN + "-" + strings.TrimPrefix(id, "gen_")
	}
	if err := stage(1, "fit"); err != nil {
		return nil, err
	}
	if !exists(child) {
		if err := export(); err != nil {
			return nil, err
		}
		if p.Detector == faceCNN {
			if err := g.fineTuneFaceCNN(wd, data, version, p, run, exists); err != nil {
				return nil, err
			}
		} else {
			tmp := filepath.Join("out", "fusion.json.new")
			if err := run([]string{"detectors", "train", "fusion", "--from", "active", "--skip-missing-parent-data", "--data", data,
				"--cache", cache, "--out", tmp, "--version", version, filepath.Join("dataset-fit", "manifest.json")}, nil); err != nil {
				return nil, fmt.Errorf("fitting: %w", err)
			}
			if err := os.Rename(filepath.Join(wd, tmp), filepath.Join(wd, child)); err != nil {
				return nil, err
			}
		}
	}
	if err := stage(2, "measure"); err != nil {
		return nil, err
	}
	gatePath := filepath.Join("out", "gate.json")
	if !exists(gatePath) {
		if err := export(); err != nil {
			return nil, err
		}
		held := filepath.Join("dataset-held", "manifest.json")
		args := []string{"models", "promote", "--data", data, "--cache", cache, "--report", gatePath,
			"--tolerance", strconv.FormatFloat(p.Tolerance, 'g', -1, 64)}
		if p.Activate {
			args = append(args, "--activate")
		}
		err := run(append(args, child, held), nil)
		if err != nil && !exists(gatePath) { // a refusal writes its report and exits 1
			return nil, fmt.Errorf("measuring: %w", err)
		}
		plot := []string{"eval", "--cache", cache, "--fusion", child, "--plot", filepath.Join("out", "roc.png"), held}
		if p.Detector == faceCNN {
			plot = []string{"eval", "--cache", cache, "--model", faceCNN + "=" + child, "--plot", filepath.Join("out", "roc.png"), held}
		}
		if err := run(plot, nil); err != nil {
			return nil, fmt.Errorf("plotting: %w", err)
		}
		// Kept before the shared registry learns of the version: a job
		// resumed from here adds it without measuring it again.
		if err := stageDone(); err != nil {
			return nil, err
		}
	}
	raw, err := os.ReadFile(filepath.Join(wd, gatePath))
	if err != nil {
		return nil, err
	}
	// What `models promote --report` writes, as far as the result needs it.
	var gate struct {
		Clips  int `json:"clips"`
		Parent struct {
			ID  string   `json:"id"`
			AUC *float64 `json:"auc"`
		} `json:"parent"`
		Child struct {
			AUC *float64 `json:"auc"`
		} `json:"child"`
		Regressions []json.RawMessage `json:"regressions"`
		Alone       string            `json:"measured_alone"`
		Registered  bool              `json:"registered"`
		Forced      string            `json:"forced"`
		Active      bool              `json:"active"`
	}
	if err := json.Unmarshal(raw, &gate); err != nil {
		return nil, err
	}
	if g.Models != nil && gate.Registered {
		if err := g.publish(filepath.Join(wd, child), p.Detector == faceCNN, raw, gate.Parent.ID, gate.Forced, gate.Active); err != nil {
			return nil, err
		}
	}
	progress(1)
	kind := "fusion"
	if p.Detector != "" {
		kind = p.Detector
	}
	// The AUCs are fused ones, or the detector's own when the active
	// fusion gives it no weight (a child could not move the fused score).
	measured := "fused"
	if gate.Alone != "" {
		measured = gate.Alone + " alone"
	}
	return json.Marshal(map[string]any{"type": "retrain", "kind": kind, "version": version, "parent": gate.Parent.ID,
		"registered": gate.Registered, "active": gate.Active, "regressions": gate.Regressions,
		"held_apart_clips": gate.Clips, "measured": measured, "auc": map[string]any{"parent": gate.Parent.AUC, "child": gate.Child.AUC}})
}

// faceCNN names the learned frame detector (detectors/facecnn.Name) that a
// training job may fine-tune; the job runs it through the trueframe
// binary, so the generator does not import the detectors.
const faceCNN = "face_cnn"

// fineTuneFaceCNN is a face_cnn training job's fit stage: crops of the
// first part's real clips (kept as a state file, so a resumed job does not
// decode them again), then the active face_cnn fine-tuned on them (and on
// the swaps of the job's generator model, if it has one) plus the sets it
// was trained on that this machine has, into out/face_cnn.
func (g Executor) fineTuneFaceCNN(wd, data, version string, p Params, run func([]string, func()) error, exists func(string) bool) error {
	crops := "crops-fit"
	if !exists(crops) {
		tmp := crops + ".new"
		if err := run([]string{"detectors", "crops", "--out", tmp, "real:real-fit"}, nil); err != nil {
			return fmt.Errorf("cropping faces: %w", err)
		}
		if err := os.Rename(filepath.Join(wd, tmp), filepath.Join(wd, crops)); err != nil {
			return err
		}
	}
	tmp := filepath.Join("out", faceCNN+".new")
	os.RemoveAll(filepath.Join(wd, tmp))
	args := []string{"detectors", "train", faceCNN, "--data", data, "--from", "active", "--skip-missing-parent-data",
		"--crops", crops, "--out", tmp, "--version", version, "--steps", strconv.Itoa(p.Steps), "--seed", "1",
		// Each sample goes through the backbone once, up front: about four
		// passes over them at the trainer's batch of 64 is enough for a
		// fine-tune, and keeps a short job short.
		"--samples", strconv.Itoa(min(max(16*p.Steps, 256), 16000))}
	if p.ModelDir != "" {
		args = append(args, "--generator-model", p.ModelDir, "--generator-real", "real-fit")
	}
	if err := run(args, nil); err != nil {
		return fmt.Errorf("fine-tuning face_cnn: %w", err)
	}
	return os.Rename(filepath.Join(wd, tmp), filepath.Join(wd, "out", faceCNN))
}

// publish adds the version (a fusion, or a detector's card) a training
// job admitted to the shared registry,
// with the comparison that admitted it as promote records it (its report
// without the outcome), and activates it when promote did in the export.
// Adding the same files again returns the version already there, so a
// resumed job publishes harmlessly twice.
func (g Executor) publish(path string, card bool, report []byte, parent, forced string, activate bool) error {
	var gate map[string]json.RawMessage
	if err := json.Unmarshal(report, &gate); err != nil {
		return err
	}
	for _, outcome := range []string{"registered", "forced", "active"} {
		delete(gate, outcome)
	}
	raw, err := json.Marshal(gate)
	if err != nil {
		return err
	}
	add := g.Models.AddFusion
	if card {
		add = g.Models.AddCard
	}
	e, err := add(path, registry.AddOptions{Parent: parent, Gate: raw, Forced: forced})
	if err != nil {
		return fmt.Errorf("registering the new version: %w", err)
	}
	if activate {
		if _, err := g.Models.Activate(e.ID); err != nil {
			return fmt.Errorf("activating the new version: %w", err)
		}
	}
	return nil
}

// TrainProgress is what `trueframe generate train --progress-file` writes
// and what the service shows as a training job's detail.
type TrainProgress struct {
	Step        int64   `json:"step"`
	Total       int64   `json:"total"`
	Loss        float64 `json:"loss"`
	StepsPerSec float64 `json:"steps_per_s"`
	ETASeconds  float64 `json:"eta_s"`
}

// WriteTrainProgress replaces the progress file at path (a file beside it
// renamed into place, so that a reader never sees half of it). Errors are
// ignored: progress is advisory, and training must not stop for it.
func WriteTrainProgress(path string, p model.Progress) {
	b, err := json.Marshal(TrainProgress{Step: p.Step, Total: p.Total, Loss: p.Loss, StepsPerSec: p.StepsPerSec, ETASeconds: p.ETA.Seconds()})
	if err != nil {
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, path)
	}
}

// readTrainProgress reports the training step from the progress file.
func readTrainProgress(path string, progress func(float64)) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var p TrainProgress
	if json.Unmarshal(b, &p) == nil && p.Total > 0 {
		progress(0.02 + 0.98*float64(p.Step)/float64(p.Total))
	}
}

// run runs this binary with args in dir (isolate.RunCommand), calling
// poll every second while it runs. On ctx's end the child gets SIGINT
// (training checkpoints and exports on it), then SIGKILL if it has not
// ended 2 minutes later.
func (g Executor) run(ctx context.Context, dir string, args []string, poll func()) error {
	// The child reads untrusted videos: it gets a minimal environment, not
	// the service's, which can hold the ledger's key.
	return isolate.RunCommand(ctx, isolate.CommandOptions{Executable: g.Exe, Args: args, Dir: dir,
		Env:  []string{"TRUEFRAME_DEPS=" + g.Deps, "GOMLX_NO_AUTO_INSTALL=1"},
		Kind: isolate.KindGenerate, Code: CodeFailed, Poll: poll})
}
