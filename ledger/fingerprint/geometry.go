package fingerprint

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// Geometry places a copy's frame in its original's: the copy shows the
// rectangle X, Y, W, H of the original frame, in fractions of the
// original's width and height. A copy cropped by 2.5% on every side shows
// {0.025, 0.025, 0.95, 0.95}; the zero Geometry and {0, 0, 1, 1} are the
// identity.
type Geometry struct{ X, Y, W, H float64 }

// identity reports whether g leaves the frame as it is.
func (g Geometry) identity() bool {
	return g == Geometry{} || g == Geometry{W: 1, H: 1}
}

// Minimum geometric change EstimateGeometry reports: a face's landmark box
// moves by about 0.5% of the frame from one encoding to another, a 5% crop
// scales it by 5%.
const (
	minScaleChange = 0.02
	minShift       = 0.01
)

// valid reports whether g is a usable geometry: finite, the copy showing
// between half and twice the original's extent, overlapping it.
func (g Geometry) valid() bool {
	for _, v := range []float64{g.X, g.Y, g.W, g.H} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return g.W >= 0.5 && g.W <= 2 && g.H >= 0.5 && g.H <= 2 &&
		g.X < 1 && g.Y < 1 && g.X+g.W > 0 && g.Y+g.H > 0
}

// toOriginal maps a box in fractions of the copy's frame to fractions of
// the original's.
func (g Geometry) toOriginal(b Box) Box {
	r := b.rect()
	x0, x1 := g.X+g.W*r.X, g.X+g.W*(r.X+r.W)
	y0, y1 := g.Y+g.H*r.Y, g.Y+g.H*(r.Y+r.H)
	q := func(v float64) uint16 { return uint16(math.Round(min(1, max(0, v)) * 65535)) }
	out := Box{X: q(x0), Y: q(y0)}
	out.W, out.H = q(x1)-out.X, q(y1)-out.Y
	return out
}

// reframe returns the copy's frame img laid out as the original's frame
// would be: padded where the copy shows less than the original (the
// border pixels repeated), cut where it shows more, so its frame and grid
// hashes line up with the original's. The caller must Close the result.
func reframe(img gocv.Mat, g Geometry) (gocv.Mat, error) {
	if !g.valid() {
		return gocv.Mat{}, fmt.Errorf("fingerprint: invalid geometry %+v", g)
	}
	w, h := float64(img.Cols()), float64(img.Rows())
	// The original frame in the copy's pixels.
	ow, oh := w/g.W, h/g.H
	left, top := -g.X*ow, -g.Y*oh
	right, bottom := left+ow, top+oh
	l, t := int(math.Round(left)), int(math.Round(top))
	r, b := int(math.Round(right)), int(math.Round(bottom))
	// The part of the copy inside the original.
	in := image.Rect(max(0, l), max(0, t), min(img.Cols(), r), min(img.Rows(), b))
	if in.Dx() < 1 || in.Dy() < 1 {
		return gocv.Mat{}, fmt.Errorf("fingerprint: geometry %+v leaves nothing of the frame", g)
	}
	region := img.Region(in)
	defer region.Close()
	out := gocv.NewMat()
	gocv.CopyMakeBorder(region, &out, max(0, -t), max(0, b-img.Rows()), max(0, -l), max(0, r-img.Cols()), gocv.BorderReplicate, color.RGBA{})
	return out, nil
}

// EstimateGeometry estimates, from the faces of a match's aligned samples,
// where the candidate's frame lies in the original's: per axis, the
// medians of the scale and shift that map each candidate face's landmark
// box onto the original face it paired with, of the same identity. ok is false when fewer than
// 4 faces paired, or the estimate is within noise of the identity (see
// minScaleChange and minShift).
func EstimateGeometry(original, candidate *Fingerprint, m Match) (g Geometry, ok bool) {
	cand := candidate
	if candidate.SampleRate != original.SampleRate {
		cand = decimate(candidate, int(math.Round(candidate.SampleRate/original.SampleRate)), m.phase)
	}
	off := m.off
	var sx, ox, sy, oy []float64
	for k := range m.Frames {
		j := k + off
		if j < 0 || j >= len(original.Frames) || k >= len(cand.Frames) {
			continue
		}
		for _, cf := range cand.Frames[k].Faces {
			of := nearestFace(cf, original.Frames[j].Faces)
			// Only the same face places the frame: a swapped face has
			// another shape and landmark box.
			if of == nil || cf.Inside&of.Inside&(1<<RegionFace) == 0 || faceDistance(&cf.Desc, &of.Desc, RegionFace) >= Thresholds[RegionFace] {
				continue
			}
			c, o := cf.Box.rect(), of.Box.rect()
			if c.W <= 0 || c.H <= 0 {
				continue
			}
			fx, fy := o.W/c.W, o.H/c.H
			sx, ox = append(sx, fx), append(ox, o.X-fx*c.X)
			sy, oy = append(sy, fy), append(oy, o.Y-fy*c.Y)
		}
	}
	if len(sx) < 4 {
		return Geometry{}, false
	}
	g = Geometry{X: median(ox), Y: median(oy), W: median(sx), H: median(sy)}
	if math.Abs(g.W-1) < minScaleChange && math.Abs(g.H-1) < minScaleChange && math.Abs(g.X) < minShift && math.Abs(g.Y) < minShift {
		return Geometry{}, false
	}
	return g, g.valid()
}

// nearestFace returns the face of fs whose centre is nearest f's, within
// one face width (looser than pairFace: the frame may be cropped).
func nearestFace(f Face, fs []Face) *Face {
	var best *Face
	bd := math.Inf(1)
	fr := f.Box.rect()
	for i := range fs {
		r := fs[i].Box.rect()
		if d := fr.Center().Dist(r.Center()); d < bd && d < max(fr.W, r.W) {
			best, bd = &fs[i], d
		}
	}
	return best
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
