// Package blend pastes faces into frames the way face-swap tools do: a
// face blended back onto itself with small colour and geometry changes
// (a self-blend, which teaches detectors blending artefacts), or another
// person's face warped onto the target's landmarks, with a feathered mask
// over the face oval and a colour shift.
package blend

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Options controls SelfBlend.
type Options struct {
	// HueShift is added to the OpenCV hue (0–180 scale) of the pasted face.
	HueShift float64
	// Gain multiplies the pasted face's B, G and R; a zero entry means 1.
	Gain [3]float64
	// Resample is the factor the face is scaled down by before being scaled
	// back up (0.5 halves the resolution); 0 or ≥1 means no resampling.
	Resample float64
	// Shrink scales the paste mask (the face oval) about its centroid; 0
	// means 1. Face swaps usually blend a little inside the outline.
	Shrink float64
	// Feather is the Gaussian sigma of the mask edge in pixels; 0 is a hard
	// edge.
	Feather float64
	// LowerFace keeps only the part of the mask below a line across the
	// face between the eyes' level and the nose tip (at LowerFaceCut of the
	// way down, 0.5 when zero): the part lip-sync tools redraw.
	LowerFace    bool
	LowerFaceCut float64
}

// DefaultOptions returns a visible but modest manipulation: a small
// hue and gain shift, half resolution, a mask at 93% of the oval and a
// 1.5-pixel feather.
func DefaultOptions() Options {
	return Options{HueShift: 4, Gain: [3]float64{0.93, 1.0, 1.07}, Resample: 0.5, Shrink: 0.93, Feather: 1.5}
}

// ErrBadLandmarks is returned when landmarks are missing, not finite or do
// not describe a face oval inside the image.
var ErrBadLandmarks = errors.New("fakes: unusable landmarks")

// SelfBlend returns a copy of img in which the face inside the oval of lms
// is replaced by a colour-shifted, resampled version of itself. Nil opts
// means DefaultOptions. The caller must Close the result.
func SelfBlend(img gocv.Mat, lms []media.Point, opts *Options) (gocv.Mat, error) {
	return Blend(img, img, lms, opts)
}

// SwapFace returns a copy of target in which the face inside the oval of
// targetLms is replaced by the donor's face, warped onto it by the
// similarity transform that best maps donorLms to targetLms, then changed
// and pasted as Blend does: a crude face swap with a seam and a colour shift.
// The caller must Close the result.
func SwapFace(target, donor gocv.Mat, targetLms, donorLms []media.Point, opts *Options) (gocv.Mat, error) {
	if len(targetLms) != landmark.NumPoints || len(donorLms) != landmark.NumPoints {
		return gocv.Mat{}, fmt.Errorf("%w: need %d landmarks", ErrBadLandmarks, landmark.NumPoints)
	}
	m, ok := similarity(donorLms, targetLms)
	if !ok {
		return gocv.Mat{}, fmt.Errorf("%w: degenerate donor landmarks", ErrBadLandmarks)
	}
	warped, err := media.Warp(donor, m, target.Cols(), target.Rows())
	if err != nil {
		return gocv.Mat{}, err
	}
	defer warped.Close()
	return Blend(target, warped, targetLms, opts)
}

// similarity returns the least-squares rotation+scale+translation mapping
// src onto dst.
func similarity(src, dst []media.Point) (media.Affine, bool) {
	var ms, md media.Point
	for i := range src {
		ms, md = ms.Add(src[i]), md.Add(dst[i])
	}
	n := float64(len(src))
	ms, md = ms.Scale(1/n), md.Scale(1/n)
	var a, b, norm float64
	for i := range src {
		p, q := src[i].Sub(ms), dst[i].Sub(md)
		a += p.X*q.X + p.Y*q.Y
		b += p.X*q.Y - p.Y*q.X
		norm += p.X*p.X + p.Y*p.Y
	}
	if norm < 1e-9 || math.IsNaN(a) || math.IsNaN(b) {
		return media.Affine{}, false
	}
	c, s := a/norm, b/norm
	return media.Affine{A: c, B: -s, C: md.X - (c*ms.X - s*ms.Y), D: s, E: c, F: md.Y - (s*ms.X + c*ms.Y)}, true
}

