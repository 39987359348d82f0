// Package nn is the small neural-network toolkit the project trains its own
// models with: a network is a plan, a list of Layers, from which both the
// GoMLX training graph (Apply) and the ONNX file ONNX Runtime runs
// (WriteONNX) are built, so that the two cannot disagree. The face-swap
// generator and the learned detectors share it.
package nn

// LayerKind says what a Layer computes.
type LayerKind int

const (
	// Conv is a 2-D convolution with bias (kernel K×K, stride Stride, padding
	// Pad before and after each spatial axis), followed by Act.
	Conv LayerKind = iota
	// Dense is a fully connected layer with bias on the flattened input
	// (NHWC order), followed by Act.
	Dense
	// Upsample repeats every pixel into a 2×2 block (nearest neighbour).
	Upsample
	// Unflatten reshapes a flat vector to Shape (H, W, C).
	Unflatten
	// SpaceToDepth moves each 2×2 block of pixels into the channels: C
	// channels become 4C, ordered (block row, block column, channel), as
	// ONNX's SpaceToDepth orders them.
	SpaceToDepth
)

// Activation is applied after a Conv or Dense layer.
type Activation int

const (
	// Linear leaves the values as they are.
	Linear Activation = iota
	// LeakyReLU multiplies negative values by LeakySlope.
	LeakyReLU
	// Sigmoid maps to (0,1).
	Sigmoid
)

// LeakySlope is the slope of LeakyReLU for negative inputs.
const LeakySlope = 0.1

// Layer is one step of the network, in the order Plan lists them.
type Layer struct {
	Kind LayerKind
	// Name is the variable scope of the layer's weights ("encoder/conv0");
	// its variables are Name+"/weights" and Name+"/biases".
	Name string
	// In and Out are the input and output channels (Conv) or features (Dense).
	In, Out int
	// K is the kernel side, Stride the stride and Pad the padding at the
	// start and end of each spatial axis (Conv only).
	K, Stride int
	Pad       [2]int
	Act       Activation
	// Shape is the (H, W, C) an Unflatten produces.
	Shape [3]int
}

// WeightDims returns the shapes of the layer's weights and biases as the
// model stores them: [K, K, In, Out] for a Conv (HWIO), [In, Out] for a Dense.
func (l Layer) WeightDims() (weights, biases []int) {
	switch l.Kind {
	case Conv:
		return []int{l.K, l.K, l.In, l.Out}, []int{l.Out}
	case Dense:
		return []int{l.In, l.Out}, []int{l.Out}
	}
	return nil, nil
}

// SamePad returns the padding before and after an axis of size in for a
// kernel k and stride s that gives ceil(in/s) outputs.
func SamePad(in, k, s int) [2]int {
	out := (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	return [2]int{total / 2, total - total/2}
}

// Tensor is a weight array in row-major order.
type Tensor struct {
	Dims []int
	Data []float32
}
