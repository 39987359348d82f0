package media

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Affine is a 2x3 affine map: x' = A*x + B*y + C, y' = D*x + E*y + F.
type Affine struct{ A, B, C, D, E, F float64 }

// Apply maps p.
func (m Affine) Apply(p Point) Point {
	return Point{m.A*p.X + m.B*p.Y + m.C, m.D*p.X + m.E*p.Y + m.F}
}

// Invert returns the inverse map; ok is false when m is singular.
func (m Affine) Invert() (Affine, bool) {
	det := m.A*m.E - m.B*m.D
	if math.Abs(det) < 1e-12 {
		return Affine{}, false
	}
	a, b, d, e := m.E/det, -m.B/det, -m.D/det, m.A/det
	return Affine{a, b, -(a*m.C + b*m.F), d, e, -(d*m.C + e*m.F)}, true
}

// ROITransform returns the map from image pixels to a size×size crop of roi:
// the ROI's centre goes to the crop's centre and its rotation is undone.
func ROITransform(roi ROI, size int) Affine {
	s := float64(size) / roi.Size
	c, sn := math.Cos(roi.Angle)*s, math.Sin(roi.Angle)*s
	half := float64(size) / 2
	// Rotate by -Angle about the centre, then scale, then move to the crop centre.
	m := Affine{A: c, B: -sn, D: sn, E: c}
	m.C = half - (m.A*roi.Center.X + m.B*roi.Center.Y)
	m.F = half - (m.D*roi.Center.X + m.E*roi.Center.Y)
	return m
}

// Warp writes src mapped by m into a new w×h Mat (bilinear, black outside).
// The caller must Close the result.
func Warp(src gocv.Mat, m Affine, w, h int) (gocv.Mat, error) {
	if err := CheckBGR(src); err != nil {
		return gocv.Mat{}, err
	}
	if w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 {
		return gocv.Mat{}, fmt.Errorf("media: bad warp size %dx%d", w, h)
	}
	if _, ok := m.Invert(); !ok {
		return gocv.Mat{}, fmt.Errorf("media: singular transform %+v", m)
	}
	mat := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer mat.Close()
	for i, v := range []float64{m.A, m.B, m.C, m.D, m.E, m.F} {
		mat.SetDoubleAt(i/3, i%3, v)
	}
	dst := gocv.NewMat()
	gocv.WarpAffineWithParams(src, &dst, mat, image.Pt(w, h), gocv.InterpolationLinear, gocv.BorderConstant, colorBlack)
	return dst, nil
}

// CropROI returns the size×size crop of roi and the map from image pixels to
// crop pixels. The caller must Close the crop.
func CropROI(src gocv.Mat, roi ROI, size int) (gocv.Mat, Affine, error) {
	if roi.Size <= 0 || math.IsNaN(roi.Size) || math.IsInf(roi.Size, 0) {
		return gocv.Mat{}, Affine{}, fmt.Errorf("media: bad ROI size %v", roi.Size)
	}
	m := ROITransform(roi, size)
	crop, err := Warp(src, m, size, size)
	return crop, m, err
}
