package landmark

import (
	"errors"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// eyeROIScale is the eye crop's side over the eye-corner distance, as in
// MediaPipe's iris pipeline.
const eyeROIScale = 2.3

// Indices into the Iris model's 71 eye points (and into Eye.Contour): 0 is
// the outer corner, 1–7 run along the lower lid to the inner corner 8, and
// 9–15 run along the upper lid from the outer to the inner end. The other 55
// points trace the brow and the skin around the eye and are not returned.
// Mesh points matching the contour, in the same order, are
// RightEyeIrisContour and LeftEyeIrisContour.
const (
	irisOuter, irisInner = 0, 8
	irisContourLen       = 16
)

// irisEAR are the Iris contour indices of the eye aspect ratio, in the
// order of RightEyeEAR: outer corner, two upper lid points, inner corner,
// two lower lid points.
var irisEAR = [6]int{0, 11, 13, 8, 5, 3}

// EyeState is what Eyes measures on one face.
type EyeState struct {
	Right, Left Eye // the subject's right and left eye
}

// Eye is one fitted eye.
type Eye struct {
	// Openness is the eye aspect ratio of the Iris model's lid contour:
	// mean lid gap over corner distance, independent of the eye's size.
	// Typical open eyes read 0.2–0.35 and fall towards 0.1 when shut, but
	// the level varies between people and expressions (a smile narrows the
	// eye), so blinks are best found as dips in one eye's series.
	Openness float64
	// Contour is the lid margin in image pixels, in the order described at
	// RightEyeIrisContour.
	Contour []media.Point
	// Iris is the iris centre in image pixels.
	Iris media.Point
	// IrisRadius is the iris radius in image pixels.
	IrisRadius float64
}

// Eyes crops both eyes of f out of img, runs the Iris model on each and
// returns their lid contours, iris centres and openness. The crop is a square
// eyeROIScale times the eye-corner distance, rotated with the eye line. The
// model was trained on the subject's right eye (outer corner on the crop's
// left), so the left eye is mirrored before it runs and its points mirrored
// back.
func (m *Mesher) Eyes(img gocv.Mat, f Face) (EyeState, error) {
	if m.iris == nil {
		return EyeState{}, errors.New("landmark: Mesher closed")
	}
	if err := checkBGR(img); err != nil {
		return EyeState{}, err
	}
	if len(f.Points) != NumPoints {
		return EyeState{}, fmt.Errorf("landmark: face has %d points, want %d", len(f.Points), NumPoints)
	}
	var st EyeState
	var err error
	// The ROI's x axis runs from the image-left corner to the image-right
	// one; for the left eye that is inner to outer, which the mirror undoes.
	st.Right, err = m.eye(img, f.Points[RightEyeOuter], f.Points[RightEyeInner], false)
	if err != nil {
		return EyeState{}, fmt.Errorf("right eye: %w", err)
	}
	st.Left, err = m.eye(img, f.Points[LeftEyeInner], f.Points[LeftEyeOuter], true)
	if err != nil {
		return EyeState{}, fmt.Errorf("left eye: %w", err)
	}
	return st, nil
}

// eye fits one eye whose corners are a (image left) and b (image right).
func (m *Mesher) eye(img gocv.Mat, a, b media.Point, mirror bool) (Eye, error) {
	roi := media.ROI{Center: media.Mid(a, b), Size: eyeROIScale * a.Dist(b), Angle: eyeAngle(a, b)}
	if err := checkROI(roi); err != nil {
		return Eye{}, err
	}
	crop, toCrop, err := media.CropROI(img, roi, irisSize)
	if err != nil {
		return Eye{}, err
	}
	defer crop.Close()
	toImg, ok := toCrop.Invert()
	if !ok {
		return Eye{}, fmt.Errorf("%w: singular eye transform", ErrBadROI)
	}
	return m.runIris(crop, mirror, toImg)
}

// runIris runs the Iris model on a 64×64 BGR crop, mirrored first when
// mirror is set, and maps its points to image pixels with toImg (crop →
// image, before mirroring).
func (m *Mesher) runIris(crop gocv.Mat, mirror bool, toImg media.Affine) (Eye, error) {
	in := crop
	if mirror {
		in = gocv.NewMat()
		defer in.Close()
		gocv.Flip(crop, &in, 1)
	}
	// [-1,1] and [0,1] give contours within a few tenths of a pixel of each
	// other; [-1,1] agrees slightly better with the Face Mesh eye contour.
	if err := media.FillCHW(m.iris.Input(0), in, media.SymmetricRange); err != nil {
		return Eye{}, err
	}
	if err := m.iris.Run(); err != nil {
		return Eye{}, err
	}
	// As in Fit, model coordinates are half a pixel off ours; the mirror
	// takes pixel x to irisSize-1-x.
	at := func(out []float32, i int) media.Point {
		x := float64(out[3*i]) - 0.5
		if mirror {
			x = irisSize - 1 - x
		}
		return toImg.Apply(media.Point{X: x, Y: float64(out[3*i+1]) - 0.5})
	}
	eyeOut, irisOut := m.iris.Output(0), m.iris.Output(1)
	e := Eye{Contour: make([]media.Point, irisContourLen)}
	for i := range e.Contour {
		e.Contour[i] = at(eyeOut, i)
	}
	e.Openness = ear(e.Contour, irisEAR)
	// Iris point 0 is the centre, 1–4 lie on the iris edge.
	e.Iris = at(irisOut, 0)
	for i := 1; i < irisPts; i++ {
		e.IrisRadius += e.Iris.Dist(at(irisOut, i)) / (irisPts - 1)
	}
	return e, nil
}

// ear returns the eye aspect ratio of the six points idx of pts (outer
// corner, two upper, inner corner, two lower), 0 for a degenerate eye.
func ear(pts []media.Point, idx [6]int) float64 {
	w := pts[idx[0]].Dist(pts[idx[3]])
	if w < 1e-9 {
		return 0
	}
	return (pts[idx[1]].Dist(pts[idx[5]]) + pts[idx[2]].Dist(pts[idx[4]])) / (2 * w)
}

// MeshOpenness returns the Face Mesh's own eye aspect ratios (right, left),
// from RightEyeEAR and LeftEyeEAR. It is cheaper than Eyes but the mesh is
// less sensitive to closed lids than the Iris model.
func (f Face) MeshOpenness() (right, left float64) {
	if len(f.Points) != NumPoints {
		return 0, 0
	}
	return ear(f.Points, RightEyeEAR), ear(f.Points, LeftEyeEAR)
}

// patchPad is how much a standalone eye patch is grown into the square the
// Iris model sees: tight eye crops such as CEW's are about as wide as the
// eye, while the model expects eyeROIScale times the corner distance.
var patchPad = 1.6

// EyePatchOpenness measures the openness of a standalone eye patch: an 8-bit
// grayscale or BGR image holding one eye, roughly centred and level, with
// little else around it (such as the 34×26 patches of the CEW data set).
// The patch is padded to a square by repeating its border, scaled to the
// model's input and, for a left eye (left set), mirrored. When the side is
// unknown, either value works nearly as well: the model finds the lid
// contour in both orientations.
func (m *Mesher) EyePatchOpenness(patch gocv.Mat, left bool) (float64, error) {
	if m.iris == nil {
		return 0, errors.New("landmark: Mesher closed")
	}
	if patch.Ptr() == nil {
		return 0, fmt.Errorf("%w (nil Mat)", media.ErrBadImage)
	}
	if patch.Empty() || patch.Rows() < 4 || patch.Cols() < 4 ||
		(patch.Type() != gocv.MatTypeCV8UC1 && patch.Type() != gocv.MatTypeCV8UC3) {
		return 0, fmt.Errorf("%w (type %v, %dx%d)", media.ErrBadImage, patch.Type(), patch.Cols(), patch.Rows())
	}
	bgr := patch
	if patch.Type() == gocv.MatTypeCV8UC1 {
		bgr = gocv.NewMat()
		defer bgr.Close()
		gocv.CvtColor(patch, &bgr, gocv.ColorGrayToBGR)
	}
	w, h := bgr.Cols(), bgr.Rows()
	side := int(math.Round(patchPad * float64(max(w, h))))
	padX, padY := side-w, side-h
	sq := gocv.NewMat()
	defer sq.Close()
	gocv.CopyMakeBorder(bgr, &sq, padY/2, padY-padY/2, padX/2, padX-padX/2, gocv.BorderReplicate, colorBlack)
	in := gocv.NewMat()
	defer in.Close()
	gocv.Resize(sq, &in, image.Pt(irisSize, irisSize), 0, 0, gocv.InterpolationLinear)
	e, err := m.runIris(in, left, media.Affine{A: 1, E: 1})
	if err != nil {
		return 0, err
	}
	return e.Openness, nil
}
