package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// Opset is the ONNX operator set version WriteONNX uses. The layers map to:
//
//	input [N,H,W,C] → Transpose to NCHW
//	SpaceToDepth (blocksize 2); Conv (weights HWIO → OIHW, explicit pads) + LeakyRelu / Sigmoid / Clip
//	Depthwise: Conv with one group per channel; Mark … AddMark: Add
//	Dense: Transpose to NHWC, Flatten, Gemm; Unflatten: Reshape [-1,H,W,C], Transpose
//	Upsample: Resize (nearest, asymmetric, floor: exact pixel repetition)
//	→ Transpose to NHWC → output
//
// The file is ONNX's ModelProto, built with the public protobuf message
// types of github.com/advancedclimatesystems/gonnx/onnx and marshalled with
// google.golang.org/protobuf: no schema is copied here.
const Opset = 13

// ErrMissingWeights is returned when the weights lack a layer of the plan.
var ErrMissingWeights = errors.New("nn: missing weights")

// ExportOptions describes an ONNX file. Zero fields take the defaults shown.
type ExportOptions struct {
	// GraphName is the graph's name ("trueframe").
	GraphName string
	// Input and Output name the graph's input and output ("input",
	// "output").
	Input, Output string
	// InputShape and OutputShape are the (H, W, C) of one batch item.
	InputShape, OutputShape [3]int
	// Metadata is written as the model's metadata properties.
	Metadata map[string]string
}

func (o ExportOptions) withDefaults() ExportOptions {
	if o.GraphName == "" {
		o.GraphName = "trueframe"
	}
	if o.Input == "" {
		o.Input = "input"
	}
	if o.Output == "" {
		o.Output = "output"
	}
	return o
}

// WriteONNX writes the network of plan with its weights (keyed by
// Layer.Name+"/weights" and "/biases", in the layouts of Layer.WeightDims)
// to w as an ONNX model of opset Opset. Its input, opts.Input, is an NHWC
// float batch of opts.InputShape (H, W, C); its output, opts.Output, is the
// plan's last image, NHWC, of opts.OutputShape; the batch axis is dynamic.
func WriteONNX(w io.Writer, plan []Layer, weights map[string]Tensor, opts ExportOptions) error {
	return WriteEnsembleONNX(w, plan, []map[string]Tensor{weights}, opts)
}

