package ortutil_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media/landmark"
)

// preluModel writes a small model with the PRelu forms the rewrite meets: a
// per-channel slope through an Expand (as the MediaPipe exports have it)
// whose expanded slope is read elsewhere too, so the Expand must stay; a
// single slope shared by all channels in the [1,1,1,1] shape, which must be
// left alone; and a per-channel slope given directly on the PRelu that
// produces the graph's output.
func preluModel(t *testing.T) string {
	t.Helper()
	const c = 16
	rng := rand.New(rand.NewPCG(1, 2))
	vals := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return v
	}
	f32 := func(name string, dims []int64, v []float32) *onnx.TensorProto {
		raw := make([]byte, 4*len(v))
		for i, f := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
		return &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}
	}
	io := func(name string) *onnx.ValueInfoProto {
		dims := []*onnx.TensorShapeProto_Dimension{}
		for _, d := range []int64{1, c, 6, 6} {
			dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: dims}}}}}
	}
	g := &onnx.GraphProto{
		Name:   "prelu",
		Input:  []*onnx.ValueInfoProto{io("x")},
		Output: []*onnx.ValueInfoProto{io("y"), io("side")},
		Initializer: []*onnx.TensorProto{
			f32("alpha1", []int64{1, c, 1, 1}, vals(c, -0.5, 0.9)),
			{Name: "shape", Dims: []int64{4}, DataType: int32(onnx.TensorProto_INT64), Int64Data: []int64{1, c, 6, 6}},
			f32("w", []int64{c, c, 3, 3}, vals(c*c*9, -0.3, 0.3)),
			f32("alpha2", []int64{1, c, 1, 1}, vals(c, 0, 0.5)),
			f32("shared", []int64{1, 1, 1, 1}, []float32{0.2}),
		},
		Node: []*onnx.NodeProto{
			{Name: "expand", OpType: "Expand", Input: []string{"alpha1", "shape"}, Output: []string{"slope1"}},
			{Name: "prelu1", OpType: "PRelu", Input: []string{"x", "slope1"}, Output: []string{"a"}},
			{Name: "conv", OpType: "Conv", Input: []string{"a", "w"}, Output: []string{"b"},
				Attribute: []*onnx.AttributeProto{{Name: "pads", Type: onnx.AttributeProto_INTS, Ints: []int64{1, 1, 1, 1}}}},
			{Name: "prelu3", OpType: "PRelu", Input: []string{"b", "shared"}, Output: []string{"c"}},
			{Name: "prelu2", OpType: "PRelu", Input: []string{"c", "alpha2"}, Output: []string{"y"}},
			{Name: "side", OpType: "Add", Input: []string{"slope1", "x"}, Output: []string{"side"}},
		},
	}
	m := &onnx.ModelProto{IrVersion: 7, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 11}}, Graph: g}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "prelu.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBoth loads path as written and rewritten, runs both on the same
