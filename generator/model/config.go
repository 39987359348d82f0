package model

import (
	"errors"
	"fmt"

	"github.com/trueframe/trueframe/models/nn"
)

// The layer plan types are models/nn's, shared with the learned detectors.
type (
	Layer      = nn.Layer
	LayerKind  = nn.LayerKind
	Activation = nn.Activation
)

// Layer kinds and activations, as models/nn defines them.
const (
	Conv         = nn.Conv
	Dense        = nn.Dense
	Upsample     = nn.Upsample
	Unflatten    = nn.Unflatten
	SpaceToDepth = nn.SpaceToDepth
	Linear       = nn.Linear
	LeakyReLU    = nn.LeakyReLU
	Sigmoid      = nn.Sigmoid
	LeakySlope   = nn.LeakySlope
)

// ErrBadConfig is returned for an architecture that cannot be built: a size
// that is not a positive multiple of 16, or a width or latent size out of range.
var ErrBadConfig = errors.New("model: bad configuration")

// Identity names one of the two decoders.
type Identity int

const (
	// A is the first identity: its faces come from TrainOptions' first set.
	A Identity = iota
	// B is the second identity.
	B
)

// String returns "a" or "b".
func (id Identity) String() string {
	if id == B {
		return "b"
	}
	return "a"
}

// Other returns the identity a swap decodes into.
func (id Identity) Other() Identity { return 1 - id }

// Config is the architecture. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// Size is the side of the square face crops, a multiple of 16 (64, 128, ...).
	Size int `json:"size"`
	// Width is the channel count of the first encoder layer; deeper layers
	// have 2, 4 and 8 times as many.
	Width int `json:"width"`
	// Latent is the size of the dense bottleneck.
	Latent int `json:"latent"`
}

// DefaultConfig returns the 64×64 model: width 32, latent 256.
func DefaultConfig() Config { return Config{Size: 64, Width: 32, Latent: 256} }

// WithDefaults returns c with its zero fields set from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.Size == 0 {
		c.Size = d.Size
	}
	if c.Width == 0 {
		c.Width = d.Width
	}
	if c.Latent == 0 {
		c.Latent = d.Latent
	}
	return c
}

// Validate reports whether c (after WithDefaults) can be built.
func (c Config) Validate() error {
	switch {
	case c.Size < 16 || c.Size%16 != 0 || c.Size > 1024:
		return fmt.Errorf("%w: size %d is not a multiple of 16 in [16,1024]", ErrBadConfig, c.Size)
	case c.Width < 1 || c.Width > 1024:
		return fmt.Errorf("%w: width %d not in [1,1024]", ErrBadConfig, c.Width)
	case c.Latent < 1 || c.Latent > 1<<16:
		return fmt.Errorf("%w: latent %d not in [1,65536]", ErrBadConfig, c.Latent)
	}
	return nil
}

// EncoderPlan returns the layers of the shared encoder, which maps an S×S×3
// image to an (S/8)×(S/8)×8W code.
func (c Config) EncoderPlan() []Layer {
	c = c.WithDefaults()
	var ls []Layer
	size, in := c.Size, 3
	// Each halving is a space-to-depth rearrangement and a stride-1
	// convolution rather than a stride-2 convolution: the gradient of a
	// strided convolution needs input dilation, which GoMLX's ONNX Runtime
	// backend does not have.
	for i := range 4 {
		out := c.Width << i
		size /= 2
		ls = append(ls, Layer{Kind: SpaceToDepth},
			Layer{Kind: Conv, Name: fmt.Sprintf("encoder/conv%d", i), In: 4 * in, Out: out,
				K: 3, Stride: 1, Pad: nn.SamePad(size, 3, 1), Act: LeakyReLU})
		in = out
	}
	flat := size * size * in
	ls = append(ls,
		Layer{Kind: Dense, Name: "encoder/dense0", In: flat, Out: c.Latent, Act: Linear},
		Layer{Kind: Dense, Name: "encoder/dense1", In: c.Latent, Out: flat, Act: Linear},
		Layer{Kind: Unflatten, Shape: [3]int{size, size, in}},
	)
	ls = append(ls, upscale("encoder/up0", in, in, size*2)...)
	return ls
}

// DecoderPlan returns the layers of one identity's decoder, which maps the
// encoder's code back to an S×S×3 image in (0,1).
func (c Config) DecoderPlan(id Identity) []Layer {
	c = c.WithDefaults()
	prefix := "decoder_" + id.String()
	var ls []Layer
	size, in := c.Size/8, c.Width*8
	for i := range 3 {
		out := c.Width << (2 - i)
		size *= 2
		ls = append(ls, upscale(fmt.Sprintf("%s/up%d", prefix, i), in, out, size)...)
		in = out
	}
	ls = append(ls, Layer{Kind: Conv, Name: prefix + "/out", In: in, Out: 3, K: 5, Stride: 1,
		Pad: nn.SamePad(size, 5, 1), Act: Sigmoid})
	return ls
}

// Plan returns the full autoencoder for identity id: EncoderPlan then
// DecoderPlan(id).
func (c Config) Plan(id Identity) []Layer {
	return append(c.EncoderPlan(), c.DecoderPlan(id)...)
}

func upscale(name string, in, out, size int) []Layer {
	return []Layer{
		{Kind: Upsample},
		{Kind: Conv, Name: name, In: in, Out: out, K: 3, Stride: 1, Pad: nn.SamePad(size, 3, 1), Act: LeakyReLU},
	}
}
