package fakes

import (
	"math"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Ellipse is an upright face ellipse in image pixels.
type Ellipse struct {
	Center media.Point
	RX, RY float64 // half width and half height
}

// at returns the point of e at parameter angle t (0 = right, π/2 = bottom).
func (e Ellipse) at(t, scale float64) media.Point {
	return media.Point{X: e.Center.X + scale*e.RX*math.Cos(t), Y: e.Center.Y + scale*e.RY*math.Sin(t)}
}

// EllipseLandmarks fabricates 468 Face Mesh points for a frontal face filling
// e: the FaceOval indices trace the ellipse in order (index 10 at the top,
// 152 at the chin), the eye contours, brows and outer lips sit where a face
// has them, and every other point lies on a grid inside the inner face.
func EllipseLandmarks(e Ellipse) []media.Point {
	pts := make([]media.Point, landmark.NumPoints)
	set := make([]bool, landmark.NumPoints)
	put := func(i int, p media.Point) { pts[i], set[i] = p, true }

	n := len(landmark.FaceOval)
	for k, idx := range landmark.FaceOval {
		// FaceOval starts at the forehead and runs towards the image's right.
		put(idx, e.at(-math.Pi/2+2*math.Pi*float64(k)/float64(n), 1))
	}
	ring := func(idx []int, c media.Point, rx, ry float64) {
		for k, i := range idx {
			t := math.Pi - 2*math.Pi*float64(k)/float64(len(idx)) // outer corner first
			put(i, media.Point{X: c.X + rx*math.Cos(t), Y: c.Y + ry*math.Sin(t)})
		}
	}
	for _, f := range features(e) {
		switch f.kind {
		case "right_eye":
			ring(landmark.RightEyeContour, f.c, f.rx, f.ry)
		case "left_eye":
			ring(mirrorOrder(landmark.LeftEyeContour), f.c, f.rx, f.ry)
		case "right_brow":
			ring(landmark.RightBrow, f.c, f.rx, f.ry)
		case "left_brow":
			ring(landmark.LeftBrow, f.c, f.rx, f.ry)
		case "mouth":
			ring(landmark.LipsOuter, f.c, f.rx, f.ry)
		}
	}
	// Fill the rest on a grid over the inner face.
	var free []int
	for i := range pts {
		if !set[i] {
			free = append(free, i)
		}
	}
	side := int(math.Ceil(math.Sqrt(float64(len(free)))))
	for k, i := range free {
		u := (float64(k%side)+0.5)/float64(side)*2 - 1
		v := (float64(k/side)+0.5)/float64(side)*2 - 1
		// Map the square onto the disc, then onto 70% of the ellipse.
		r := math.Max(math.Abs(u), math.Abs(v))
		t := math.Atan2(v, u)
		put(i, e.at(t, 0.7*r))
	}
	return pts
}

// mirrorOrder reverses a contour's direction after its first point, so that
// the left eye is traced in the mirror image of the right.
func mirrorOrder(idx []int) []int {
	out := make([]int, len(idx))
	out[0] = idx[0]
	for k := 1; k < len(idx); k++ {
		out[k] = idx[len(idx)-k]
	}
	return out
}

type feature struct {
	kind   string
	c      media.Point
	rx, ry float64
}

// features places the eyes, brows and mouth of a face filling e.
func features(e Ellipse) []feature {
	eyeY := e.Center.Y - 0.12*e.RY
	browY := e.Center.Y - 0.32*e.RY
	return []feature{
		{"right_eye", media.Point{X: e.Center.X - 0.4*e.RX, Y: eyeY}, 0.2 * e.RX, 0.07 * e.RY},
		{"left_eye", media.Point{X: e.Center.X + 0.4*e.RX, Y: eyeY}, 0.2 * e.RX, 0.07 * e.RY},
		{"right_brow", media.Point{X: e.Center.X - 0.4*e.RX, Y: browY}, 0.25 * e.RX, 0.04 * e.RY},
		{"left_brow", media.Point{X: e.Center.X + 0.4*e.RX, Y: browY}, 0.25 * e.RX, 0.04 * e.RY},
		{"mouth", media.Point{X: e.Center.X, Y: e.Center.Y + 0.5*e.RY}, 0.3 * e.RX, 0.09 * e.RY},
	}
}

// OvalPolygon returns the face-oval points of lms, in order.
func OvalPolygon(lms []media.Point) []media.Point {
	out := make([]media.Point, 0, len(landmark.FaceOval))
	for _, i := range landmark.FaceOval {
		if i < len(lms) {
			out = append(out, lms[i])
		}
	}
	return out
}