// pseudo-random input and returns the largest output difference and the
// largest output magnitude.
func runBoth(t testing.TB, path string, in ortutil.Tensor, outs []ortutil.Tensor, wantRewritten func(int) bool) (diff, scale float64) {
	t.Helper()
	asIs, err := ortutil.Load(path, []ortutil.Tensor{in}, outs, &ortutil.Options{AsIs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer asIs.Close()
	fast, err := ortutil.Load(path, []ortutil.Tensor{in}, outs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if asIs.Rewritten() != 0 {
		t.Errorf("AsIs model reports %d rewritten operations", asIs.Rewritten())
	}
	if !wantRewritten(fast.Rewritten()) {
		t.Fatalf("%s: %d operations rewritten", filepath.Base(path), fast.Rewritten())
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range asIs.Input(0) {
		v := float32(2*rng.Float64() - 1)
		asIs.Input(0)[i], fast.Input(0)[i] = v, v
	}
	if err := asIs.Run(); err != nil {
		t.Fatal(err)
	}
	if err := fast.Run(); err != nil {
		t.Fatal(err)
	}
	for o := range outs {
		for i, want := range asIs.Output(o) {
			diff = math.Max(diff, math.Abs(float64(fast.Output(o)[i]-want)))
			scale = math.Max(scale, math.Abs(float64(want)))
		}
	}
	return diff, scale
}

func TestPReluRewriteKeepsOutputs(t *testing.T) {
	testutil.InitORT(t)
	shape := []int64{1, 16, 6, 6}
	diff, scale := runBoth(t, preluModel(t), ortutil.Tensor{Name: "x", Shape: shape},
		[]ortutil.Tensor{{Name: "y", Shape: shape}, {Name: "side", Shape: shape}}, func(n int) bool { return n == 2 })
	if scale == 0 || diff > 1e-5*scale {
		t.Errorf("rewritten model differs by %.3g (outputs up to %.3g)", diff, scale)
	}
}

// The shipped landmark models are the reason for the rewrite: every one of
// their PRelus must be rewritten, and the points they give must not move.
func TestPReluRewriteShippedModels(t *testing.T) {
	testutil.InitORT(t)
	for _, tc := range []struct {
		file  string
		side  int64
		outs  []ortutil.Tensor
		prelu int
	}{
		{landmark.FaceMeshFile, 192, []ortutil.Tensor{{Name: "conv2d_20", Shape: []int64{1, 3 * landmark.NumPoints, 1, 1}}, {Name: "conv2d_30", Shape: []int64{1, 1, 1, 1}}}, 23},
		{landmark.IrisFile, 64, []ortutil.Tensor{{Name: "output_eyes_contours_and_brows", Shape: []int64{1, 213}}, {Name: "output_iris", Shape: []int64{1, 15}}}, 53},
	} {
		t.Run(tc.file, func(t *testing.T) {
			diff, scale := runBoth(t, testutil.ModelPath(t, tc.file),
				ortutil.Tensor{Name: "input_1", Shape: []int64{1, 3, tc.side, tc.side}}, tc.outs,
				func(n int) bool { return n == tc.prelu })
			// Outputs are pixel coordinates in the model's input; a
			// thousandth of a pixel is far below what the models resolve.
			t.Logf("largest difference %.2g (outputs up to %.3g)", diff, scale)
			if diff > 1e-3 {
				t.Errorf("rewritten model differs by %.3g px", diff)
			}
		})
	}
}

func TestPReluRewriteGraph(t *testing.T) {
	data, err := os.ReadFile(preluModel(t))
	if err != nil {
		t.Fatal(err)
	}
	out, n, err := ortutil.PReluToConv(data)
	if err != nil || n != 2 {
		t.Fatalf("rewrote %d, err %v; want 2", n, err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, node := range m.Graph.Node {
		ops[node.OpType]++
	}
	want := map[string]int{"PRelu": 1, "Relu": 2, "Conv": 5, "Add": 3, "Expand": 1}
	for op, n := range want {
		if ops[op] != n {
			t.Errorf("%d %s nodes, want %d (graph %v)", ops[op], op, n, ops)
		}
	}
	// The output is still produced under its own name.
	var makesY bool
	for _, node := range m.Graph.Node {
		makesY = makesY || (len(node.Output) == 1 && node.Output[0] == "y")
	}
	if !makesY {
		t.Error("no node produces the graph output y any more")
	}

	// An Expand nothing else reads goes.
	single, err := os.ReadFile(preluModel(t))
	if err != nil {
		t.Fatal(err)
	}
	var sm onnx.ModelProto
	if err := proto.Unmarshal(single, &sm); err != nil {
		t.Fatal(err)
	}
	sm.Graph.Node = sm.Graph.Node[:len(sm.Graph.Node)-1] // the Add reading the slope
	sm.Graph.Output = sm.Graph.Output[:1]
	single, _ = proto.Marshal(&sm)
	if out, _, err = ortutil.PReluToConv(single); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(out, &sm); err != nil {
		t.Fatal(err)
	}
	for _, node := range sm.Graph.Node {
		if node.OpType == "Expand" {
			t.Error("an Expand nothing reads is still there")
		}
	}

	// Nothing to rewrite gives nothing back; garbage is an error.
	if out, n, err := ortutil.PReluToConv(nil); out != nil || n != 0 || err != nil {
		t.Errorf("empty model: %d rewritten, err %v", n, err)
	}
	if _, _, err := ortutil.PReluToConv([]byte("not a model at all")); err == nil {
		t.Error("garbage parsed as a model")
	}
}

func BenchmarkLandmarkModels(b *testing.B) {
	testutil.InitORT(b)
	for _, tc := range []struct {
		file string
		side int64
		outs []ortutil.Tensor
	}{
		{landmark.FaceMeshFile, 192, []ortutil.Tensor{{Name: "conv2d_20", Shape: []int64{1, 3 * landmark.NumPoints, 1, 1}}}},
		{landmark.IrisFile, 64, []ortutil.Tensor{{Name: "output_iris", Shape: []int64{1, 15}}}},
	} {
		for _, asIs := range []bool{true, false} {
			name := tc.file + "/rewritten"
			if asIs {
				name = tc.file + "/as-is"
			}
			b.Run(name, func(b *testing.B) {
				m, err := ortutil.Load(testutil.ModelPath(b, tc.file),
					[]ortutil.Tensor{{Name: "input_1", Shape: []int64{1, 3, tc.side, tc.side}}}, tc.outs, &ortutil.Options{AsIs: asIs})
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				// Zeros would run faster than any image does.
				rng := rand.New(rand.NewPCG(5, 6))
				for i := range m.Input(0) {
					m.Input(0)[i] = float32(2*rng.Float64() - 1)
				}
				for b.Loop() {
					if err := m.Run(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
