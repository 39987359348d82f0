// Package region builds face regions from Face Mesh landmarks and holds the
// small numeric helpers the per-frame detectors (skin tone, edges) share.
package region

import (
	"context"
	"image"
	"image/color"
	"math"
	"sort"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Polys holds the landmark polygons one frame's masks are drawn from.
type Polys struct {
	Oval     []media.Point
	Centroid media.Point
	Features [][]media.Point // eyes, brows, mouth
}

// ReadPolys returns the polygons of lms, or ok false when lms are missing or
// not finite (landmarks far outside the image are caught later by coverage).
func ReadPolys(lms []media.Point) (Polys, bool) {
	if len(lms) < landmark.NumPoints {
		return Polys{}, false
	}
	get := func(idx []int) ([]media.Point, bool) {
		out := make([]media.Point, len(idx))
		for k, i := range idx {
			p := lms[i]
			if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.Abs(p.X) > 1e6 || math.Abs(p.Y) > 1e6 {
				return nil, false
			}
			out[k] = p
		}
		return out, true
	}
	var fp Polys
	var ok bool
	if fp.Oval, ok = get(landmark.FaceOval); !ok {
		return Polys{}, false
	}
	fp.Centroid = Centroid(fp.Oval)
	for _, idx := range [][]int{landmark.RightEyeContour, landmark.LeftEyeContour, landmark.RightBrow, landmark.LeftBrow, landmark.LipsOuter} {
		poly, ok := get(idx)
		if !ok {
			return Polys{}, false
		}
		fp.Features = append(fp.Features, poly)
	}
	return fp, true
}

// Centroid returns the mean of poly's vertices.
func Centroid(poly []media.Point) media.Point {
	var c media.Point
	for _, p := range poly {
		c = c.Add(p)
	}
	return c.Scale(1 / float64(len(poly)))
}

// Scaled returns poly scaled by s about c.
func Scaled(poly []media.Point, c media.Point, s float64) []media.Point {
	out := make([]media.Point, len(poly))
	for i, p := range poly {
		out[i] = c.Add(p.Sub(c).Scale(s))
	}
	return out
}

// Fill draws poly, given in image pixels, into the label Mat of a crop whose
// top-left is org and which was resized by scale.
func Fill(dst *gocv.Mat, poly []media.Point, org image.Point, scale float64, label uint8) {
	pts := make([]image.Point, len(poly))
	for i, p := range poly {
		pts[i] = image.Pt(int(math.Round((p.X-float64(org.X))*scale)), int(math.Round((p.Y-float64(org.Y))*scale)))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.FillPoly(dst, pv, color.RGBA{R: label, G: label, B: label, A: 255})
}

// Ramp maps v linearly from 0 at lo to 1 at hi, clamped.
func Ramp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
}

// Median returns the median of vs (NaN when empty); vs is reordered.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// Sampler picks at most one frame per interval; when timestamps do not
// advance (unknown times) it falls back to one frame in stride.
type Sampler struct {
	Interval time.Duration
	Stride   int
	// Skipped counts the due frames analyse could not use.
	Skipped int
	started bool
	lastT   time.Duration
	lastF   int
}

// Due reports whether a frame at t with index frame should be analysed.
func (s *Sampler) Due(t time.Duration, frame int) bool {
	switch {
	case !s.started:
		return true
	case t > s.lastT:
		return t-s.lastT >= s.Interval
	default:
		return frame-s.lastF >= s.Stride || frame < s.lastF
	}
}

// Observe is the hand-made detectors' Observe: when f is due it runs
// analyse, which reports whether it could use the frame; unusable frames
// (empty image, bad landmarks, a face off the image or too small) are
// counted in Skipped, not reported as errors, and the next frame is due.
func (s *Sampler) Observe(ctx context.Context, f *detectors.FaceFrame, analyse func(*detectors.FaceFrame) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f == nil || !s.Due(f.Time, f.Frame) {
		return nil
	}
	if !analyse(f) {
		s.Skipped++
		return nil
	}
	s.Mark(f.Time, f.Frame)
	return nil
}

// Mark records that the frame at t, frame was analysed.
func (s *Sampler) Mark(t time.Duration, frame int) {
	s.started, s.lastT, s.lastF = true, t, frame
}
