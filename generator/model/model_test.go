package model

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"

	"github.com/trueframe/trueframe/internal/testutil"
)

// tinyConfig keeps pure-Go training steps to a fraction of a second.
var tinyConfig = Config{Size: 16, Width: 4, Latent: 16}

// synthFaces draws n face-like images of one "identity": an ellipse of the
// given colour on a darker background, with two eyes, jittered per image.
func synthFaces(n, size int, skin [3]float32, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([][]float32, n)
	for i := range out {
		img := make([]float32, size*size*3)
		cx := float64(size)/2 + rng.Float64()*2 - 1
		cy := float64(size)/2 + rng.Float64()*2 - 1
		rx, ry := 0.32*float64(size), 0.42*float64(size)
		for y := range size {
			for x := range size {
				o := (y*size + x) * 3
				dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
				inFace := dx*dx+dy*dy <= 1
				for c := range 3 {
					v := float32(0.15 + 0.1*float64(c)*float64(y)/float64(size))
					if inFace {
						v = skin[c]
					}
					img[o+c] = v
				}
				for _, ex := range []float64{cx - 0.14*float64(size), cx + 0.14*float64(size)} {
					ey := cy - 0.08*float64(size)
					if (float64(x)-ex)*(float64(x)-ex)+(float64(y)-ey)*(float64(y)-ey) < 0.004*float64(size*size) {
						img[o], img[o+1], img[o+2] = 0.05, 0.05, 0.05
					}
				}
			}
		}
		out[i] = img
	}
	return out
}

func goBackend(tb testing.TB) compute.Backend {
	tb.Helper()
	b, err := NewBackend(BackendGo)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Finalize)
	return b
}

func TestPlanShapes(t *testing.T) {
	for _, cfg := range []Config{{}, {Size: 128}, tinyConfig} {
		cfg = cfg.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		// Walk the plan and check the spatial size ends where it began.
		size, ch := cfg.Size, 3
		for _, l := range cfg.Plan(A) {
			switch l.Kind {
			case Conv:
				if l.In != ch {
					t.Fatalf("%+v: %s takes %d channels, gets %d", cfg, l.Name, l.In, ch)
				}
				size = (size+l.Pad[0]+l.Pad[1]-l.K)/l.Stride + 1
				ch = l.Out
			case Dense:
				if l.In != size*size*ch && l.In != ch {
					t.Fatalf("%+v: %s takes %d features", cfg, l.Name, l.In)
				}
				size, ch = 1, l.Out
			case Unflatten:
				size, ch = l.Shape[0], l.Shape[2]
			case Upsample:
				size *= 2
			case SpaceToDepth:
				size, ch = size/2, ch*4
			}
		}
		if size != cfg.Size || ch != 3 {
			t.Errorf("%+v: output %d×%d×%d", cfg, size, size, ch)
		}
	}
	for _, bad := range []Config{{Size: 60}, {Size: 64, Width: -1}} {
		if err := bad.WithDefaults().Validate(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: err %v, want ErrBadConfig", bad, err)
		}
	}
}

func TestAugmentKeepsIdentityWhenDisabled(t *testing.T) {
	img := synthFaces(1, 16, [3]float32{0.8, 0.6, 0.5}, 1)[0]
	in, tg := make([]float32, len(img)), make([]float32, len(img))
	rng := rand.New(rand.NewPCG(1, 2))
	augment(rng, img, 16, WarpOptions{Disabled: true}, in, tg)
	for i := range img {
		if in[i] != img[i] || tg[i] != img[i] {
			t.Fatal("disabled augmentation changed the image")
		}
	}
	augment(rng, img, 16, WarpOptions{}.withDefaults(), in, tg)
	var dIn, dTg float64
	for i := range img {
		dIn += math.Abs(float64(in[i] - tg[i]))
		dTg += math.Abs(float64(tg[i] - img[i]))
	}
	if dIn == 0 || dTg == 0 {
		t.Errorf("augmentation left input or target unchanged: |in-target| %.3f, |target-img| %.3f", dIn, dTg)
	}
}

