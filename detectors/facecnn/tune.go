package facecnn

import (
	"encoding/binary"
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/trueframe/trueframe/models/nn"
)

// TunedWeights returns the starting weights of cfg's tuned backbone blocks
// (Config.Tune), keyed as cfg.Plan() names them: the backbone's own, read
// from its int8 convolutions and dequantised (weight = (q − zero point)·
// scale per output channel; bias = q·input scale·weight scale). Batch
// normalisation is already folded into them. With no tuned block it
// returns an empty map.
func TunedWeights(model []byte, cfg Config) (map[string]nn.Tensor, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := map[string]nn.Tensor{}
	if cfg.Tune == 0 {
		return out, nil
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("facecnn: backbone: %w", err)
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("facecnn: backbone has no graph")
	}
	producer := map[string]*onnx.NodeProto{}
	for _, n := range m.Graph.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	inits := map[string]*onnx.TensorProto{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = t
	}
	cut, _ := CutNamed(cfg.Cut)
	end := cut.Tensor
	for k := 1; k <= cfg.Tune; k++ {
		in := cut.blocks[k-1]
		convs, err := invertedResidual(producer, end, in)
		if err != nil {
			return nil, err
		}
		for i, l := range tunedBlock(k, cut.C, cut.H)[1:4] {
			w, b, err := dequantiseConv(convs[i], inits, l)
			if err != nil {
				return nil, fmt.Errorf("facecnn: backbone block before %s: %w", end, err)
			}
			out[l.Name+"/weights"], out[l.Name+"/biases"] = w, b
		}
		end = in
	}
	return out, nil
}

// invertedResidual finds the block whose sum is the tensor end and whose
// input is in: an Add of in and a projection of a depthwise convolution
// of an expansion of in. It returns the three convolutions in order.
func invertedResidual(producer map[string]*onnx.NodeProto, end, in string) ([3]*onnx.NodeProto, error) {
	var convs [3]*onnx.NodeProto
	add := producer[end]
	if add == nil || add.OpType != "QLinearAdd" || len(add.Input) < 4 || add.Input[0] != in {
		return convs, fmt.Errorf("facecnn: backbone tensor %s is not a residual sum of %s", end, in)
	}
	x := add.Input[3]
	for i := 2; i >= 0; i-- {
		n := producer[x]
		if n == nil || n.OpType != "QLinearConv" || len(n.Input) < 9 {
			return convs, fmt.Errorf("facecnn: backbone block %s → %s is not expand, depthwise, project", in, end)
		}
		convs[i], x = n, n.Input[0]
	}
	if x != in {
		return convs, fmt.Errorf("facecnn: backbone block ending at %s does not start at %s", end, in)
	}
	return convs, nil
}

// dequantiseConv reads a QLinearConv's weights and bias as floats in the
// layout of l (a 1×1 Conv, HWIO, or a Depthwise, HWC).
func dequantiseConv(n *onnx.NodeProto, inits map[string]*onnx.TensorProto, l nn.Layer) (w, b nn.Tensor, err error) {
	wd, bd := l.WeightDims()
	outs := l.Out
	xScale, err := nn.Floats(inits[n.Input[1]], 1)
	if err != nil {
		return w, b, fmt.Errorf("%s: input scale: %w", n.Name, err)
	}
	q, err := tensorInts(inits[n.Input[3]])
	if err != nil {
		return w, b, fmt.Errorf("%s: weights: %w", n.Name, err)
	}
	scale, err := nn.Floats(inits[n.Input[4]], outs)
	if err != nil {
		return w, b, fmt.Errorf("%s: weight scales: %w", n.Name, err)
	}
	zero, err := tensorInts(inits[n.Input[5]])
	if err != nil {
		return w, b, fmt.Errorf("%s: weight zero points: %w", n.Name, err)
	}
	bias, err := tensorInts(inits[n.Input[8]])
	if err != nil {
		return w, b, fmt.Errorf("%s: bias: %w", n.Name, err)
	}
	size := 1
	for _, d := range wd {
		size *= d
	}
	if len(zero) != outs || len(bias) != outs || len(q) != size {
		return w, b, fmt.Errorf("%s: %d weights, %d zero points, %d biases; want the shape %v", n.Name, len(q), len(zero), len(bias), wd)
	}
	w = nn.Tensor{Dims: wd, Data: make([]float32, len(q))}
	// ONNX holds [out, in/group, kh, kw]; the plan [1,1,in,out] for a
	// 1×1 convolution and [kh,kw,C] for a depthwise one: in both, value j
	// of output channel o goes to j·out + o.
	per := len(q) / outs
	for o := range outs {
		for j := range per {
			w.Data[j*outs+o] = float32(q[o*per+j]-zero[o]) * scale[o]
		}
	}
	b = nn.Tensor{Dims: bd, Data: make([]float32, outs)}
	for o := range outs {
		b.Data[o] = float32(bias[o]) * xScale[0] * scale[o]
	}
	return w, b, nil
}

// tensorInts returns an int8, uint8 or int32 initialiser's values.
func tensorInts(t *onnx.TensorProto) ([]int32, error) {
	if t == nil {
		return nil, fmt.Errorf("missing")
	}
	switch t.DataType {
	case int32(onnx.TensorProto_INT8), int32(onnx.TensorProto_UINT8):
		if len(t.RawData) == 0 {
			return t.Int32Data, nil
		}
		out := make([]int32, len(t.RawData))
		for i, v := range t.RawData {
			if t.DataType == int32(onnx.TensorProto_INT8) {
				out[i] = int32(int8(v))
			} else {
				out[i] = int32(v)
			}
		}
		return out, nil
	case int32(onnx.TensorProto_INT32):
		if len(t.RawData) == 0 {
			return t.Int32Data, nil
		}
		out := make([]int32, len(t.RawData)/4)
		for i := range out {
			out[i] = int32(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("data type %d, want an integer", t.DataType)
}
