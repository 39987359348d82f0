// Package facecnn is the learned frame-level detector: a convolutional
// network that looks at an aligned face crop and scores each patch of it for
// the traces that pasting or synthesising a face leaves (a blending seam, a
// region of other resolution, colour or noise). Its first stages are a
// frozen pretrained backbone (MobileNetV2, ImageNet); the head on top was
// trained by the project itself (package facecnn/trainer) on faces it
// manipulated itself — self-blended faces (the Self-Blended Images recipe,
// Shiohara & Yamasaki, CVPR 2022), mouth regions blended the same way —
// and exported to ONNX; here ONNX Runtime runs both.
//
// The network's output is an 8×8 map of patch logits over the 128×128 crop,
// trained to light up where a blending seam runs (Face X-ray's idea:
// Li et al., CVPR 2020); the frame's score is a soft maximum of them
// (FrameLogit), and the map is the detector's evidence image: where on the
// face it found the seam.
package facecnn

import (
	"fmt"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/models/nn"
)

// Name is the detector's name in results.
const Name = "face_cnn"

// InputSize is the side of the aligned crop the network takes, and Margin
// the border of extra context the training crops carry around it (room for
// random shifts); Canvas = InputSize + 2·Margin.
const (
	InputSize = 224
	Margin    = 14
	Canvas    = InputSize + 2*Margin
)

// GridSize is the side of the patch map: one patch per 16×16 pixels.
const GridSize = 14

// Names of the trained head's input ([N,H,W,C] backbone features) and
// output ([N,14,14,1] patch logits).
const (
	InputName  = "features"
	OutputName = "patch_logits"
)

// Config is the architecture. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Cut names where the frozen backbone is cut ("stride8", "stride16").
	Cut string `json:"cut"`
	// Width is the channel count of the head's convolutions.
	Width int `json:"width"`
	// Tune is how many of the backbone's residual blocks just before the
	// cut (0–2, MaxTune) are trained with the head instead of frozen:
	// partial fine-tuning. They start from the backbone's own weights,
	// dequantised from its int8 file, and run in float with the head; the
	// frozen backbone then ends where the first tuned block starts.
	Tune int `json:"tune,omitempty"`
}

// MaxTune is the most backbone blocks a Config may tune.
const MaxTune = 2

// DefaultConfig is the shipped architecture.
func DefaultConfig() Config { return Config{Cut: "stride8", Width: 48} }

// WithDefaults fills c's zero fields.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.Cut == "" {
		c.Cut = d.Cut
	}
	if c.Width <= 0 {
		c.Width = d.Width
	}
	return c
}

// Validate reports whether c can be built.
func (c Config) Validate() error {
	if _, err := CutNamed(c.Cut); err != nil {
		return err
	}
	if c.Width < 1 || c.Width > 512 {
		return fmt.Errorf("facecnn: width %d not in [1,512]", c.Width)
	}
	if c.Tune < 0 || c.Tune > MaxTune {
		return fmt.Errorf("facecnn: %d tuned backbone blocks, want 0 to %d", c.Tune, MaxTune)
	}
	return nil
}

// FeatureCut is where the frozen backbone ends and the trained network
// (the tuned blocks, then the head) begins: the cut itself, or the input
// of the first tuned block, which has the cut's shape.
func (c Config) FeatureCut() (Cut, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Cut{}, err
	}
	cut, _ := CutNamed(c.Cut)
	if c.Tune > 0 {
		cut.Tensor = cut.blocks[c.Tune-1]
	}
	return cut, nil
}

// Plan returns the trained network: c.Tune backbone blocks (see
// Config.Tune), then the head on the features at c.Cut: 3×3
// convolutions down to the 14×14 grid (a space-to-depth and a convolution
// halve the stride-8 features, the form GoMLX's ONNX Runtime backend can
// differentiate), and a 1×1 convolution to one logit per patch.
func (c Config) Plan() []nn.Layer {
	c = c.WithDefaults()
	cut, _ := CutNamed(c.Cut)
	conv := func(name string, in, out, k, size int, act nn.Activation) nn.Layer {
		return nn.Layer{Kind: nn.Conv, Name: name, In: in, Out: out, K: k, Stride: 1, Pad: nn.SamePad(size, k, 1), Act: act}
	}
	var ls []nn.Layer
	for k := c.Tune; k >= 1; k-- {
		ls = append(ls, tunedBlock(k, cut.C, cut.H)...)
	}
	in := cut.C
	size := cut.H
	if size == 2*GridSize {
		ls = append(ls, conv("head/reduce", in, c.Width, 3, size, nn.LeakyReLU), nn.Layer{Kind: nn.SpaceToDepth})
		in, size = 4*c.Width, GridSize
	}
	ls = append(ls,
		conv("head/conv0", in, c.Width, 3, size, nn.LeakyReLU),
		conv("head/conv1", c.Width, c.Width, 3, size, nn.LeakyReLU),
		conv("head/patch", c.Width, 1, 1, size, nn.Linear))
	return ls
}

// TunedRate is how far, relative to the head's, training moves the tuned
// backbone blocks' weights (nn.Layer.Rate): at the head's rate Adam would
// overwrite the pretrained weights within a few hundred steps (measured:
// the expansion's weights changed by more than their own size in 300).
const TunedRate = 0.1

// tunedBlock is the plan of the k-th backbone block before the cut
// (MobileNetV2's inverted residual of c channels, expanded six times).
func tunedBlock(k, c, size int) []nn.Layer {
	name := fmt.Sprintf("backbone/tune%d", k)
	return []nn.Layer{
		{Kind: nn.Mark},
		{Kind: nn.Conv, Name: name + "/expand", In: c, Out: 6 * c, K: 1, Stride: 1, Pad: nn.SamePad(size, 1, 1), Act: nn.ReLU6, Rate: TunedRate},
		{Kind: nn.Depthwise, Name: name + "/depthwise", In: 6 * c, Out: 6 * c, K: 3, Act: nn.ReLU6, Rate: TunedRate},
		{Kind: nn.Conv, Name: name + "/project", In: 6 * c, Out: c, K: 1, Stride: 1, Pad: nn.SamePad(size, 1, 1), Act: nn.Linear, Rate: TunedRate},
		{Kind: nn.AddMark},
	}
}

// CanvasTransform returns the map from image pixels to a Canvas×Canvas crop
// that holds the aligned InputSize crop (landmark.AlignTransform) with
// Margin pixels of context on every side.
func CanvasTransform(f landmark.Face) (media.Affine, error) {
	m, err := landmark.AlignTransform(f, InputSize)
	if err != nil {
		return media.Affine{}, err
	}
	m.C += Margin
	m.F += Margin
	return m, nil
}
