package motion

import (
	"fmt"

	"github.com/trueframe/trueframe/models/nn"
)

// Names of the exported network's input ([N,1,WindowLen,InputChannels])
// and output ([N,1,1,1], the window's logit).
const (
	InputName  = "window"
	OutputName = "logit"
)

// Config is the architecture and input normalisation, as the model card
// keeps them.
type Config struct {
	// Width is the channel count of the temporal convolutions (24).
	Width int `json:"width"`
	// Norm scales the input channels.
	Norm Norm `json:"norm"`
}

// WithDefaults fills c's zero architecture fields.
func (c Config) WithDefaults() Config {
	if c.Width <= 0 {
		c.Width = 24
	}
	return c
}

// Validate reports whether c can be built.
func (c Config) Validate() error {
	if c.Width < 1 || c.Width > 256 {
		return fmt.Errorf("motion: width %d not in [1,256]", c.Width)
	}
	if !c.Norm.Valid() {
		return fmt.Errorf("motion: input normalisation missing or not positive")
	}
	return nil
}

// kernel is the temporal kernel: five samples, half a second.
const kernel = 5

// Plan returns the network: three temporal convolutions (a window of
// WindowLen samples is an image one pixel high; a square kernel over a
// one-pixel height with "same" padding acts as a 1-D kernel), a dense
// layer over the whole window, and one logit.
func (c Config) Plan() []nn.Layer {
	c = c.WithDefaults()
	pad := nn.SamePad(WindowLen, kernel, 1)
	conv := func(name string, in, out int) nn.Layer {
		return nn.Layer{Kind: nn.Conv, Name: name, In: in, Out: out, K: kernel, Stride: 1, Pad: pad, Act: nn.LeakyReLU}
	}
	return []nn.Layer{
		conv("motion/conv0", InputChannels, c.Width),
		conv("motion/conv1", c.Width, c.Width),
		conv("motion/conv2", c.Width, c.Width),
		{Kind: nn.Dense, Name: "motion/dense0", In: WindowLen * c.Width, Out: 16, Act: nn.LeakyReLU},
		{Kind: nn.Dense, Name: "motion/out", In: 16, Out: 1, Act: nn.Linear},
		{Kind: nn.Unflatten, Shape: [3]int{1, 1, 1}},
	}
}
