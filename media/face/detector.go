package face

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// tiled runs one model over a plan of letterboxed regions and merges what
// it finds.
type tiled struct {
	net  model
	opts Options
	// Scratch images, reused between calls.
	resized, input gocv.Mat
	cands          []Detection
	closed         bool
}

func newTiled(net model, opts Options) *tiled {
	return &tiled{net: net, opts: opts, resized: gocv.NewMat(), input: gocv.NewMat()}
}

// edgeMargin is how close, as a fraction of the tile, a box may come to an
// interior tile edge before it is taken as a face cut by that edge. Such a
// face is whole in a neighbouring tile or large enough for a coarser level.
const edgeMargin = 0.01

func (d *tiled) Detect(img gocv.Mat) ([]Detection, error) {
	if d.closed {
		return nil, errors.New("face: detector closed")
	}
	if err := media.CheckBGR(img); err != nil {
		return nil, fmt.Errorf("face: %w", err)
	}
	w, h := img.Cols(), img.Rows()
	plan := planTiles(w, h, d.net.inputSize(), d.net.minFace(), d.net.maxFace(), float64(d.opts.MinFaceSize), d.opts.MaxTiles)
	d.cands = d.cands[:0]
	for _, t := range plan {
		n := len(d.cands)
		var err error
		d.cands, err = d.runTile(img, t, d.cands)
		if err != nil {
			return nil, err
		}
		d.cands = append(d.cands[:n], keepTrusted(d.cands[n:], t, w, h)...)
	}
	// weightedNMS allocates its result, so nothing returned aliases d.cands.
	return dropNested(weightedNMS(d.cands, d.opts.NMSIoU)), nil
}

// runTile letterboxes t.rect of img into the network input (centred, black
// padding), runs the network and appends its candidates in image pixels.
func (d *tiled) runTile(img gocv.Mat, t tile, dst []Detection) ([]Detection, error) {
	in := d.net.inputSize()
	rw, rh := t.rect.Dx(), t.rect.Dy()
	k := math.Min(float64(in.X)/float64(rw), float64(in.Y)/float64(rh))
	if t.zoom > 0 {
		k *= t.zoom
	}
	sw := max(1, min(in.X, int(math.Round(float64(rw)*k))))
	sh := max(1, min(in.Y, int(math.Round(float64(rh)*k))))
	region := img.Region(t.rect)
	interp := gocv.InterpolationArea // averages when shrinking, which is the usual case
	if k > 1 {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(region, &d.resized, image.Pt(sw, sh), 0, 0, interp)
	region.Close()
	left, top := (in.X-sw)/2, (in.Y-sh)/2
	gocv.CopyMakeBorder(d.resized, &d.input, top, in.Y-sh-top, left, in.X-sw-left, gocv.BorderConstant, color.RGBA{A: 255})
	n := len(dst)
	dst, err := d.net.infer(d.input, d.opts.MinScore, dst)
	if err != nil {
		return dst[:n], err
	}
	// Input pixels back to image pixels, per axis (rounding makes kx, ky differ slightly).
	kx, ky := float64(sw)/float64(rw), float64(sh)/float64(rh)
	ox, oy := float64(t.rect.Min.X), float64(t.rect.Min.Y)
	toImage := func(p media.Point) media.Point {
		return media.Point{X: (p.X-float64(left))/kx + ox, Y: (p.Y-float64(top))/ky + oy}
	}
	for i := n; i < len(dst); i++ {
		c := &dst[i]
		p0 := toImage(media.Point{X: c.Box.X, Y: c.Box.Y})
		c.Box = media.Rect{X: p0.X, Y: p0.Y, W: c.Box.W / kx, H: c.Box.H / ky}
		for j, p := range c.Keypoints {
			c.Keypoints[j] = toImage(p)
		}
	}
	return dst, nil
}

// keepTrusted filters, in place, the candidates of a run to those it is
// trusted with.
func keepTrusted(cands []Detection, t tile, w, h int) []Detection {
	out := cands[:0]
	for _, c := range cands {
		if trusted(c.Box, t, w, h) {
			out = append(out, c)
		}
	}
	return out
}

// trusted says whether box b, found by run t in a w×h image, is within the
// run's face-size range and clear of its interior edges (edges on the image
// border do not cut faces).
func trusted(b media.Rect, t tile, w, h int) bool {
	if b.W < t.minFace || (t.maxFace > 0 && b.W > t.maxFace) {
		return false
	}
	if t.whole {
		return true
	}
	r := t.rect
	mx, my := edgeMargin*float64(r.Dx()), edgeMargin*float64(r.Dy())
	cut := r.Min.X > 0 && b.X < float64(r.Min.X)+mx ||
		r.Min.Y > 0 && b.Y < float64(r.Min.Y)+my ||
		r.Max.X < w && b.X+b.W > float64(r.Max.X)-mx ||
		r.Max.Y < h && b.Y+b.H > float64(r.Max.Y)-my
	return !cut
}

// Close frees the network and scratch images. It is safe to call more
// than once.
func (d *tiled) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return errors.Join(d.net.close(), d.resized.Close(), d.input.Close())
}
