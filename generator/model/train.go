package model

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// ErrNoFaces is returned by NewTrainer when an identity has no faces.
var ErrNoFaces = errors.New("model: no faces to train on")

// ErrConfigMismatch is returned by NewTrainer when TrainOptions.Config differs
// from the configuration of the checkpoint it would resume.
var ErrConfigMismatch = errors.New("model: configuration differs from the checkpoint's")

// ErrOrphanCheckpoint is returned for a directory holding a checkpoint but
// no MetaFile (from a version that wrote it only after the first
// checkpoint, or copied without it): nothing says which architecture the
// checkpoint holds. Train into another directory, or restore the MetaFile.
var ErrOrphanCheckpoint = errors.New("model: checkpoint without " + MetaFile)

// TrainOptions configures a Trainer. Zero fields take the defaults shown.
type TrainOptions struct {
	// Config is the architecture (DefaultConfig). When Dir holds a
	// checkpoint, its configuration is used and a different non-zero Config
	// is an error.
	Config Config
	// Dir is the model directory: checkpoints and MetaFile go there, and a
	// checkpoint found there is resumed. "" trains without checkpoints.
	Dir string
	// CheckpointEvery is the number of steps between checkpoints (500).
	CheckpointEvery int
	// BatchSize is the number of faces of each identity per step (16).
	BatchSize int
	// LearningRate of Adam (5e-4).
	LearningRate float64
	// DSSIMWeight weighs the structural term of the loss against MSE (1);
	// negative means MSE only.
	DSSIMWeight float64
	// Warp is the augmentation.
	Warp WarpOptions
	// Seed makes weight initialisation and augmentation repeatable (1).
	Seed int64
	// Identities are names of A and B recorded in the model's Meta.
	Identities [2]string
	// Logger receives a line per checkpoint; nil means none.
	Logger *slog.Logger
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 500
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 16
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 5e-4
	}
	switch {
	case o.DSSIMWeight == 0:
		o.DSSIMWeight = 1
	case o.DSSIMWeight < 0:
		o.DSSIMWeight = 0
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Warp = o.Warp.withDefaults()
	return o
}

// Progress is reported after every training step.
type Progress struct {
	Step, Total int64
	Loss        float64       // this step's training loss
	StepsPerSec float64       // over this call of Train
	ETA         time.Duration // to Total at StepsPerSec
	// Checkpointed is true when a checkpoint was written after this step.
	Checkpointed bool
}

// Trainer trains a Model on two face sets. It is not safe for concurrent use.
// Callers must call Close.
type Trainer struct {
	*Model
	opts    TrainOptions
	faces   [2][][]float32
	trainer *train.Trainer
	eval    *mlmodel.Exec
}

// NewTrainer prepares training of the faces a and b (each Size×Size×3 RGB in
// [0,1], HWC) on backend. When opts.Dir holds a checkpoint, training resumes
// from it: same weights, optimizer state and step count.
func NewTrainer(backend compute.Backend, a, b [][]float32, opts TrainOptions) (t *Trainer, err error) {
	opts = opts.withDefaults()
	meta := Meta{Config: opts.Config.WithDefaults(), Identities: opts.Identities}
	fresh := true
	if opts.Dir != "" {
		prev, err := ReadResumable(opts.Dir)
		switch {
		case err == nil:
			fresh = false
			if opts.Config != (Config{}) && opts.Config.WithDefaults() != prev.Config {
				return nil, fmt.Errorf("%w: %+v, checkpoint has %+v", ErrConfigMismatch, opts.Config.WithDefaults(), prev.Config)
			}
			meta = prev
		case !errors.Is(err, ErrNoModel):
			return nil, err
		}
	}
	if err := meta.Config.Validate(); err != nil {
		return nil, err
	}
	if meta.ID == "" {
		meta.ID = fmt.Sprintf("ae%d-%d", meta.Config.Size, time.Now().Unix())
	}
	for i, set := range [][][]float32{a, b} {
		if len(set) == 0 {
			return nil, fmt.Errorf("%w: identity %s", ErrNoFaces, Identity(i))
		}
		if _, err := stack(set, meta.Config.Size); err != nil {
			return nil, fmt.Errorf("identity %s: %w", Identity(i), err)
		}
	}
	m, err := newModel(backend, opts.Dir, meta)
	if err != nil {
		return nil, err
	}
	t = &Trainer{Model: m, opts: opts, faces: [2][][]float32{a, b}}
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	if fresh && m.ckpt != nil {
		// The configuration goes to disk before any checkpoint does, so
		// that one can never be found without it.
		if err := m.writeMeta(); err != nil {
			return nil, fmt.Errorf("model: writing %s: %w", MetaFile, err)
		}
	}
	defer recoverErr(&err)
	m.store.SetParam(mlmodel.ParamInitialSeed, opts.Seed)
	cfg, w := meta.Config, opts.DSSIMWeight
	modelFn := func(scope *mlmodel.Scope, _ any, inputs []*graph.Node) []*graph.Node {
		enc := cfg.EncoderPlan()
		return []*graph.Node{
			apply(scope, cfg.DecoderPlan(A), apply(scope, enc, inputs[0])),
			apply(scope, cfg.DecoderPlan(B), apply(scope, enc, inputs[1])),
		}
	}
	lossFn := func(labels, predictions []*graph.Node) *graph.Node {
		return graph.Add(reconLoss(predictions[0], labels[0], w), reconLoss(predictions[1], labels[1], w))
	}
	t.trainer = train.NewTrainer(backend, m.store, modelFn, lossFn,
		optimizer.Adam().LearningRate(opts.LearningRate).Done(), nil, nil)
	return t, nil
}

