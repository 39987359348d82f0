package lrnet

import (
	"errors"
	"fmt"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/trueframe/trueframe/models/nn"
)

// The published networks' shape: a bidirectional GRU of hidden units
// over 136 inputs, a residual two-layer perceptron on its two final
// states, and a two-way linear head (index 1: fake).
const (
	hidden  = 32
	inputs  = 2 * Points
	classes = 2
)

// Files of the two branches in the model directory (the model mirror's
// names): g1 reads positions, g2 frame-to-frame steps.
const (
	PositionsFile = "lrnet_g1.pth"
	StepsFile     = "lrnet_g2.pth"
)

// ErrWeights is returned when a weight file is not the network described
// above.
var ErrWeights = errors.New("lrnet: unexpected weights")

// branch is one network's parameters as PyTorch stores them: GRU gates in
// the order reset, update, new; linear weights [out][in].
type branch struct {
	initial        [2][]float32 // learnt initial state per direction
	wIn, wRec      [2][]float32 // [3·hidden][inputs], [3·hidden][hidden]
	bIn, bRec      [2][]float32 // [3·hidden]
	w1, b1, w2, b2 []float32    // residual block: hidden·2 → hidden·2 → hidden·2
	wHead, bHead   []float32    // [classes][hidden·2]
}

// readBranch reads a PyTorch state dict saved by LRNet's training code.
func readBranch(path string) (*branch, error) {
	v, err := pytorch.Load(path)
	if err != nil {
		return nil, fmt.Errorf("lrnet: %s: %w", path, err)
	}
	dict, ok := v.(*types.OrderedDict)
	if !ok {
		return nil, fmt.Errorf("%w: %s holds %T, not a state dict", ErrWeights, path, v)
	}
	var bad error
	get := func(key string, size ...int) []float32 {
		want := 1
		for _, s := range size {
			want *= s
		}
		raw, ok := dict.Get(key)
		t, isTensor := raw.(*pytorch.Tensor)
		if !ok || !isTensor {
			bad = fmt.Errorf("%w: %s has no tensor %q", ErrWeights, path, key)
			return make([]float32, want)
		}
		st, isFloat := t.Source.(*pytorch.FloatStorage)
		n := 1
		for _, s := range t.Size {
			n *= s
		}
		if !isFloat || n != want || t.StorageOffset < 0 || t.StorageOffset+n > len(st.Data) {
			bad = fmt.Errorf("%w: %s: %q is %v, want %v float32", ErrWeights, path, key, t.Size, size)
			return make([]float32, want)
		}
		return st.Data[t.StorageOffset : t.StorageOffset+n]
	}
	b := &branch{}
	state := get("hidden_state", 2, 1, hidden)
	b.initial = [2][]float32{state[:hidden], state[hidden:]}
	for d, suffix := range []string{"", "_reverse"} {
		b.wIn[d] = get("gru.weight_ih_l0"+suffix, 3*hidden, inputs)
		b.wRec[d] = get("gru.weight_hh_l0"+suffix, 3*hidden, hidden)
		b.bIn[d] = get("gru.bias_ih_l0"+suffix, 3*hidden)
		b.bRec[d] = get("gru.bias_hh_l0"+suffix, 3*hidden)
	}
	b.w1, b.b1 = get("dense.1.fn.net.0.weight", 2*hidden, 2*hidden), get("dense.1.fn.net.0.bias", 2*hidden)
	b.w2, b.b2 = get("dense.1.fn.net.3.weight", 2*hidden, 2*hidden), get("dense.1.fn.net.3.bias", 2*hidden)
	b.wHead, b.bHead = get("dense.3.weight", classes, 2*hidden), get("dense.3.bias", classes)
	if bad != nil {
		return nil, bad
	}
	return b, nil
}

// Input and output names of the ONNX model buildModel makes.
const (
	positionsInput = "positions" // [1, BlockLen, 136]
	stepsInput     = "steps"     // [1, BlockLen−1, 136]
	positionsLogit = "positions_logits"
	stepsLogit     = "steps_logits"
)

// buildModel writes both branches as one ONNX model (opset nn.Opset): each
// is ONNX's GRU operator (bidirectional, the reset gate applied after the
// recurrent product, as PyTorch does) on its input, then the perceptron
// and head as Gemm nodes; its output is the head's two logits.
func buildModel(positions, steps *branch, version string) ([]byte, error) {
	g := &nn.Graph{}
	for _, b := range []struct {
		br      *branch
		in, out string
		length  int64
	}{{positions, positionsInput, positionsLogit, BlockLen}, {steps, stepsInput, stepsLogit, BlockLen - 1}} {
		x := g.Input(b.in, 1, b.length, inputs)
		g.Output(b.out, b.br.addTo(g, b.in, x), 1, classes)
	}
	return g.Marshal("lrnet", map[string]string{"version": version, "source": "LRNet (MIT), PyTorch weights converted by trueframe"})
}

// addTo adds the branch's layers reading x ([1, T, 136]) and returns the
// logits' name.
func (b *branch) addTo(g *nn.Graph, prefix, x string) string {
	// PyTorch orders a GRU's gates reset, update, new; ONNX update, reset,
	// hidden.
	reorder := func(w []float32, cols int) []float32 {
		out := make([]float32, 0, len(w))
		for _, gate := range []int{1, 0, 2} {
			out = append(out, w[gate*hidden*cols:(gate+1)*hidden*cols]...)
		}
		return out
	}
	var w, r, bias, initial []float32
	for d := range 2 {
		w = append(w, reorder(b.wIn[d], inputs)...)
		r = append(r, reorder(b.wRec[d], hidden)...)
	}
	for d := range 2 {
		bias = append(bias, reorder(b.bIn[d], 1)...)
		bias = append(bias, reorder(b.bRec[d], 1)...)
	}
	for d := range 2 {
		initial = append(initial, b.initial[d]...)
	}
	seq := g.Node("Transpose", []string{x}, nn.AttrInts("perm", 1, 0, 2)) // [T, 1, 136]
	outs := g.NodeOutputs("GRU", []string{seq,
		g.Float(prefix+"_W", []int64{2, 3 * hidden, inputs}, w),
		g.Float(prefix+"_R", []int64{2, 3 * hidden, hidden}, r),
		g.Float(prefix+"_B", []int64{2, 6 * hidden}, bias),
		"",
		g.Float(prefix+"_initial_h", []int64{2, 1, hidden}, initial),
	}, 2, nn.AttrInt("hidden_size", hidden), nn.AttrString("direction", "bidirectional"), nn.AttrInt("linear_before_reset", 1))
	// Y_h [2, 1, hidden] → [1, 2·hidden]: forward state, then backward.
	h := g.Node("Transpose", []string{outs[1]}, nn.AttrInts("perm", 1, 0, 2))
	h = g.Node("Reshape", []string{h, g.Int64(prefix+"_flat", []int64{2}, []int64{1, 2 * hidden})})
	gemm := func(name string, x string, w, b []float32, out int) string {
		return g.Node("Gemm", []string{x,
			g.Float(prefix+"_"+name+"_w", []int64{int64(out), 2 * hidden}, w),
			g.Float(prefix+"_"+name+"_b", []int64{int64(out)}, b),
		}, nn.AttrInt("transB", 1))
	}
	y := g.Node("Relu", []string{gemm("fc1", h, b.w1, b.b1, 2*hidden)})
	y = g.Node("Add", []string{gemm("fc2", y, b.w2, b.b2, 2*hidden), h})
	return gemm("head", y, b.wHead, b.bHead, classes)
}
