package media

import (
	"image"
	"math"
)

// Point is a position in image pixels (x right, y down).
type Point struct{ X, Y float64 }

// Add returns p+q.
func (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }

// Sub returns p-q.
func (p Point) Sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y} }

// Scale returns p*f.
func (p Point) Scale(f float64) Point { return Point{p.X * f, p.Y * f} }

// Dist returns the Euclidean distance between p and q.
func (p Point) Dist(q Point) float64 { return math.Hypot(p.X-q.X, p.Y-q.Y) }

// Mid returns the midpoint of p and q.
func Mid(p, q Point) Point { return Point{(p.X + q.X) / 2, (p.Y + q.Y) / 2} }

// Rect is an axis-aligned box in image pixels.
type Rect struct{ X, Y, W, H float64 }

// Center returns the centre of r.
func (r Rect) Center() Point { return Point{r.X + r.W/2, r.Y + r.H/2} }

// Area returns the area of r, 0 for an empty rectangle.
func (r Rect) Area() float64 {
	if r.W <= 0 || r.H <= 0 {
		return 0
	}
	return r.W * r.H
}

// Intersect returns the overlap of r and o (zero size when disjoint).
func (r Rect) Intersect(o Rect) Rect {
	x0, y0 := math.Max(r.X, o.X), math.Max(r.Y, o.Y)
	x1, y1 := math.Min(r.X+r.W, o.X+o.W), math.Min(r.Y+r.H, o.Y+o.H)
	if x1 <= x0 || y1 <= y0 {
		return Rect{}
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

// IoU returns the intersection over union of r and o, in [0,1].
func (r Rect) IoU(o Rect) float64 {
	inter := r.Intersect(o).Area()
	union := r.Area() + o.Area() - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// Grow returns r scaled by f about its centre.
func (r Rect) Grow(f float64) Rect {
	c := r.Center()
	w, h := r.W*f, r.H*f
	return Rect{c.X - w/2, c.Y - h/2, w, h}
}

// Image returns r rounded to integer pixels and clipped to bounds; the result
// may be empty.
func (r Rect) Image(bounds image.Rectangle) image.Rectangle {
	ir := image.Rect(int(math.Floor(r.X)), int(math.Floor(r.Y)),
		int(math.Ceil(r.X+r.W)), int(math.Ceil(r.Y+r.H)))
	return ir.Intersect(bounds)
}

// BoundingRect returns the smallest Rect holding all pts.
func BoundingRect(pts []Point) Rect {
	if len(pts) == 0 {
		return Rect{}
	}
	x0, y0, x1, y1 := pts[0].X, pts[0].Y, pts[0].X, pts[0].Y
	for _, p := range pts[1:] {
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

// ROI is a rotated square region of an image: what a face crop is taken from.
type ROI struct {
	Center Point
	Size   float64 // side length in image pixels
	Angle  float64 // rotation in radians, counter-clockwise in image display
}

// Bounds returns the axis-aligned box holding the rotated square.
func (r ROI) Bounds() Rect {
	c, s := math.Abs(math.Cos(r.Angle)), math.Abs(math.Sin(r.Angle))
	side := r.Size * (c + s)
	return Rect{r.Center.X - side/2, r.Center.Y - side/2, side, side}
}
