package facecnn

import (
	"errors"
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/trueframe/trueframe/internal/ortutil"
)

// BackboneFile is the pretrained network whose first stages give the
// features the trained head reads: MobileNetV2 (ImageNet, int8, the
// onnx/models file; Apache-2.0), installed by scripts/setup.
const BackboneFile = "mobilenetv2-12-int8.onnx"

// Cut is a tensor of the backbone where it is cut, and its shape.
type Cut struct {
	// Tensor is the name of the (quantised) tensor in the backbone graph.
	Tensor string
	// C, H, W are its channels and size for a 224×224 input.
	C, H, W int
	// blocks are the inputs of the residual blocks that end at the cut,
	// nearest first (Config.Tune).
	blocks [MaxTune]string
}

// Cuts are the tensors a head may read: after MobileNetV2's third stage
// (stride 8: 28×28×32, small receptive fields, fine detail) or its fourth
// (stride 16: 14×14×64).
var cuts = map[string]Cut{
	"stride8":  {Tensor: "365_quantized", C: 32, H: 28, W: 28, blocks: [MaxTune]string{"356_quantized", "507_quantized"}},
	"stride16": {Tensor: "400_quantized", C: 64, H: 14, W: 14, blocks: [MaxTune]string{"391_quantized", "382_quantized"}},
}

// CutNamed returns the cut called name ("stride8" or "stride16").
func CutNamed(name string) (Cut, error) {
	c, ok := cuts[name]
	if !ok {
		return Cut{}, fmt.Errorf("facecnn: unknown backbone cut %q (want stride8 or stride16)", name)
	}
	return c, nil
}

// Names of the truncated backbone's input and output.
const (
	backboneInput  = "input"
	FeaturesOutput = "features"
)

// TruncateBackbone returns the backbone ONNX model cut at tensor: every
// node up to the one producing it, then a DequantizeLinear (with the
// tensor's own scale and zero point) to the float output "features"
// [N,C,H,W]. Nodes and initializers past the cut are dropped.
func TruncateBackbone(model []byte, cut Cut) ([]byte, error) {
	var m onnx.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("facecnn: backbone: %w", err)
	}
	g := m.Graph
	if g == nil {
		return nil, errors.New("facecnn: backbone has no graph")
	}
	end := -1
	for i, n := range g.Node {
		for _, o := range n.Output {
			if o == cut.Tensor {
				end = i
			}
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("facecnn: backbone has no tensor %q", cut.Tensor)
	}
	base := cut.Tensor[:len(cut.Tensor)-len("_quantized")]
	nodes := append([]*onnx.NodeProto(nil), g.Node[:end+1]...)
	nodes = append(nodes, &onnx.NodeProto{Name: "trueframe_dequantize", OpType: "DequantizeLinear",
		Input: []string{cut.Tensor, base + "_scale", base + "_zero_point"}, Output: []string{FeaturesOutput}})
	used := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.Input {
			used[in] = true
		}
	}
	var inits []*onnx.TensorProto
	for _, t := range g.Initializer {
		if used[t.Name] {
			inits = append(inits, t)
		}
	}
	if !used[base+"_scale"] || !hasInit(inits, base+"_scale") || !hasInit(inits, base+"_zero_point") {
		return nil, fmt.Errorf("facecnn: backbone tensor %q has no scale and zero point", cut.Tensor)
	}
	dims := []*onnx.TensorShapeProto_Dimension{
		{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "batch_size"}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(cut.C)}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(cut.H)}},
		{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(cut.W)}},
	}
	g.Node, g.Initializer, g.ValueInfo = nodes, inits, nil
	g.Output = []*onnx.ValueInfoProto{{Name: FeaturesOutput, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: dims}}}}}}
	return proto.MarshalOptions{Deterministic: true}.Marshal(&m)
}

func hasInit(inits []*onnx.TensorProto, name string) bool {
	for _, t := range inits {
		if t.Name == name {
			return true
		}
	}
	return false
}

// Backbone runs the truncated backbone on batches of aligned faces. It is
// not safe for concurrent use. Callers must call Close.
type Backbone struct {
	cut   Cut
	batch int
	sess  *ortutil.Model
}

// ImageNet normalisation of the backbone's input.
var (
	imagenetMean = [3]float32{0.485, 0.456, 0.406}
	imagenetStd  = [3]float32{0.229, 0.224, 0.225}
)

// NewBackbone loads the backbone model cut at cut, for batches of batch
// faces. threads is ONNX Runtime's intra-op thread count (0: 1).
func NewBackbone(model []byte, cut Cut, batch, threads int) (*Backbone, error) {
	data, err := TruncateBackbone(model, cut)
	if err != nil {
		return nil, err
	}
	sess, err := ortutil.LoadData("face_cnn backbone", data,
		[]ortutil.Tensor{{Name: backboneInput, Shape: []int64{int64(batch), 3, InputSize, InputSize}}},
		[]ortutil.Tensor{{Name: FeaturesOutput, Shape: []int64{int64(batch), int64(cut.C), int64(cut.H), int64(cut.W)}}},
		&ortutil.Options{IntraOpThreads: threads, AsIs: true})
	if err != nil {
		return nil, fmt.Errorf("facecnn: %w", err)
	}
	return &Backbone{cut: cut, batch: batch, sess: sess}, nil
}

// Batch returns the number of faces each Features call takes.
func (b *Backbone) Batch() int { return b.batch }

// Features runs the backbone on faces, each InputSize² RGB in [0,1], HWC
// (at most Batch of them; missing ones are zero), and writes their
// features into out, NHWC [len(faces), H, W, C].
func (b *Backbone) Features(faces [][]float32, out []float32) error {
	if len(faces) > b.batch {
		return fmt.Errorf("facecnn: %d faces for a batch of %d", len(faces), b.batch)
	}
	c, h, w := b.cut.C, b.cut.H, b.cut.W
	if len(out) < len(faces)*c*h*w {
		return fmt.Errorf("facecnn: feature buffer too small")
	}
	in := b.sess.Input(0)
	plane := InputSize * InputSize
	clear(in)
	for i, f := range faces {
		if len(f) != 3*plane {
			return fmt.Errorf("facecnn: face %d has %d values, want %d", i, len(f), 3*plane)
		}
		base := i * 3 * plane
		for p := 0; p < plane; p++ {
			for k := 0; k < 3; k++ {
				in[base+k*plane+p] = (f[3*p+k] - imagenetMean[k]) / imagenetStd[k]
			}
		}
	}
	if err := b.sess.Run(); err != nil {
		return err
	}
	res := b.sess.Output(0)
	for i := range faces {
		src := res[i*c*h*w:]
		dst := out[i*c*h*w:]
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				dst[p*c+ch] = src[ch*h*w+p]
			}
		}
	}
	return nil
}

// Close frees the session.
func (b *Backbone) Close() error {
	if b.sess == nil {
		return nil
	}
	err := b.sess.Close()
	b.sess = nil
	return err
}