func TestTrainLowersLossAndResumes(t *testing.T) {
	b := goBackend(t)
	a := synthFaces(12, tinyConfig.Size, [3]float32{0.85, 0.65, 0.55}, 1)
	bb := synthFaces(12, tinyConfig.Size, [3]float32{0.45, 0.35, 0.75}, 2)
	dir := t.TempDir()
	opts := TrainOptions{Config: tinyConfig, Dir: dir, CheckpointEvery: 10, BatchSize: 4,
		LearningRate: 3e-3, Warp: WarpOptions{Disabled: true}, Identities: [2]string{"a", "b"}}
	tr, err := NewTrainer(b, a, bb, opts)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.EvalLoss(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	var saves int
	if err := tr.Train(context.Background(), 30, func(p Progress) {
		if p.Checkpointed {
			saves++
		}
	}); err != nil {
		t.Fatal(err)
	}
	after, err := tr.EvalLoss(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("eval loss before %.4f, after 30 steps %.4f", before, after)
	if !(after < 0.8*before) {
		t.Errorf("loss did not fall: before %.4f after %.4f", before, after)
	}
	if saves != 3 || tr.Step() != 30 {
		t.Errorf("saves %d step %d, want 3 and 30", saves, tr.Step())
	}
	// A cancelled context checkpoints and stops.
	ctx, cancel := context.WithCancel(context.Background())
	if err := tr.Train(ctx, 35, func(p Progress) {
		if p.Step == 33 {
			cancel()
		}
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Train: %v", err)
	}
	stepAtCancel, lossAtCancel := tr.Step(), tr.Meta().Loss
	evalAtCancel, err := tr.EvalLoss(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	predBefore, err := tr.Predict(B, a[:2])
	if err != nil {
		t.Fatal(err)
	}
	_ = tr.Close()

	// Resume: same step, same recorded loss, same model.
	tr2, err := NewTrainer(b, a, bb, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	if tr2.Step() != stepAtCancel || stepAtCancel != 33 {
		t.Fatalf("resumed at step %d, want %d (33)", tr2.Step(), stepAtCancel)
	}
	if tr2.Meta().Loss != lossAtCancel {
		t.Errorf("resumed loss %v, want %v", tr2.Meta().Loss, lossAtCancel)
	}
	if gs := tr2.trainer.GlobalStep(); gs != stepAtCancel {
		t.Errorf("GoMLX global step %d, want %d", gs, stepAtCancel)
	}
	evalResumed, err := tr2.EvalLoss(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(evalResumed-evalAtCancel) > 1e-6 {
		t.Errorf("eval loss after resume %.7f, before %.7f", evalResumed, evalAtCancel)
	}
	predAfter, err := tr2.Predict(B, a[:2])
	if err != nil {
		t.Fatal(err)
	}
	for i := range predAfter {
		for j := range predAfter[i] {
			if math.Abs(float64(predAfter[i][j]-predBefore[i][j])) > 1e-6 {
				t.Fatalf("prediction differs after resume at %d/%d", i, j)
			}
		}
	}
	if err := tr2.Train(context.Background(), 35, nil); err != nil {
		t.Fatal(err)
	}
	if tr2.Step() != 35 {
		t.Errorf("step %d after resumed training, want 35", tr2.Step())
	}
	if gs := tr2.trainer.GlobalStep(); gs != 35 {
		t.Errorf("GoMLX global step %d, want 35", gs)
	}

	// Open loads the trained model for inference.
	m, err := Open(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Meta().Step != 35 {
		t.Errorf("opened model at step %d", m.Meta().Step)
	}
	if _, err := m.Weights(A); err != nil {
		t.Error(err)
	}
}

func TestNewTrainerErrors(t *testing.T) {
	b := goBackend(t)
	good := synthFaces(2, 16, [3]float32{0.5, 0.5, 0.5}, 1)
	cases := map[string]struct {
		a, b [][]float32
		want error
	}{
		"no faces A": {nil, good, ErrNoFaces},
		"wrong size": {good, [][]float32{make([]float32, 10)}, ErrBadFace},
		"not finite": {good, [][]float32{func() []float32 { f := make([]float32, 16*16*3); f[3] = float32(math.NaN()); return f }()}, ErrBadFace},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewTrainer(b, c.a, c.b, TrainOptions{Config: tinyConfig})
			if !errors.Is(err, c.want) {
				t.Errorf("err %v, want %v", err, c.want)
			}
		})
	}
	// The configuration is on disk before the first checkpoint; a
	// checkpoint that lost it is refused, not resumed blindly.
	dir := t.TempDir()
	tr, err := NewTrainer(b, good, good, TrainOptions{Config: tinyConfig, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if meta, err := ReadMeta(dir); err != nil || meta.Config != tinyConfig.WithDefaults() || meta.Step != 0 {
		t.Errorf("fresh trainer's %s: %+v, %v", MetaFile, meta, err)
	}
	if err := tr.Save(); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if err := os.Remove(filepath.Join(dir, MetaFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTrainer(b, good, good, TrainOptions{Config: tinyConfig, Dir: dir}); !errors.Is(err, ErrOrphanCheckpoint) {
		t.Errorf("checkpoint without %s: %v, want ErrOrphanCheckpoint", MetaFile, err)
	}

	// Metadata without a checkpoint (a run that died before its first) is
	// nothing to resume: a new run may take another architecture there.
	early := t.TempDir()
	tr, err = NewTrainer(b, good, good, TrainOptions{Config: tinyConfig, Dir: early})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := ReadResumable(early); !errors.Is(err, ErrNoModel) {
		t.Errorf("ReadResumable of metadata alone: %v, want ErrNoModel", err)
	}
	other := tinyConfig
	other.Latent *= 2
	tr, err = NewTrainer(b, good, good, TrainOptions{Config: other, Dir: early})
	if err != nil {
		t.Fatalf("a new architecture where no checkpoint was written: %v", err)
	}
	tr.Close()
	if meta, err := ReadMeta(early); err != nil || meta.Config != other.WithDefaults() {
		t.Errorf("%s after the new run: %+v, %v", MetaFile, meta.Config, err)
	}
	if _, err := Open(b, t.TempDir()); !errors.Is(err, ErrNoModel) {
		t.Errorf("Open of an empty dir: %v", err)
	}
	if _, err := NewBackend("xla"); !errors.Is(err, ErrUnknownBackend) {
		t.Errorf("NewBackend(xla): %v", err)
	}
}

// TestTrainONNXBackend trains a few steps on GoMLX's ONNX Runtime backend,
// the one generate train uses by default: every operation of the training
// graph (including the gradients) must exist there.
func TestTrainONNXBackend(t *testing.T) {
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", filepath.Join(testutil.DepsDir(t), "lib", "libonnxruntime.so.1.30.0"))
	be, err := NewBackend(BackendONNX)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	a := synthFaces(8, tinyConfig.Size, [3]float32{0.85, 0.65, 0.55}, 1)
	bb := synthFaces(8, tinyConfig.Size, [3]float32{0.45, 0.35, 0.75}, 2)
	tr, err := NewTrainer(be, a, bb, TrainOptions{Config: tinyConfig, Dir: t.TempDir(), CheckpointEvery: 10,
		BatchSize: 4, LearningRate: 3e-3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	before, err := tr.EvalLoss(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Train(context.Background(), 20, nil); err != nil {
		t.Fatal(err)
	}
	after, err := tr.EvalLoss(a, bb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("onnx backend: eval loss before %.4f, after 20 steps %.4f", before, after)
	if !(after < 0.8*before) {
		t.Errorf("loss did not fall: before %.4f after %.4f", before, after)
	}
}
