package edges

import (
	"image"
	"image/color"
	"math"
	"sort"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Face Mesh index sets not (yet) in media/landmark: the outer lip contour and
// the eyebrows, each a closed polygon in order.
var (
	lipsOuter = []int{61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185}
	rightBrow = []int{70, 63, 105, 66, 107, 55, 65, 52, 53, 46}
	leftBrow  = []int{300, 293, 334, 296, 336, 285, 295, 282, 283, 276}
)

// facePolys holds the landmark polygons one frame's masks are drawn from.
type facePolys struct {
	oval     []media.Point
	centroid media.Point
	features [][]media.Point // eyes, brows, mouth
}

// readPolys returns the polygons of lms, or ok false when lms are missing or
// not finite (landmarks far outside the image are caught later by coverage).
func readPolys(lms []media.Point) (facePolys, bool) {
	if len(lms) < landmark.NumPoints {
		return facePolys{}, false
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
	var fp facePolys
	var ok bool
	if fp.oval, ok = get(landmark.FaceOval); !ok {
		return facePolys{}, false
	}
	fp.centroid = centroid(fp.oval)
	for _, idx := range [][]int{landmark.RightEyeContour, landmark.LeftEyeContour, rightBrow, leftBrow, lipsOuter} {
		poly, ok := get(idx)
		if !ok {
			return facePolys{}, false
		}
		fp.features = append(fp.features, poly)
	}
	return fp, true
}

func centroid(poly []media.Point) media.Point {
	var c media.Point
	for _, p := range poly {
		c = c.Add(p)
	}
	return c.Scale(1 / float64(len(poly)))
}

// scaled returns poly scaled by s about c.
func scaled(poly []media.Point, c media.Point, s float64) []media.Point {
	out := make([]media.Point, len(poly))
	for i, p := range poly {
		out[i] = c.Add(p.Sub(c).Scale(s))
	}
	return out
}

// fill draws poly, given in image pixels, into the label Mat of a crop whose
// top-left is org and which was resized by scale.
func fill(dst *gocv.Mat, poly []media.Point, org image.Point, scale float64, label uint8) {
	pts := make([]image.Point, len(poly))
	for i, p := range poly {
		pts[i] = image.Pt(int(math.Round((p.X-float64(org.X))*scale)), int(math.Round((p.Y-float64(org.Y))*scale)))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.FillPoly(dst, pv, color.RGBA{R: label, G: label, B: label, A: 255})
}

// ramp maps v linearly from 0 at lo to 1 at hi, clamped.
func ramp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
}

// median returns the median of vs (NaN when empty); vs is reordered.
func median(vs []float64) float64 {
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

// sampler picks at most one frame per interval; when timestamps do not
// advance (unknown times) it falls back to one frame in stride.
type sampler struct {
	interval time.Duration
	stride   int
	started  bool
	lastT    time.Duration
	lastF    int
}

// due reports whether a frame at t with index frame should be analysed.
func (s *sampler) due(t time.Duration, frame int) bool {
	switch {
	case !s.started:
		return true
	case t > s.lastT:
		return t-s.lastT >= s.interval
	default:
		return frame-s.lastF >= s.stride || frame < s.lastF
	}
}

// mark records that the frame at t, frame was analysed.
func (s *sampler) mark(t time.Duration, frame int) {
	s.started, s.lastT, s.lastF = true, t, frame
}