// Blend returns a copy of img in which the face inside the oval of lms is
// replaced by the same region of donor (an image of img's size, already
// aligned to it), colour-shifted and resampled per opts. Nil opts means
// DefaultOptions. The caller must Close the result.
func Blend(img, donor gocv.Mat, lms []media.Point, opts *Options) (gocv.Mat, error) {
	if err := media.CheckBGR(donor); err != nil {
		return gocv.Mat{}, err
	}
	if donor.Cols() != img.Cols() || donor.Rows() != img.Rows() {
		return gocv.Mat{}, fmt.Errorf("fakes: donor %dx%d, image %dx%d", donor.Cols(), donor.Rows(), img.Cols(), img.Rows())
	}
	o := DefaultOptions()
	if opts != nil {
		o = *opts
	}
	for k := range o.Gain {
		if o.Gain[k] == 0 {
			o.Gain[k] = 1
		}
	}
	if o.Shrink <= 0 {
		o.Shrink = 1
	}
	poly, err := scaledOval(img, lms, o.Shrink)
	if err != nil {
		return gocv.Mat{}, err
	}
	if o.LowerFace {
		if poly = belowCut(poly, lms, o.LowerFaceCut); len(poly) < 3 {
			return gocv.Mat{}, fmt.Errorf("%w: no face below the nose line", ErrBadLandmarks)
		}
	}
	margin := int(3*o.Feather) + 2
	r := polyBounds(poly).Inset(-margin).Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if r.Dx() < 4 || r.Dy() < 4 {
		return gocv.Mat{}, fmt.Errorf("%w: face oval outside the image", ErrBadLandmarks)
	}
	region := img.Region(r)
	defer region.Close()
	donorRegion := donor.Region(r)
	src := donorRegion.Clone()
	donorRegion.Close()
	defer src.Close()

	if o.HueShift != 0 {
		hsv := gocv.NewMat()
		defer hsv.Close()
		gocv.CvtColor(src, &hsv, gocv.ColorBGRToHSV)
		d, err := hsv.DataPtrUint8()
		if err != nil {
			return gocv.Mat{}, err
		}
		for i := 0; i < len(d); i += 3 {
			h := math.Mod(float64(d[i])+o.HueShift, 180)
			if h < 0 {
				h += 180
			}
			d[i] = uint8(h)
		}
		gocv.CvtColor(hsv, &src, gocv.ColorHSVToBGR)
	}
	if o.Resample > 0 && o.Resample < 1 {
		small := gocv.NewMat()
		defer small.Close()
		sz := image.Pt(max(1, int(float64(r.Dx())*o.Resample)), max(1, int(float64(r.Dy())*o.Resample)))
		gocv.Resize(src, &small, sz, 0, 0, gocv.InterpolationArea)
		gocv.Resize(small, &src, image.Pt(r.Dx(), r.Dy()), 0, 0, gocv.InterpolationLinear)
	}
	mask := polyMask(r, poly, o.Feather)
	defer mask.Close()

	out := img.Clone()
	dst := region.Clone()
	defer dst.Close()
	sd, err1 := src.DataPtrUint8()
	dd, err2 := dst.DataPtrUint8()
	md, err3 := mask.DataPtrUint8()
	if err := errors.Join(err1, err2, err3); err != nil {
		out.Close()
		return gocv.Mat{}, err
	}
	for i, m := range md {
		if m == 0 {
			continue
		}
		a := float64(m) / 255
		for k := 0; k < 3; k++ {
			v := float64(sd[3*i+k]) * o.Gain[k]
			dd[3*i+k] = clamp8(a*v + (1-a)*float64(dd[3*i+k]))
		}
	}
	outRegion := out.Region(r)
	dst.CopyTo(&outRegion)
	outRegion.Close()
	return out, nil
}

// Tint returns a copy of img with its B, G and R multiplied by gain: only
// inside the face oval of lms (softened by 2 pixels) when faceOnly, else
// over the whole frame. The caller must Close the result.
func Tint(img gocv.Mat, lms []media.Point, gain [3]float64, faceOnly bool) (gocv.Mat, error) {
	if err := media.CheckBGR(img); err != nil {
		return gocv.Mat{}, err
	}
	full := image.Rect(0, 0, img.Cols(), img.Rows())
	r := full
	var mask gocv.Mat
	if faceOnly {
		poly, err := scaledOval(img, lms, 1)
		if err != nil {
			return gocv.Mat{}, err
		}
		r = polyBounds(poly).Inset(-8).Intersect(full)
		if r.Empty() {
			return gocv.Mat{}, fmt.Errorf("%w: face oval outside the image", ErrBadLandmarks)
		}
		mask = polyMask(r, poly, 2)
		defer mask.Close()
	}
	out := img.Clone()
	region := out.Region(r)
	defer region.Close()
	work := region.Clone()
	defer work.Close()
	d, err := work.DataPtrUint8()
	if err != nil {
		out.Close()
		return gocv.Mat{}, err
	}
	var md []uint8
	if faceOnly {
		if md, err = mask.DataPtrUint8(); err != nil {
			out.Close()
			return gocv.Mat{}, err
		}
	}
	for i := 0; i < len(d)/3; i++ {
		a := 1.0
		if md != nil {
			a = float64(md[i]) / 255
		}
		if a == 0 {
			continue
		}
		for k := 0; k < 3; k++ {
			v := float64(d[3*i+k])
			d[3*i+k] = clamp8(v + a*(v*gain[k]-v))
		}
	}
	work.CopyTo(&region)
	return out, nil
}