// Close frees the trainer and its model. It is safe to call more than once.
func (t *Trainer) Close() error {
	if t.eval != nil {
		t.eval.Finalize()
		t.eval = nil
	}
	return t.Model.Close()
}

// Step returns the number of training steps done, including those of a
// resumed checkpoint.
func (t *Trainer) Step() int64 { return t.meta.Step }

// Train runs steps until Step() reaches total, calling progress (when not
// nil) after each. It writes a checkpoint every CheckpointEvery steps, at the
// end, and when ctx is cancelled, in which case it returns ctx's error after
// saving.
func (t *Trainer) Train(ctx context.Context, total int64, progress func(Progress)) error {
	start, t0 := t.meta.Step, time.Now()
	for t.meta.Step < total {
		if err := ctx.Err(); err != nil {
			if serr := t.Save(); serr != nil {
				return errors.Join(err, serr)
			}
			return err
		}
		loss, err := t.trainStep()
		if err != nil {
			return err
		}
		t.meta.Step++
		t.meta.Loss = loss
		p := Progress{Step: t.meta.Step, Total: total, Loss: loss}
		if el := time.Since(t0).Seconds(); el > 0 {
			p.StepsPerSec = float64(t.meta.Step-start) / el
			if p.StepsPerSec > 0 {
				p.ETA = time.Duration(float64(total-t.meta.Step) / p.StepsPerSec * float64(time.Second))
			}
		}
		if t.opts.Dir != "" && (t.meta.Step%int64(t.opts.CheckpointEvery) == 0 || t.meta.Step == total) {
			if err := t.Save(); err != nil {
				return err
			}
			p.Checkpointed = true
		}
		if progress != nil {
			progress(p)
		}
	}
	return nil
}

// Save writes a checkpoint and MetaFile to the model directory.
func (t *Trainer) Save() (err error) {
	if t.ckpt == nil {
		return nil
	}
	defer recoverErr(&err)
	if err := t.ckpt.Save(); err != nil {
		return fmt.Errorf("model: saving checkpoint: %w", err)
	}
	if err := t.writeMeta(); err != nil {
		return fmt.Errorf("model: writing %s: %w", MetaFile, err)
	}
	t.opts.Logger.Info("checkpoint", "dir", t.dir, "step", t.meta.Step, "loss", t.meta.Loss)
	return nil
}

// trainStep draws a batch of each identity, augments it and runs one step.
func (t *Trainer) trainStep() (loss float64, err error) {
	defer recoverErr(&err)
	s, bs := t.meta.Config.Size, t.opts.BatchSize
	n := s * s * 3
	// One generator per step, seeded by the step, so a resumed run draws
	// the batches an uninterrupted one would have.
	rng := rand.New(rand.NewPCG(uint64(t.opts.Seed), uint64(t.meta.Step)))
	var inputs, labels []*tensors.Tensor
	for id := range 2 {
		in, tg := make([]float32, bs*n), make([]float32, bs*n)
		set := t.faces[id]
		for i := range bs {
			augment(rng, set[rng.IntN(len(set))], s, t.opts.Warp, in[i*n:(i+1)*n], tg[i*n:(i+1)*n])
		}
		inputs = append(inputs, tensors.FromFlatDataAndDimensions(in, bs, s, s, 3))
		labels = append(labels, tensors.FromFlatDataAndDimensions(tg, bs, s, s, 3))
	}
	metrics, err := t.trainer.TrainStep(train.Batch{Inputs: inputs, Labels: labels})
	if err != nil {
		return 0, err
	}
	return scalar(metrics[0])
}

// EvalLoss returns the loss on a and b without augmentation and without
// changing the model.
func (t *Trainer) EvalLoss(a, b [][]float32) (loss float64, err error) {
	s := t.meta.Config.Size
	fa, err := stack(a, s)
	if err != nil {
		return 0, err
	}
	fb, err := stack(b, s)
	if err != nil {
		return 0, err
	}
	defer recoverErr(&err)
	if t.eval == nil {
		cfg, w := t.meta.Config, t.opts.DSSIMWeight
		t.eval, err = mlmodel.NewExec(t.backend, t.store, func(scope *mlmodel.Scope, xa, xb *graph.Node) *graph.Node {
			enc := cfg.EncoderPlan()
			ra := apply(scope, cfg.DecoderPlan(A), apply(scope, enc, xa))
			rb := apply(scope, cfg.DecoderPlan(B), apply(scope, enc, xb))
			return graph.Add(reconLoss(ra, xa, w), reconLoss(rb, xb, w))
		})
		if err != nil {
			return 0, err
		}
	}
	res, err := t.eval.Call1(tensors.FromFlatDataAndDimensions(fa, len(a), s, s, 3),
		tensors.FromFlatDataAndDimensions(fb, len(b), s, s, 3))
	if err != nil {
		return 0, err
	}
	defer res.FinalizeAll()
	return scalar(res)
}

func scalar(t *tensors.Tensor) (float64, error) {
	v, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 || math.IsNaN(float64(v[0])) {
		return 0, fmt.Errorf("model: bad loss %v", v)
	}
	return float64(v[0]), nil
}
