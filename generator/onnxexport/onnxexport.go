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
// No Go module this project may depend on exports ONNX's protobuf message
// types (GoMLX's ONNX backend keeps its generated types internal), so the
// messages are encoded here field by field with google.golang.org/protobuf's
// protowire encoder; only the fields written are named, by their numbers in
// the published ONNX IR specification.
package onnxexport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"

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

	var gb []byte
	for _, n := range g.nodes {
		gb = protowire.AppendTag(gb, 1, protowire.BytesType)
		gb = protowire.AppendBytes(gb, n)
	}
	gb = appendString(gb, 2, opts.GraphName)
	for _, t := range g.inits {
		gb = protowire.AppendTag(gb, 5, protowire.BytesType)
		gb = protowire.AppendBytes(gb, t)
	}
	gb = appendMsg(gb, 11, imageValueInfo(InputName, size))
	gb = appendMsg(gb, 12, imageValueInfo(OutputName, size))

	var mb []byte
	mb = protowire.AppendTag(mb, 1, protowire.VarintType)
	mb = protowire.AppendVarint(mb, 7) // IR version 7 goes with opset 13
	mb = appendString(mb, 2, "trueframe")
	mb = appendMsg(mb, 7, gb)
	var opset []byte
	opset = appendString(opset, 1, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, Opset)
	mb = appendMsg(mb, 8, opset)
	for _, k := range sortedKeys(opts.Metadata) {
		var kv []byte
		kv = appendString(kv, 1, k)
		kv = appendString(kv, 2, opts.Metadata[k])
		mb = appendMsg(mb, 14, kv)
	}
	_, err := w.Write(mb)
	return err
}

// WriteFile exports the encoder and id's decoder of m to path.
func WriteFile(path string, m *model.Model, id model.Identity) error {
	weights, err := m.Weights(id)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	meta := m.Meta()
	err = Write(f, meta.Config.Plan(id), weights, meta.Config.Size, Options{Metadata: map[string]string{
		"model_id": meta.ID, "decoder": id.String(), "step": fmt.Sprint(meta.Step),
		"input": "NHWC RGB in [0,1]", "size": fmt.Sprint(meta.Config.Size),
	}})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
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

// graphBuilder collects encoded NodeProto and TensorProto messages.
type graphBuilder struct {
	nodes, inits [][]byte
	n            int
}

type attr []byte

func (g *graphBuilder) node(op string, inputs []string, attrs ...attr) string {
	g.n++
	out := fmt.Sprintf("t%d_%s", g.n, op)
	g.nodeNamed(op, inputs, out, attrs...)
	return out
}

func (g *graphBuilder) nodeNamed(op string, inputs []string, out string, attrs ...attr) {
	var b []byte
	for _, in := range inputs {
		b = appendString(b, 1, in)
	}
	b = appendString(b, 2, out)
	b = appendString(b, 3, "n_"+out)
	b = appendString(b, 4, op)
	for _, a := range attrs {
		b = appendMsg(b, 5, a)
	}
	g.nodes = append(g.nodes, b)
}

// ONNX TensorProto data types and AttributeProto types used here.
const (
	dtFloat = 1
	dtInt64 = 7

	atFloat  = 1
	atInt    = 2
	atString = 3
	atInts   = 7
)

func (g *graphBuilder) floatInit(name string, dims []int64, data []float32) string {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	g.inits = append(g.inits, tensorProto(name, dims, dtFloat, raw))
	return name
}

func (g *graphBuilder) int64Init(name string, dims []int64, data []int64) string {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	g.inits = append(g.inits, tensorProto(name, dims, dtInt64, raw))
	return name
}

func tensorProto(name string, dims []int64, dtype uint64, raw []byte) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, dtype)
	b = appendString(b, 8, name)
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func attrInts(name string, v ...int64) attr {
	b := appendString(nil, 1, name)
	for _, x := range v {
		b = protowire.AppendTag(b, 8, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(x))
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, atInts)
}

func attrInt(name string, v int64) attr {
	b := appendString(nil, 1, name)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, atInt)
}

func attrFloat(name string, v float32) attr {
	b := appendString(nil, 1, name)
	b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, math.Float32bits(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, atFloat)
}

func attrString(name, v string) attr {
	b := appendString(nil, 1, name)
	b = appendString(b, 4, v)
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, atString)
}

// imageValueInfo describes a float tensor [N,size,size,3] with a symbolic
// batch axis.
func imageValueInfo(name string, size int) []byte {
	dim := func(v int64, param string) []byte {
		if param != "" {
			return appendString(nil, 2, param)
		}
		b := protowire.AppendTag(nil, 1, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v))
	}
	var shape []byte
	shape = appendMsg(shape, 1, dim(0, "batch"))
	shape = appendMsg(shape, 1, dim(int64(size), ""))
	shape = appendMsg(shape, 1, dim(int64(size), ""))
	shape = appendMsg(shape, 1, dim(3, ""))
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, dtFloat)
	tt = appendMsg(tt, 2, shape)
	typ := appendMsg(nil, 1, tt)
	b := appendString(nil, 1, name)
	return appendMsg(b, 2, typ)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
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
