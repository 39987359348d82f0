package dataset

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/generator/swap"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/landmark"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// Sampling for decoderPicker: a few faces spread over the first seconds are
// enough to tell whose face a clip shows, and cost well under a second.
const (
	pickSamples    = 8
	pickEvery      = 5   // frames between samples
	pickFrameLimit = 150 // frames looked at
)

// decoderPicker chooses, per clip, the identity its face becomes. A model's
// decoder reconstructs its own identity's faces closely and another's
// poorly, so the clip's face goes to the decoder that reconstructs it worse:
// a clip of identity B becomes A (a real swap, not B redrawn as B), one of A
// becomes B, and a stranger becomes whichever is further from them.
type decoderPicker struct {
	convs [2]*swap.Converter // nil where the model has no such decoder
}

func newDecoderPicker(modelDir string) (*decoderPicker, error) {
	meta, err := model.ReadMeta(modelDir)
	if err != nil {
		return nil, err
	}
	p := &decoderPicker{}
	for _, id := range []model.Identity{model.A, model.B} {
		path := decoderPath(modelDir, id)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if p.convs[id], err = swap.NewConverter(path, meta.Config.Size); err != nil {
			p.Close()
			return nil, err
		}
	}
	if p.convs[model.A] == nil && p.convs[model.B] == nil {
		return nil, fmt.Errorf("%w: %s has no decoder_a.onnx or decoder_b.onnx", model.ErrNoModel, modelDir)
	}
	return p, nil
}

func decoderPath(modelDir string, id model.Identity) string {
	return filepath.Join(modelDir, model.DecoderFile(id))
}

// Close frees the converters.
func (p *decoderPicker) Close() {
	for _, c := range p.convs {
		if c != nil {
			c.Close()
		}
	}
}

// choose returns the identity clip's face should become and each decoder's
// mean reconstruction error (grey levels; NaN for a missing decoder or when
// no face was sampled). With one decoder, or no face in the first frames,
// it is B, as before pairing existed.
func (p *decoderPicker) choose(ctx context.Context, det face.Detector, mesher *landmark.Mesher, clip string) (model.Identity, [2]float64, error) {
	errs := [2]float64{math.NaN(), math.NaN()}
	if p.convs[model.A] == nil || p.convs[model.B] == nil {
		if p.convs[model.B] == nil {
			return model.A, errs, nil
		}
		return model.B, errs, nil
	}
	dec, err := video.Open(clip, nil)
	if err != nil {
		return model.B, errs, err
	}
	defer dec.Close()
	tr := track.New(det, mesher, nil)
	var sum [2]float64
	n := 0
	for i := 0; dec.Next() && i < pickFrameLimit && n < pickSamples; i++ {
		if err := ctx.Err(); err != nil {
			return model.B, errs, err
		}
		fr := dec.Frame()
		obs, err := tr.Update(fr.Image)
		if err != nil {
			return model.B, errs, err
		}
		best, ok := track.Largest(obs)
		if i%pickEvery != 0 || !ok {
			continue
		}
		d, err := p.reconstructionErrors(fr.Image, best)
		if err != nil {
			continue // an unalignable face: another frame will do
		}
		sum[0], sum[1] = sum[0]+d[0], sum[1]+d[1]
		n++
	}
	if err := dec.Err(); err != nil {
		return model.B, errs, err
	}
	if n == 0 {
		return model.B, errs, nil
	}
	errs = [2]float64{sum[0] / float64(n), sum[1] / float64(n)}
	if errs[model.A] > errs[model.B] {
		return model.A, errs, nil
	}
	return model.B, errs, nil
}

// reconstructionErrors aligns f out of img as the swapper does and returns
// the mean absolute difference between the crop and each decoder's output.
func (p *decoderPicker) reconstructionErrors(img gocv.Mat, f landmark.Face) ([2]float64, error) {
	var d [2]float64
	crop, _, err := landmark.Align(img, f, p.convs[model.A].Size())
	if err != nil {
		return d, err
	}
	defer crop.Close()
	for id, c := range p.convs {
		gen, err := c.Convert(crop)
		if err != nil {
			return d, err
		}
		if d[id], err = meanAbsDiff(crop, gen); err != nil {
			gen.Close()
			return d, err
		}
		gen.Close()
	}
	return d, nil
}

// meanAbsDiff is the mean absolute difference of two BGR images of one size,
// in grey levels.
func meanAbsDiff(a, b gocv.Mat) (float64, error) {
	if err := media.CheckBGR(a); err != nil {
		return 0, err
	}
	if err := media.CheckBGR(b); err != nil {
		return 0, err
	}
	if a.Rows() != b.Rows() || a.Cols() != b.Cols() {
		return 0, fmt.Errorf("dataset: %dx%d and %dx%d images", a.Cols(), a.Rows(), b.Cols(), b.Rows())
	}
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(a, b, &diff)
	m := diff.Mean()
	return (m.Val1 + m.Val2 + m.Val3) / 3, nil
}
