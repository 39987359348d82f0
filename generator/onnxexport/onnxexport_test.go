package onnxexport

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/internal/testutil"
)

func randomFaces(n, size int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, size*size*3)
		for j := range out[i] {
			// Smooth-ish content: a gradient plus noise.
			out[i][j] = float32(0.5*float64(j%(size*3))/float64(size*3) + 0.4*rng.Float64())
		}
	}
	return out
}

// trainedModel trains a tiny model for a few steps and opens it.
func trainedModel(t *testing.T, cfg model.Config) *model.Model {
	t.Helper()
	b, err := model.NewBackend(model.BackendGo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	dir := t.TempDir()
	a, bb := randomFaces(4, cfg.Size, 1), randomFaces(4, cfg.Size, 2)
	tr, err := model.NewTrainer(b, a, bb, model.TrainOptions{Config: cfg, Dir: dir, BatchSize: 2, LearningRate: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Train(context.Background(), 3, nil); err != nil {
		t.Fatal(err)
	}
	_ = tr.Close()
	m, err := model.Open(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestONNXMatchesGoMLX exports both encoder+decoder pairs and checks that
// ONNX Runtime's output equals GoMLX's to 1e-4, at two batch sizes.
func TestONNXMatchesGoMLX(t *testing.T) {
	testutil.InitORT(t)
	cfg := model.Config{Size: 32, Width: 4, Latent: 16}
	m := trainedModel(t, cfg)
	dir := t.TempDir()
	faces := randomFaces(3, cfg.Size, 9)
	if err := WriteDecoders(dir, m); err != nil {
		t.Fatal(err)
	}
	var worst float64
	for _, id := range []model.Identity{model.A, model.B} {
		want, err := m.Predict(id, faces)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, model.DecoderFile(id))
		for _, n := range []int{3, 1} {
			shape := []int64{int64(n), int64(cfg.Size), int64(cfg.Size), 3}
			sess, err := ortutil.Load(path, []ortutil.Tensor{{Name: InputName, Shape: shape}},
				[]ortutil.Tensor{{Name: OutputName, Shape: shape}}, nil)
			if err != nil {
				t.Fatalf("loading the exported model: %v", err)
			}
			in := sess.Input(0)
			for i := range n {
				copy(in[i*len(faces[i]):], faces[i])
			}
			if err := sess.Run(); err != nil {
				t.Fatal(err)
			}
			out := sess.Output(0)
			for i := range n {
				for j, v := range want[i] {
					worst = math.Max(worst, math.Abs(float64(out[i*len(want[i])+j]-v)))
				}
			}
			_ = sess.Close()
		}
	}
	t.Logf("max |ONNX - GoMLX| = %.3g", worst)
	if worst > 1e-4 {
		t.Errorf("ONNX output differs from GoMLX by %.3g (> 1e-4)", worst)
	}
}

func TestWriteMissingWeights(t *testing.T) {
	cfg := model.Config{Size: 16, Width: 2, Latent: 4}
	err := Write(discard{}, cfg.Plan(model.A), map[string]model.Tensor{}, 16, Options{})
	if !errors.Is(err, ErrMissingWeights) {
		t.Errorf("err %v, want ErrMissingWeights", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
