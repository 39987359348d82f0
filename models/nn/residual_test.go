package nn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/internal/testutil"
)

// invertedResidual is a MobileNetV2 block: expand, depthwise, project, and
// the input added back.
func invertedResidual() []Layer {
	return []Layer{
		{Kind: Mark},
		{Kind: Conv, Name: "b/expand", In: 4, Out: 8, K: 1, Stride: 1, Act: ReLU6},
		{Kind: Depthwise, Name: "b/dw", In: 8, Out: 8, K: 3, Act: ReLU6},
		{Kind: Conv, Name: "b/project", In: 8, Out: 4, K: 1, Stride: 1},
		{Kind: AddMark},
	}
}

// TestDepthwiseResidualMatchesONNX: the GoMLX graph of a block with a
// depthwise layer, ReLU6 and a residual connection computes what its ONNX
// export computes in ONNX Runtime (a layout slip in the depthwise kernel,
// a padding off by one or the skip added at the wrong place would not),
// on a 6×5 image so that height and width cannot be swapped unseen, with
// weights large enough that ReLU6 clips; and the weights read back from
// the file are those written.
func TestDepthwiseResidualMatchesONNX(t *testing.T) {
	testutil.InitORT(t)
	plan := invertedResidual()
	weights := randomWeights(plan, 11)
	const h, w, c = 6, 5, 4
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 2*h*w*c)
	for i := range x {
		x[i] = float32(2 * rng.NormFloat64())
	}

	be, err := NewBackend(BackendGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	store := mlmodel.NewStore()
	if err := SetWeights(store, plan, weights); err != nil {
		t.Fatal(err)
	}
	exec, err := mlmodel.NewExec(be, store, func(scope *mlmodel.Scope, x *graph.Node) *graph.Node {
		return Apply(scope, plan, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, 2, h, w, c))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := WriteONNX(&buf, plan, weights, ExportOptions{InputShape: [3]int{h, w, c}, OutputShape: [3]int{h, w, c}}); err != nil {
		t.Fatal(err)
	}
	m, err := ortutil.LoadData("block", buf.Bytes(), []ortutil.Tensor{{Name: "input", Shape: []int64{2, h, w, c}}},
		[]ortutil.Tensor{{Name: "output", Shape: []int64{2, h, w, c}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	copy(m.Input(0), x)
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	want := m.Output(0)
	clipped, worst := 0, 0.0
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	// ReLU6 must have clipped somewhere for the test to cover it: the
	// expansion's outputs, recomputed here, reach 6.
	for p := 0; p < 2*h*w; p++ {
		for o := range 8 {
			s := float64(weights["b/expand/biases"].Data[o])
			for i := range c {
				s += float64(x[p*c+i]) * float64(weights["b/expand/weights"].Data[i*8+o])
			}
			if s > 6 {
				clipped++
			}
		}
	}
	t.Logf("largest difference %.2g; %d expanded values clipped at 6", worst, clipped)
	if worst > 1e-4 {
		t.Errorf("GoMLX and ONNX Runtime differ by up to %.3g", worst)
	}
	if clipped == 0 {
		t.Error("no value reached ReLU6's ceiling: the test does not cover it")
	}
	back, err := ReadONNX(buf.Bytes(), plan)
	if err != nil {
		t.Fatal(err)
	}
	for name, tns := range weights {
		for i, v := range tns.Data {
			if back[name].Data[i] != v {
				t.Fatalf("%s[%d]: read back %v, wrote %v", name, i, back[name].Data[i], v)
			}
		}
	}
}

// TestDepthwiseResidualTrainsOnONNXRuntime: the block's gradient builds
// and runs on GoMLX's ONNX Runtime backend, the one the trainers use (it
// lacks some operations the pure-Go backend has, Pad among them), and a
// few steps lower a loss.
func TestDepthwiseResidualTrainsOnONNXRuntime(t *testing.T) {
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", filepath.Join(testutil.DepsDir(t), "lib", "libonnxruntime.so.1.30.0"))
	be, err := NewBackend(BackendONNX)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	plan := invertedResidual()
	store := mlmodel.NewStore()
	if err := SetWeights(store, plan, randomWeights(plan, 5)); err != nil {
		t.Fatal(err)
	}
	modelFn := func(scope *mlmodel.Scope, _ any, inputs []*graph.Node) []*graph.Node {
		return []*graph.Node{Apply(scope, plan, inputs[0])}
	}
	lossFn := func(labels, preds []*graph.Node) *graph.Node {
		return graph.ReduceAllMean(graph.Square(graph.Sub(preds[0], labels[0])))
	}
	tr := train.NewTrainer(be, store, modelFn, lossFn, optimizer.Adam().LearningRate(1e-2).Done(), nil, nil)
	rng := rand.New(rand.NewPCG(8, 8))
	x, y := make([]float32, 2*6*5*4), make([]float32, 2*6*5*4)
	for i := range x {
		x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	var first, last float64
	for step := range 20 {
		m, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, 2, 6, 5, 4)},
			Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(y, 2, 6, 5, 4)}})
		if err != nil {
			t.Fatal(err)
		}
		l, err := Scalar(m[0])
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = l
		}
		last = l
	}
	t.Logf("loss %.3f → %.3f in 20 steps", first, last)
	if !(last < first) {
		t.Errorf("loss %.3f → %.3f: training does not lower it", first, last)
	}
}