// scaledOval checks img and lms and returns the face oval scaled by s about
// its centroid.
func scaledOval(img gocv.Mat, lms []media.Point, s float64) ([]media.Point, error) {
	if err := media.CheckBGR(img); err != nil {
		return nil, err
	}
	if len(lms) < landmark.NumPoints {
		return nil, fmt.Errorf("%w: %d points, want %d", ErrBadLandmarks, len(lms), landmark.NumPoints)
	}
	poly := ovalPolygon(lms)
	var c media.Point
	for _, p := range poly {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.Abs(p.X) > 1e6 || math.Abs(p.Y) > 1e6 {
			return nil, fmt.Errorf("%w: point %v", ErrBadLandmarks, p)
		}
		c = c.Add(p)
	}
	c = c.Scale(1 / float64(len(poly)))
	for i, p := range poly {
		poly[i] = c.Add(p.Sub(c).Scale(s))
	}
	return poly, nil
}

func polyBounds(poly []media.Point) image.Rectangle {
	b := media.BoundingRect(poly)
	return image.Rect(int(math.Floor(b.X)), int(math.Floor(b.Y)), int(math.Ceil(b.X+b.W)), int(math.Ceil(b.Y+b.H)))
}

// polyMask returns an 8-bit mask of r's size with poly (image coordinates)
// filled, blurred with sigma feather when feather > 0.
func polyMask(r image.Rectangle, poly []media.Point, feather float64) gocv.Mat {
	mask := gocv.NewMatWithSize(r.Dy(), r.Dx(), gocv.MatTypeCV8U)
	mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	pts := make([]image.Point, len(poly))
	for i, p := range poly {
		pts[i] = image.Pt(int(math.Round(p.X))-r.Min.X, int(math.Round(p.Y))-r.Min.Y)
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.FillPoly(&mask, pv, color.RGBA{R: 255, G: 255, B: 255, A: 255})
	if feather > 0 {
		gocv.GaussianBlur(mask, &mask, image.Pt(0, 0), feather, feather, gocv.BorderReplicate)
	}
	return mask
}

// belowCut clips poly to the half-plane under the line through the point
// cut of the way from the eyes' midpoint to the nose tip, square to the
// eye line (so that a tilted face is cut along its own axes).
func belowCut(poly []media.Point, lms []media.Point, cut float64) []media.Point {
	if cut <= 0 {
		cut = 0.5
	}
	f := landmark.Face{Points: lms}
	eyes := media.Mid(f.RightEyeCenter(), f.LeftEyeCenter())
	on := eyes.Add(lms[landmark.NoseTip].Sub(eyes).Scale(cut))
	across := lms[landmark.LeftEyeOuter].Sub(lms[landmark.RightEyeOuter])
	down := media.Point{X: -across.Y, Y: across.X} // the eye line turned a quarter, pointing chin-wards
	if down.X*(lms[landmark.NoseTip].X-eyes.X)+down.Y*(lms[landmark.NoseTip].Y-eyes.Y) < 0 {
		down = down.Scale(-1)
	}
	side := func(p media.Point) float64 { d := p.Sub(on); return d.X*down.X + d.Y*down.Y }
	// One Sutherland–Hodgman pass against the line.
	var out []media.Point
	for i, p := range poly {
		q := poly[(i+1)%len(poly)]
		sp, sq := side(p), side(q)
		if sp >= 0 {
			out = append(out, p)
		}
		if (sp >= 0) != (sq >= 0) {
			out = append(out, p.Add(q.Sub(p).Scale(sp/(sp-sq))))
		}
	}
	return out
}

// ovalPolygon returns the face-oval points of lms, in order.
func ovalPolygon(lms []media.Point) []media.Point {
	out := make([]media.Point, 0, len(landmark.FaceOval))
	for _, i := range landmark.FaceOval {
		if i < len(lms) {
			out = append(out, lms[i])
		}
	}
	return out
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0 || math.IsNaN(v):
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
