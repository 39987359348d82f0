package nn

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// Graph builds an ONNX model node by node, for networks that a layer plan
// does not describe (a recurrent network whose weights come from
// elsewhere). Names returned by its methods are the tensors to pass on.
type Graph struct {
	b               graphBuilder
	inputs, outputs []*onnx.ValueInfoProto
}

// Attr is an ONNX node attribute (see AttrInt, AttrInts, AttrString).
type Attr = *onnx.AttributeProto

// AttrInt, AttrInts and AttrString make node attributes.
func AttrInt(name string, v int64) Attr     { return attrInt(name, v) }
func AttrInts(name string, v ...int64) Attr { return attrInts(name, v...) }
func AttrString(name string, v string) Attr { return attrString(name, v) }

// Input declares a float input of fixed shape.
func (g *Graph) Input(name string, dims ...int64) string {
	g.inputs = append(g.inputs, floatValueInfo(name, dims))
	return name
}

// Node adds an operator with one output and returns that output's name.
func (g *Graph) Node(op string, inputs []string, attrs ...Attr) string {
	return g.b.node(op, inputs, attrs...)
}

// NodeOutputs adds an operator and returns the names of its first n
// outputs; an operator's later optional outputs stay unnamed.
func (g *Graph) NodeOutputs(op string, inputs []string, n int, attrs ...Attr) []string {
	g.b.n++
	outs := make([]string, n)
	for i := range outs {
		outs[i] = fmt.Sprintf("t%d_%s_%d", g.b.n, op, i)
	}
	g.b.nodes = append(g.b.nodes, &onnx.NodeProto{Input: inputs, Output: outs, Name: "n_" + outs[0], OpType: op, Attribute: attrs})
	return outs
}

// Float adds a float initialiser.
func (g *Graph) Float(name string, dims []int64, data []float32) string {
	return g.b.floatInit(name, dims, data)
}

// Int64 adds an int64 initialiser.
func (g *Graph) Int64(name string, dims []int64, data []int64) string {
	return g.b.int64Init(name, dims, data)
}

// Output declares x as the float output name of fixed shape.
func (g *Graph) Output(name, x string, dims ...int64) {
	g.b.nodeNamed("Identity", []string{x}, name)
	g.outputs = append(g.outputs, floatValueInfo(name, dims))
}

// Marshal encodes the model (opset Opset).
func (g *Graph) Marshal(graphName string, metadata map[string]string) ([]byte, error) {
	return marshalModel(&onnx.GraphProto{Name: graphName, Node: g.b.nodes, Initializer: g.b.inits, Input: g.inputs, Output: g.outputs}, metadata)
}

func floatValueInfo(name string, dims []int64) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape},
	}}}
}
