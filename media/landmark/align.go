package landmark

import (
	"fmt"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// The canonical face, in units of the aligned crop's side: the subject's
// right eye (on the crop's left) at (0.35, 0.40), the left eye at
// (0.65, 0.40), the nose tip at (0.50, 0.58) and the mouth corners at
// (0.355, 0.70) and (0.645, 0.70). The eyes are level and 0.3 of the side
// apart; the whole face from forehead to chin fits in the crop. The nose and
// mouth positions are the median Face Mesh face (fitted on the landmarks68
// photos, then mirrored to be symmetric) once its eye centres sit on the
// canonical ones.
var canonical = [5]media.Point{
	{X: 0.35, Y: 0.40},  // right eye centre
	{X: 0.65, Y: 0.40},  // left eye centre
	{X: 0.50, Y: 0.58},  // nose tip
	{X: 0.355, Y: 0.70}, // right mouth corner
	{X: 0.645, Y: 0.70}, // left mouth corner
}

// alignWeights weight the canonical points in the least-squares fit. The eyes
// count ten times more than nose and mouth, so they land within a pixel or
// two of their canonical positions even when the face's proportions differ
// from the template (expression, pitch, some yaw: on the 43 landmarks68
// faces at size 256 the eyes miss by 1.5 px on average, 6 px at worst, for
// a near-profile face); nose and mouth damp eye-landmark noise in scale and
// roll.
var alignWeights = [5]float64{1, 1, 0.1, 0.1, 0.1}

// CanonicalRightEye returns where Align puts the right eye's centre (the
// midpoint of its corners) in a size×size crop.
func CanonicalRightEye(size int) media.Point { return canonical[0].Scale(float64(size)) }

// CanonicalLeftEye returns where Align puts the left eye's centre in a
// size×size crop.
func CanonicalLeftEye(size int) media.Point { return canonical[1].Scale(float64(size)) }

// CanonicalNoseTip returns where Align puts the nose tip in a size×size crop.
func CanonicalNoseTip(size int) media.Point { return canonical[2].Scale(float64(size)) }

// CanonicalMouth returns where Align puts the right and left mouth corners
// in a size×size crop.
func CanonicalMouth(size int) (right, left media.Point) {
	return canonical[3].Scale(float64(size)), canonical[4].Scale(float64(size))
}

// AlignTransform returns the similarity transform (rotation, uniform scale,
// translation; no shear or mirroring) from image pixels to a size×size
// aligned crop: the weighted least-squares fit of f's eye centres, nose tip
// and mouth corners to the canonical positions.
func AlignTransform(f Face, size int) (media.Affine, error) {
	if len(f.Points) != NumPoints {
		return media.Affine{}, fmt.Errorf("landmark: face has %d points, want %d", len(f.Points), NumPoints)
	}
	if size < 8 || size > 1<<13 {
		return media.Affine{}, fmt.Errorf("landmark: bad aligned size %d", size)
	}
	src := [5]media.Point{f.RightEyeCenter(), f.LeftEyeCenter(), f.Points[NoseTip], f.Points[MouthRight], f.Points[MouthLeft]}
	var dst [5]media.Point
	for i, p := range canonical {
		dst[i] = p.Scale(float64(size))
	}
	m, ok := fitSimilarity(src[:], dst[:], alignWeights[:])
	if !ok {
		return media.Affine{}, fmt.Errorf("landmark: degenerate face landmarks")
	}
	return m, nil
}

// Align returns the face f of img warped into a size×size crop with its eyes
// level at CanonicalRightEye and CanonicalLeftEye (within the fit's
// residual, typically a pixel or two at size 256), and the map from image
// pixels to crop pixels. The caller must Close the crop.
func Align(img gocv.Mat, f Face, size int) (gocv.Mat, media.Affine, error) {
	if err := checkBGR(img); err != nil {
		return gocv.Mat{}, media.Affine{}, err
	}
	m, err := AlignTransform(f, size)
	if err != nil {
		return gocv.Mat{}, media.Affine{}, err
	}
	crop, err := media.Warp(img, m, size, size)
	if err != nil {
		return gocv.Mat{}, media.Affine{}, err
	}
	return crop, m, nil
}

// fitSimilarity returns the similarity transform minimising
// Σ w_i |M(src_i) − dst_i|² (the weighted Umeyama solution without
// reflection); ok is false when the source points coincide or any value is
// not finite.
func fitSimilarity(src, dst []media.Point, w []float64) (media.Affine, bool) {
	var sw float64
	var cs, cd media.Point
	for i := range src {
		sw += w[i]
		cs = cs.Add(src[i].Scale(w[i]))
		cd = cd.Add(dst[i].Scale(w[i]))
	}
	if !(sw > 0) {
		return media.Affine{}, false
	}
	cs, cd = cs.Scale(1/sw), cd.Scale(1/sw)
	// With points as complex numbers the optimum is z = Σ w conj(p) q / Σ w |p|².
	var a, b, n float64
	for i := range src {
		p, q := src[i].Sub(cs), dst[i].Sub(cd)
		a += w[i] * (p.X*q.X + p.Y*q.Y)
		b += w[i] * (p.X*q.Y - p.Y*q.X)
		n += w[i] * (p.X*p.X + p.Y*p.Y)
	}
	if !(n > 1e-12) || !isFinite(a) || !isFinite(b) || !isFinite(n) {
		return media.Affine{}, false
	}
	c, s := a/n, b/n
	m := media.Affine{A: c, B: -s, D: s, E: c}
	m.C = cd.X - (c*cs.X - s*cs.Y)
	m.F = cd.Y - (s*cs.X + c*cs.Y)
	if c*c+s*s < 1e-18 {
		return media.Affine{}, false
	}
	return m, true
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