// WriteEnsembleONNX writes several networks of one plan as one model whose
// output is the mean of theirs: an ensemble of networks trained from
// different seeds, whose average varies less from one training to the
// next than any member does. Member k's initialisers are prefixed "m<k>_"
// (none for a single member, which is WriteONNX's file); ReadONNXMembers
// reads them back.
func WriteEnsembleONNX(w io.Writer, plan []Layer, members []map[string]Tensor, opts ExportOptions) error {
	opts = opts.withDefaults()
	if len(members) == 0 {
		return fmt.Errorf("%w: no member", ErrMissingWeights)
	}
	g := &graphBuilder{}
	in := g.node("Transpose", []string{opts.Input}, attrInts("perm", 0, 3, 1, 2))
	var outs []string
	for k, weights := range members {
		prefix := ""
		if len(members) > 1 {
			prefix = fmt.Sprintf("m%d_", k)
		}
		x, err := g.network(plan, weights, prefix, in)
		if err != nil {
			return err
		}
		outs = append(outs, x)
	}
	x := outs[0]
	if len(outs) > 1 {
		x = g.node("Sum", outs)
		x = g.node("Mul", []string{x, g.floatInit("ensemble_mean", []int64{1}, []float32{1 / float32(len(outs))})})
	}
	g.nodeNamed("Transpose", []string{x}, opts.Output, attrInts("perm", 0, 2, 3, 1))

	b, err := marshalModel(&onnx.GraphProto{
		Name:        opts.GraphName,
		Node:        g.nodes,
		Initializer: g.inits,
		Input:       []*onnx.ValueInfoProto{imageValueInfo(opts.Input, opts.InputShape)},
		Output:      []*onnx.ValueInfoProto{imageValueInfo(opts.Output, opts.OutputShape)},
	}, opts.Metadata)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// marshalModel encodes graph as a model of opset Opset with metadata.
func marshalModel(graph *onnx.GraphProto, metadata map[string]string) ([]byte, error) {
	m := &onnx.ModelProto{
		IrVersion:    7, // IR version 7 goes with opset 13
		ProducerName: "trueframe",
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		Graph:        graph,
	}
	for _, k := range sortedKeys(metadata) {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: k, Value: metadata[k]})
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// network adds plan's layers with weights to the graph, from x (NCHW), its
// initialisers named prefix+"l<index>_…", and returns its output (NCHW).
func (g *graphBuilder) network(plan []Layer, weights map[string]Tensor, prefix, x string) (string, error) {
	nchw := true // layout of x
	rank2 := false
	var marks []string
	for i, l := range plan {
		switch l.Kind {
		case Mark:
			marks = append(marks, x)
			continue
		case AddMark:
			if len(marks) == 0 {
				return "", fmt.Errorf("nn: layer %d: AddMark without a Mark", i)
			}
			x = g.node("Add", []string{x, marks[len(marks)-1]})
			marks = marks[:len(marks)-1]
			continue
		case Depthwise:
			wt, bt, err := lookup(weights, l)
			if err != nil {
				return "", err
			}
			// One group per channel.
			k, c := l.K, l.In
			chw := depthwiseLayout(wt.Data, k, c, true)
			wn := g.floatInit(fmt.Sprintf("%sl%d_w", prefix, i), []int64{int64(c), 1, int64(k), int64(k)}, chw)
			bn := g.floatInit(fmt.Sprintf("%sl%d_b", prefix, i), []int64{int64(c)}, bt.Data)
			p := int64(k / 2)
			x = g.node("Conv", []string{x, wn, bn},
				attrInts("kernel_shape", int64(k), int64(k)),
				attrInt("group", int64(c)),
				attrInts("pads", p, p, p, p))
		case Conv:
			wt, bt, err := lookup(weights, l)
			if err != nil {
				return "", err
			}
			// HWIO → OIHW.
			k := l.K
			oihw := make([]float32, len(wt.Data))
			for h := range k {
				for ww := range k {
					for ci := range l.In {
						for co := range l.Out {
							oihw[((co*l.In+ci)*k+h)*k+ww] = wt.Data[((h*k+ww)*l.In+ci)*l.Out+co]
						}
					}
				}
			}
			wn := g.floatInit(fmt.Sprintf("%sl%d_w", prefix, i), []int64{int64(l.Out), int64(l.In), int64(k), int64(k)}, oihw)
			bn := g.floatInit(fmt.Sprintf("%sl%d_b", prefix, i), []int64{int64(l.Out)}, bt.Data)
			x = g.node("Conv", []string{x, wn, bn},
				attrInts("kernel_shape", int64(k), int64(k)),
				attrInts("strides", int64(l.Stride), int64(l.Stride)),
				attrInts("pads", int64(l.Pad[0]), int64(l.Pad[0]), int64(l.Pad[1]), int64(l.Pad[1])))
		case Dense:
			wt, bt, err := lookup(weights, l)
			if err != nil {
				return "", err
			}
			if !rank2 {
				if nchw {
					x = g.node("Transpose", []string{x}, attrInts("perm", 0, 2, 3, 1))
					nchw = false
				}
				x = g.node("Flatten", []string{x}, attrInt("axis", 1))
				rank2 = true
			}
			wn := g.floatInit(fmt.Sprintf("%sl%d_w", prefix, i), []int64{int64(l.In), int64(l.Out)}, wt.Data)
			bn := g.floatInit(fmt.Sprintf("%sl%d_b", prefix, i), []int64{int64(l.Out)}, bt.Data)
			x = g.node("Gemm", []string{x, wn, bn})
		case Unflatten:
			sn := g.int64Init(fmt.Sprintf("%sl%d_shape", prefix, i), []int64{4}, []int64{-1, int64(l.Shape[0]), int64(l.Shape[1]), int64(l.Shape[2])})
			x = g.node("Reshape", []string{x, sn})
			x = g.node("Transpose", []string{x}, attrInts("perm", 0, 3, 1, 2))
			nchw, rank2 = true, false
			continue
		case SpaceToDepth:
			x = g.node("SpaceToDepth", []string{x}, attrInt("blocksize", 2))
			continue
		case Upsample:
			sc := g.floatInit(fmt.Sprintf("%sl%d_scales", prefix, i), []int64{4}, []float32{1, 1, 2, 2})
			x = g.node("Resize", []string{x, "", sc},
				attrString("mode", "nearest"),
				attrString("coordinate_transformation_mode", "asymmetric"),
				attrString("nearest_mode", "floor"))
			continue
		default:
			return "", fmt.Errorf("nn: layer %d: unknown kind %d", i, l.Kind)
		}
		switch l.Act {
		case LeakyReLU:
			x = g.node("LeakyRelu", []string{x}, attrFloat("alpha", LeakySlope))
		case Sigmoid:
			x = g.node("Sigmoid", []string{x})
		case ReLU6:
			lo := g.floatInit(fmt.Sprintf("%sl%d_min", prefix, i), nil, []float32{0})
			hi := g.floatInit(fmt.Sprintf("%sl%d_max", prefix, i), nil, []float32{6})
			x = g.node("Clip", []string{x, lo, hi})
		}
	}
	if len(marks) > 0 {
		return "", errors.New("nn: a Mark without its AddMark")
	}
	if !nchw || rank2 {
		return "", errors.New("nn: plan does not end in an image")
	}
	return x, nil
}

func lookup(weights map[string]Tensor, l Layer) (w, b Tensor, err error) {
	wd, bd := l.WeightDims()
	w, ok1 := weights[l.Name+"/weights"]
	b, ok2 := weights[l.Name+"/biases"]
	if !ok1 || !ok2 {
		return w, b, fmt.Errorf("%w: layer %s", ErrMissingWeights, l.Name)
	}
	if len(w.Data) != prod(wd) || len(b.Data) != prod(bd) {
		return w, b, fmt.Errorf("%w: layer %s has %d and %d values, want %v and %v", ErrMissingWeights, l.Name, len(w.Data), len(b.Data), wd, bd)
	}
	return w, b, nil
}

func prod(d []int) int {
	p := 1
	for _, v := range d {
		p *= v
	}
	return p
}

// depthwiseLayout reorders a K×K depthwise kernel of c channels between
// the plan's layout, HWC, and ONNX's, C1HW (toONNX), or back.
func depthwiseLayout(w []float32, k, c int, toONNX bool) []float32 {
	out := make([]float32, len(w))
	for h := range k {
		for x := range k {
			for ch := range c {
				hwc, chw := (h*k+x)*c+ch, (ch*k+h)*k+x
				if toONNX {
					out[chw] = w[hwc]
				} else {
					out[hwc] = w[chw]
				}
			}
		}
	}
	return out
}

// graphBuilder collects the graph's nodes and initializers.
type graphBuilder struct {
	nodes []*onnx.NodeProto
	inits []*onnx.TensorProto
	n     int
}

func (g *graphBuilder) node(op string, inputs []string, attrs ...*onnx.AttributeProto) string {
	g.n++
	out := fmt.Sprintf("t%d_%s", g.n, op)
	g.nodeNamed(op, inputs, out, attrs...)
	return out
}

func (g *graphBuilder) nodeNamed(op string, inputs []string, out string, attrs ...*onnx.AttributeProto) {
	g.nodes = append(g.nodes, &onnx.NodeProto{Input: inputs, Output: []string{out}, Name: "n_" + out, OpType: op, Attribute: attrs})
}

func (g *graphBuilder) floatInit(name string, dims []int64, data []float32) string {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	g.inits = append(g.inits, &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw})
	return name
}

func (g *graphBuilder) int64Init(name string, dims []int64, data []int64) string {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	g.inits = append(g.inits, &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_INT64), RawData: raw})
	return name
}

func attrInts(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func attrInt(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func attrFloat(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

func attrString(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

// imageValueInfo describes a float tensor [N,H,W,C] with a symbolic batch
// axis.
func imageValueInfo(name string, hwc [3]int) *onnx.ValueInfoProto {
	dims := []*onnx.TensorShapeProto_Dimension{
		{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(hwc[0])}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(hwc[1])}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(hwc[2])}},
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: dims}},
	}}}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
