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
	// Depthwise is a K×K convolution of each of In channels on its own
	// (Out = In), stride 1, padded to keep the size (K odd), with bias,
	// followed by Act: MobileNet's depthwise layer.
	Depthwise
	// Mark remembers the image at this point; the next AddMark adds it to
	// the image there (a residual connection) and forgets it. Marks nest.
	Mark
	AddMark
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
	// ReLU6 clips to [0, 6], as MobileNetV2 does.
	ReLU6
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
	// Rate scales how far training moves the layer's weights (0 means 1):
	// Adam steps each variable by about the learning rate whatever its
	// gradient, so a pretrained layer fine-tuned at the head's rate would
	// soon forget its start. The variables hold the weights divided by
	// Rate and the graph multiplies them back; Weights and SetWeights
	// convert, so files and starting weights are the weights themselves.
	// (A layer left to the random initialiser therefore starts Rate times
	// smaller: give such a layer its starting weights.)
	Rate float64
}

// rate is l.Rate with its zero value resolved.
func (l Layer) rate() float64 {
	if l.Rate <= 0 {
		return 1
	}
	return l.Rate
}

// WeightDims returns the shapes of the layer's weights and biases as the
// model stores them: [K, K, In, Out] for a Conv (HWIO), [K, K, In] for a
// Depthwise, [In, Out] for a Dense.
func (l Layer) WeightDims() (weights, biases []int) {
	switch l.Kind {
	case Conv:
		return []int{l.K, l.K, l.In, l.Out}, []int{l.Out}
	case Depthwise:
		return []int{l.K, l.K, l.In}, []int{l.In}
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
