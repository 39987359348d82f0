package ortutil

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// preluToConv rewrites every PRelu with a per-channel slope as operations
// ONNX Runtime's CPU provider keeps in its blocked (NCHWc) layout:
//
//	PRelu(x, α) = (1−α)·Relu(x) + α·x
//
// with both per-channel scalings as depthwise 1×1 convolutions and an Add.
//
// Why: ONNX Runtime runs convolutions in the blocked layout but has no blocked
// PRelu, so each PRelu costs a reorder out of the layout and one back in; the
// MediaPipe exports also Expand each slope to the full activation size first.
// In Face Mesh and Iris, whose 23 and 53 PRelus follow nearly every
// convolution, that was three quarters of the run time on image-like input
// (BenchmarkLandmarkModels: Face Mesh 3.5 → 0.85 ms, Iris 3.4 → 0.93 ms per
// run on one core; the PRelus' cost depends on the data, and all-zero input
// hides most of it).
//
// A slope qualifies when it is a float32 initializer of shape [1,C,1,1],
// C > 1, given directly or through an Expand: that shape pins the channel axis to
// axis 1 of a 4-D input, which is what the convolution assumes. Other PRelus
// are left alone. It returns the rewritten model and how many PRelus it
// rewrote; with none it returns nil and 0.
func preluToConv(model []byte) ([]byte, int, error) {
	var m onnx.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, 0, fmt.Errorf("parsing model: %w", err)
	}
	g := m.GetGraph()
	if g == nil {
		return nil, 0, nil
	}
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.Initializer {
		if t.GetDataLocation() == onnx.TensorProto_EXTERNAL {
			// Weights beside the file would not be found from bytes.
			return nil, 0, nil
		}
		inits[t.Name] = t
	}
	producer := map[string]*onnx.NodeProto{}
	names := newNamer(g)
	for _, n := range g.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
	}

	var nodes []*onnx.NodeProto
	rewritten := 0
	for _, n := range g.Node {
		alpha, ok := channelSlope(n, inits, producer)
		if !ok {
			nodes = append(nodes, n)
			continue
		}
		c := int64(len(alpha))
		keep := make([]float32, c)
		for i, a := range alpha {
			keep[i] = 1 - a
		}
		x, y := n.Input[0], n.Output[0]
		relu, pos, lin := names.next(y+"/relu"), names.next(y+"/pos"), names.next(y+"/lin")
		wPos, wLin := names.next(y+"/pos_scale"), names.next(y+"/lin_scale")
		depthwise := []*onnx.AttributeProto{{Name: "group", Type: onnx.AttributeProto_INT, I: c}}
		nodes = append(nodes,
			&onnx.NodeProto{Name: relu, OpType: "Relu", Input: []string{x}, Output: []string{relu}},
			&onnx.NodeProto{Name: pos, OpType: "Conv", Input: []string{relu, wPos}, Output: []string{pos}, Attribute: depthwise},
			&onnx.NodeProto{Name: lin, OpType: "Conv", Input: []string{x, wLin}, Output: []string{lin}, Attribute: depthwise},
			&onnx.NodeProto{Name: names.next(y + "/sum"), OpType: "Add", Input: []string{pos, lin}, Output: []string{y}},
		)
		g.Initializer = append(g.Initializer,
			floatTensor(wPos, []int64{c, 1, 1, 1}, keep), floatTensor(wLin, []int64{c, 1, 1, 1}, alpha))
		rewritten++
	}
	if rewritten == 0 {
		return nil, 0, nil
	}
	g.Node = dropDeadExpands(nodes, g.Output)
	out, err := proto.Marshal(&m)
	if err != nil {
		return nil, 0, fmt.Errorf("writing model: %w", err)
	}
	return out, rewritten, nil
}

// channelSlope returns the slopes of n when n is a PRelu with a per-channel
// [1,C,1,1] float32 slope initializer, directly or through an Expand (whose
// broadcast PRelu would do anyway).
func channelSlope(n *onnx.NodeProto, inits map[string]*onnx.TensorProto, producer map[string]*onnx.NodeProto) ([]float32, bool) {
	if n.OpType != "PRelu" || (n.Domain != "" && n.Domain != "ai.onnx") || len(n.Input) != 2 || len(n.Output) != 1 {
		return nil, false
	}
	t := inits[n.Input[1]]
	if p := producer[n.Input[1]]; t == nil && p != nil && p.OpType == "Expand" && len(p.Input) == 2 {
		t = inits[p.Input[0]]
	}
	if t == nil || t.DataType != int32(onnx.TensorProto_FLOAT) {
		return nil, false
	}
	d := t.Dims
	// C = 1 would be one slope shared by every channel, which a one-channel
	// convolution cannot apply to many.
	if len(d) != 4 || d[0] != 1 || d[1] < 2 || d[2] != 1 || d[3] != 1 {
		return nil, false
	}
	v, ok := float32s(t)
	return v, ok && int64(len(v)) == d[1]
}

// float32s returns a float tensor's values from whichever field holds them.
func float32s(t *onnx.TensorProto) ([]float32, bool) {
	if len(t.FloatData) > 0 {
		return t.FloatData, true
	}
	if len(t.RawData)%4 != 0 {
		return nil, false
	}
	v := make([]float32, len(t.RawData)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
	}
	return v, true
}

func floatTensor(name string, dims []int64, v []float32) *onnx.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}
}

// dropDeadExpands removes the Expand nodes whose output nothing reads any
// more: the slopes the rewrite no longer needs at full size.
func dropDeadExpands(nodes []*onnx.NodeProto, outputs []*onnx.ValueInfoProto) []*onnx.NodeProto {
	read := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.Input {
			read[in] = true
		}
	}
	for _, o := range outputs {
		read[o.Name] = true
	}
	kept := nodes[:0]
	for _, n := range nodes {
		if n.OpType == "Expand" && len(n.Output) == 1 && !read[n.Output[0]] {
			continue
		}
		kept = append(kept, n)
	}
	return kept
}

// namer hands out value and node names not yet used in a graph.
type namer map[string]bool

func newNamer(g *onnx.GraphProto) namer {
	used := namer{}
	for _, vs := range [][]*onnx.ValueInfoProto{g.Input, g.Output, g.ValueInfo} {
		for _, v := range vs {
			used[v.Name] = true
		}
	}
	for _, t := range g.Initializer {
		used[t.Name] = true
	}
	for _, n := range g.Node {
		used[n.Name] = true
		for _, s := range append(n.Input[:len(n.Input):len(n.Input)], n.Output...) {
			used[s] = true
		}
	}
	return used
}

func (u namer) next(base string) string {
	name := base
	for i := 1; u[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	u[name] = true
	return name
}
