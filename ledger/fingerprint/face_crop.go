package fingerprint

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// cropSide is the side of the aligned face crop the face descriptor is
// computed from: the face is warped so its eyes and mouth land at
// landmark's canonical places (eyes 0.3 of the side apart), whatever its
// size in the frame. 64 pixels keep the structure that tells faces and
// mouths apart (eyes 19 px apart, mouth 19 px wide) and drop the detail a
// re-encoding or a resize changes.
const cropSide = 64

// alignedFace is one face warped to the canonical crop: 8-bit planes of
// cropSide x cropSide pixels.
type alignedFace struct {
	y, cr, cb []uint8
	// inside has bit r set when region r lies wholly inside the frame; a
	// region cut by the frame edge (a face at the border of a cropped copy)
	// is not compared.
	inside uint8
}

// alignFace warps the face f of the BGR frame img to the canonical crop. A
// face much larger than the crop is first warped at about its own scale,
// then area-averaged down, so the crop is a low-pass image of the face, not
// a sparse sampling of its pixels that would change with every re-encoding.
func alignFace(img gocv.Mat, f landmark.Face) (alignedFace, error) {
	m, err := landmark.AlignTransform(f, cropSide)
	if err != nil {
		return alignedFace{}, err
	}
	scale := math.Hypot(m.A, m.D) // crop pixels per frame pixel
	if !(scale > 0) || math.IsInf(scale, 0) {
		return alignedFace{}, fmt.Errorf("fingerprint: degenerate face alignment")
	}
	inv, ok := m.Invert()
	if !ok {
		return alignedFace{}, fmt.Errorf("fingerprint: singular face alignment")
	}
	warped, err := warpAligned(img, m, inv, scale, cropSide, cropSide)
	if err != nil {
		return alignedFace{}, err
	}
	defer warped.Close()
	ycc := gocv.NewMat()
	defer ycc.Close()
	gocv.CvtColor(warped, &ycc, gocv.ColorBGRToYCrCb)
	if ycc.Rows() != cropSide || ycc.Cols() != cropSide || ycc.Channels() != 3 {
		return alignedFace{}, fmt.Errorf("%w: aligned face %dx%dx%d", media.ErrBadImage, ycc.Cols(), ycc.Rows(), ycc.Channels())
	}
	pix, err := ycc.DataPtrUint8()
	if err != nil {
		return alignedFace{}, fmt.Errorf("%w: %v", media.ErrBadImage, err)
	}
	n := cropSide * cropSide
	a := alignedFace{y: make([]uint8, n), cr: make([]uint8, n), cb: make([]uint8, n)}
	for i := range n {
		a.y[i], a.cr[i], a.cb[i] = pix[3*i], pix[3*i+1], pix[3*i+2]
	}
	w, h := float64(img.Cols()), float64(img.Rows())
	for r, reg := range regions {
		in := true
		for _, c := range reg.corners() {
			p := inv.Apply(c)
			if p.X < 0 || p.Y < 0 || p.X > w-1 || p.Y > h-1 {
				in = false
			}
		}
		if in {
			a.inside |= 1 << r
		}
	}
	return a, nil
}

// warpAligned warps img to the w x h image of the map m (inv its inverse,
// scale its scale): an aligned crop, or a window of one. A face larger than
// the output is first area-averaged down, within the bounding box of the
// output in the frame, to twice the output's scale, warped to an output
// twice the size, and area-averaged again: the output is a low-pass image
// of the face, not a sparse sampling of its pixels that would change with
// every re-encoding, at a fraction of the cost of warping the face at its
// own scale.
func warpAligned(img gocv.Mat, m, inv media.Affine, scale float64, w, h int) (gocv.Mat, error) {
	const over = 2 // oversampling of the warp
	if scale*over >= 1 {
		return media.Warp(img, m, w, h)
	}
	var b media.Rect
	for i, c := range [4]media.Point{{}, {X: float64(w)}, {Y: float64(h)}, {X: float64(w), Y: float64(h)}} {
		p := inv.Apply(c)
		if i == 0 {
			b = media.Rect{X: p.X, Y: p.Y}
			continue
		}
		x0, y0 := min(b.X, p.X), min(b.Y, p.Y)
		b = media.Rect{X: x0, Y: y0, W: max(b.X+b.W, p.X) - x0, H: max(b.Y+b.H, p.Y) - y0}
	}
	r := image.Rect(int(math.Floor(b.X))-2, int(math.Floor(b.Y))-2, int(math.Ceil(b.X+b.W))+2, int(math.Ceil(b.Y+b.H))+2).
		Intersect(image.Rect(0, 0, img.Cols(), img.Rows()))
	if r.Dx() < 2 || r.Dy() < 2 {
		return media.Warp(img, m, w, h) // the face lies outside the frame: a black crop
	}
	region := img.Region(r)
	defer region.Close()
	small := gocv.NewMat()
	defer small.Close()
	sw, sh := max(1, int(math.Round(float64(r.Dx())*scale*over))), max(1, int(math.Round(float64(r.Dy())*scale*over)))
	gocv.Resize(region, &small, image.Pt(sw, sh), 0, 0, gocv.InterpolationArea)
	// The map from the small image's pixels to the frame's (pixel centres
	// at whole coordinates, as OpenCV resizes): p = q/f + origin + 0.5/f -
	// 0.5 per axis; then m, scaled to the oversampled output.
	fx, fy := float64(sw)/float64(r.Dx()), float64(sh)/float64(r.Dy())
	ox, oy := float64(r.Min.X)+0.5/fx-0.5, float64(r.Min.Y)+0.5/fy-0.5
	ms := media.Affine{A: over * m.A / fx, B: over * m.B / fy, C: over * (m.A*ox + m.B*oy + m.C),
		D: over * m.D / fx, E: over * m.E / fy, F: over * (m.D*ox + m.E*oy + m.F)}
	out, err := media.Warp(small, ms, over*w, over*h)
	if err != nil {
		return gocv.Mat{}, err
	}
	gocv.Resize(out, &out, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	return out, nil
}
