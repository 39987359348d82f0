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
	big := cropSide
	if scale < 1 {
		big = min(8*cropSide, int(math.Ceil(cropSide/scale)))
	}
	k := float64(big) / cropSide
	mb := media.Affine{A: m.A * k, B: m.B * k, C: m.C * k, D: m.D * k, E: m.E * k, F: m.F * k}
	warped, err := media.Warp(img, mb, big, big)
	if err != nil {
		return alignedFace{}, err
	}
	defer warped.Close()
	if big != cropSide {
		gocv.Resize(warped, &warped, image.Pt(cropSide, cropSide), 0, 0, gocv.InterpolationArea)
	}
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
	inv, ok := m.Invert()
	if !ok {
		return alignedFace{}, fmt.Errorf("fingerprint: singular face alignment")
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