// TestRateScalesTheSteps: a layer's Rate scales how far Adam moves its
// weights, while the network computes the same function from the same
// weights and Weights gives back what SetWeights was given.
func TestRateScalesTheSteps(t *testing.T) {
	be, err := NewBackend(BackendGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	rng := rand.New(rand.NewPCG(2, 2))
	x, y := make([]float32, 2*6*5*4), make([]float32, 2*6*5*4)
	for i := range x {
		x[i], y[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	start := randomWeights(invertedResidual(), 5)
	// run trains a copy of the block whose layers have rate for 5 steps and
	// returns its first loss and the mean change of its expansion weights.
	run := func(rate float64) (float64, float64) {
		plan := invertedResidual()
		for i := range plan {
			plan[i].Rate = rate
		}
		store := mlmodel.NewStore()
		if err := SetWeights(store, plan, start); err != nil {
			t.Fatal(err)
		}
		back, err := Weights(store, plan)
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range start {
			for i, v := range w.Data {
				if d := math.Abs(float64(back[name].Data[i] - v)); d > 1e-6*math.Max(1, math.Abs(float64(v))) {
					t.Fatalf("rate %g: %s[%d] set %v, read back %v", rate, name, i, v, back[name].Data[i])
				}
			}
		}
		tr := train.NewTrainer(be, store, func(scope *mlmodel.Scope, _ any, inputs []*graph.Node) []*graph.Node {
			return []*graph.Node{Apply(scope, plan, inputs[0])}
		}, func(labels, preds []*graph.Node) *graph.Node {
			return graph.ReduceAllMean(graph.Square(graph.Sub(preds[0], labels[0])))
		}, optimizer.Adam().LearningRate(1e-2).Done(), nil, nil)
		var first float64
		for step := range 5 {
			m, err := tr.TrainStep(train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, 2, 6, 5, 4)},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(y, 2, 6, 5, 4)}})
			if err != nil {
				t.Fatal(err)
			}
			if step == 0 {
				if first, err = Scalar(m[0]); err != nil {
					t.Fatal(err)
				}
			}
		}
		after, err := Weights(store, plan)
		if err != nil {
			t.Fatal(err)
		}
		var moved float64
		w0 := start["b/expand/weights"].Data
		for i, v := range after["b/expand/weights"].Data {
			moved += math.Abs(float64(v-w0[i])) / float64(len(w0))
		}
		return first, moved
	}
	loss1, moved1 := run(0)
	loss01, moved01 := run(0.1)
	t.Logf("first loss %.4f / %.4f; mean change of the expansion weights in 5 steps: rate 1 %.5f, rate 0.1 %.5f", loss1, loss01, moved1, moved01)
	if math.Abs(loss1-loss01) > 1e-3*loss1 {
		t.Errorf("the same weights give loss %.5f at rate 1 and %.5f at rate 0.1", loss1, loss01)
	}
	if r := moved01 / moved1; r < 0.07 || r > 0.14 {
		t.Errorf("rate 0.1 moved the weights %.3f times as far as rate 1, want about 0.1", r)
	}
}
