// Package onnxexport writes a trained face-swap autoencoder (generator/model)
// as an ONNX file that ONNX Runtime runs: the shared encoder followed by one
// identity's decoder, with a dynamic batch axis.
//
// The file is built from model.Config's layer plan (the same plan the GoMLX
// graph is built from) and the trained weights, mapping each layer to ONNX
// operators of opset 13:
//
//	input "face" [N,S,S,3] RGB in [0,1] → Transpose to NCHW
//	SpaceToDepth (blocksize 2); Conv (weights HWIO → OIHW, explicit pads) + LeakyRelu / Sigmoid
//	Dense: Transpose to NHWC, Flatten, Gemm; Unflatten: Reshape [-1,H,W,C], Transpose
//	Upsample: Resize (nearest, asymmetric, floor: exact pixel repetition)
//	→ Transpose to NHWC → output "output" [N,S,S,3]
//
// The file is ONNX's ModelProto, built with the public protobuf message
// types of github.com/advancedclimatesystems/gonnx/onnx and marshalled with
// google.golang.org/protobuf: no schema is copied here.
package onnxexport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/trueframe/trueframe/generator/model"
)

// Names of the graph's input and output.
const (
	InputName  = "face"
	OutputName = "output"
)

// Opset is the ONNX operator set version the files use.
const Opset = 13

// ErrMissingWeights is returned when the weights lack a layer of the plan.
var ErrMissingWeights = errors.New("onnxexport: missing weights")

// Options describes the file. Zero fields take the defaults shown.
type Options struct {
	// GraphName is the graph's name ("trueframe_faceswap").
	GraphName string
	// Metadata is written as the model's metadata properties (model id,
	// identity, ...).
	Metadata map[string]string
}

// Write writes the network of plan with weights (as model.Model.Weights
// returns them) for size×size faces to w.
func Write(w io.Writer, plan []model.Layer, weights map[string]model.Tensor, size int, opts Options) error {
	if opts.GraphName == "" {
		opts.GraphName = "trueframe_faceswap"
	}
	g := &graphBuilder{}
	x := g.node("Transpose", []string{InputName}, attrInts("perm", 0, 3, 1, 2))
	nchw := true // layout of x
	rank2 := false
	for i, l := range plan {
		switch l.Kind {
		case model.Conv:
			wt, bt, err := lookup(weights, l)
			if err != nil {
				return err
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
			wn := g.floatInit(fmt.Sprintf("l%d_w", i), []int64{int64(l.Out), int64(l.In), int64(k), int64(k)}, oihw)
			bn := g.floatInit(fmt.Sprintf("l%d_b", i), []int64{int64(l.Out)}, bt.Data)
			x = g.node("Conv", []string{x, wn, bn},
				attrInts("kernel_shape", int64(k), int64(k)),
				attrInts("strides", int64(l.Stride), int64(l.Stride)),
				attrInts("pads", int64(l.Pad[0]), int64(l.Pad[0]), int64(l.Pad[1]), int64(l.Pad[1])))
		case model.Dense:
			wt, bt, err := lookup(weights, l)
			if err != nil {
				return err
			}
			if !rank2 {
				if nchw {
					x = g.node("Transpose", []string{x}, attrInts("perm", 0, 2, 3, 1))
					nchw = false
				}
				x = g.node("Flatten", []string{x}, attrInt("axis", 1))
				rank2 = true
			}
			wn := g.floatInit(fmt.Sprintf("l%d_w", i), []int64{int64(l.In), int64(l.Out)}, wt.Data)
			bn := g.floatInit(fmt.Sprintf("l%d_b", i), []int64{int64(l.Out)}, bt.Data)
			x = g.node("Gemm", []string{x, wn, bn})
		case model.Unflatten:
			sn := g.int64Init(fmt.Sprintf("l%d_shape", i), []int64{4}, []int64{-1, int64(l.Shape[0]), int64(l.Shape[1]), int64(l.Shape[2])})
			x = g.node("Reshape", []string{x, sn})
			x = g.node("Transpose", []string{x}, attrInts("perm", 0, 3, 1, 2))
			nchw, rank2 = true, false
			continue
		case model.SpaceToDepth:
			x = g.node("SpaceToDepth", []string{x}, attrInt("blocksize", 2))
			continue
		case model.Upsample:
			sc := g.floatInit(fmt.Sprintf("l%d_scales", i), []int64{4}, []float32{1, 1, 2, 2})
			x = g.node("Resize", []string{x, "", sc},
				attrString("mode", "nearest"),
				attrString("coordinate_transformation_mode", "asymmetric"),
				attrString("nearest_mode", "floor"))
			continue
		default:
			return fmt.Errorf("onnxexport: layer %d: unknown kind %d", i, l.Kind)
		}
		switch l.Act {
		case model.LeakyReLU:
			x = g.node("LeakyRelu", []string{x}, attrFloat("alpha", model.LeakySlope))
		case model.Sigmoid:
			x = g.node("Sigmoid", []string{x})
		}
	}
	if !nchw || rank2 {
		return errors.New("onnxexport: plan does not end in an image")
	}
	g.nodeNamed("Transpose", []string{x}, OutputName, attrInts("perm", 0, 2, 3, 1))

	m := &onnx.ModelProto{
		IrVersion:    7, // IR version 7 goes with opset 13
		ProducerName: "trueframe",
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		Graph: &onnx.GraphProto{
			Name:        opts.GraphName,
			Node:        g.nodes,
			Initializer: g.inits,
			Input:       []*onnx.ValueInfoProto{imageValueInfo(InputName, size)},
			Output:      []*onnx.ValueInfoProto{imageValueInfo(OutputName, size)},
		},
	}
	for _, k := range sortedKeys(opts.Metadata) {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: k, Value: opts.Metadata[k]})
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteFile exports the encoder and id's decoder of m to path.
func WriteFile(path string, m *model.Model, id model.Identity) error {
	weights, err := m.Weights(id)
	if err != nil {
		return err
	}
	// Written beside and renamed into place, so that a reader (a swap
	// while training continues) never sees a truncated file.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	meta := m.Meta()
	err = Write(f, meta.Config.Plan(id), weights, meta.Config.Size, Options{Metadata: map[string]string{
		"model_id": meta.ID, "decoder": id.String(), "step": fmt.Sprint(meta.Step),
		"input": "NHWC RGB in [0,1]", "size": fmt.Sprint(meta.Config.Size),
	}})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("onnxexport: writing %s: %w", path, err)
	}
	return nil
}

func lookup(weights map[string]model.Tensor, l model.Layer) (w, b model.Tensor, err error) {
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

// imageValueInfo describes a float tensor [N,size,size,3] with a symbolic
// batch axis.
func imageValueInfo(name string, size int) *onnx.ValueInfoProto {
	dims := []*onnx.TensorShapeProto_Dimension{
		{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(size)}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(size)}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 3}},
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
