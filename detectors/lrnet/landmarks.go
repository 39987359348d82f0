// Package lrnet runs LRNet (Sun et al., "Improving the Efficiency and
// Robustness for Deepfakes Detection through Precise Geometric Features",
// CVPR 2021), whose published weights (MIT) come from the model mirror:
// two bidirectional GRUs that read a face's 68 landmarks over two seconds,
// one their positions and one their frame-to-frame steps. They learnt from
// FaceForensics++, hundreds of real speakers the project has no other use
// of. The project feeds them the Face Mesh points of the 68-point layout
// (landmark.IBUG68), placed in LRNet's face frame and calibrated as LRNet
// calibrates its detector's points (Lucas–Kanade tracking merged with the
// detection by a per-point Kalman rule).
//
// It is not in the default set: fitted beside the project's lip-sync
// stand-ins it lifts the held-out AUC but calls more re-encoded real clips
// likely manipulated (see the README), so it runs only when asked for
// (--detectors).
package lrnet

import (
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Name is the detector's name in results.
const Name = "lrnet"

// Points is the number of landmarks LRNet reads; a frame is 2×Points
// numbers, x and y of each point.
const Points = 68

// Frame is one frame's landmarks, x0 y0 x1 y1 …, in image pixels or (after
// Normalise) in LRNet's face frame.
type Frame [2 * Points]float32

// FromMesh takes the 68 points from 468 Face Mesh points by
// landmark.IBUG68 (the mapping checked against dlib's annotations in
// media/landmark); false when the mesh is incomplete.
func FromMesh(mesh []media.Point) (Frame, bool) {
	var f Frame
	if len(mesh) < 468 {
		return f, false
	}
	for i, j := range landmark.IBUG68 {
		f[2*i] = float32(mesh[j].X)
		f[2*i+1] = float32(mesh[j].Y)
	}
	return f, true
}

// bounds returns the landmarks' bounding box.
func (f *Frame) bounds() (minX, minY, maxX, maxY float64) {
	minX, minY, maxX, maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := 0; i < Points; i++ {
		x, y := float64(f[2*i]), float64(f[2*i+1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return
}

// extent is the larger side of the landmarks' bounding box.
func (f *Frame) extent() float64 {
	x0, y0, x1, y1 := f.bounds()
	return math.Max(x1-x0, y1-y0)
}

// faceSize is the side, in pixels, of the face crops LRNet calibrates and
// normalises in; boxScale is that crop's side over the landmarks' extent.
const (
	faceSize = 400
	boxScale = 1.2
)

// Normalise places a run of frames in LRNet's face frame: a square of
// boxScale times the landmarks' mean extent, centred on each frame's
// landmark box (held while it moves less than 1.42 px, as LRNet holds it),
// mapped to [−1, 1] at faceSize pixels with LRNet's whole-pixel rounding.
func Normalise(run []Frame) []Frame {
	if len(run) == 0 {
		return nil
	}
	var sum float64
	for i := range run {
		sum += run[i].extent()
	}
	size := math.Floor(sum/float64(len(run))*boxScale/2) * 2
	if size <= 0 {
		size = 2
	}
	scale := faceSize / size
	out := make([]Frame, len(run))
	var cx0, cy0 float64
	for t := range run {
		x0, y0, x1, y1 := run[t].bounds()
		cx, cy := math.Floor((x0+x1)/2), math.Floor((y0+y1)/2)
		if t > 0 && math.Hypot(cx-cx0, cy-cy0) < 1.42 {
			cx, cy = cx0, cy0
		}
		cx0, cy0 = cx, cy
		left, top := cx-size/2, cy-size/2
		for i := 0; i < Points; i++ {
			x := math.Round((float64(run[t][2*i]) - left) * scale)
			y := math.Round((float64(run[t][2*i+1]) - top) * scale)
			out[t][2*i] = float32((x - faceSize/2) / (faceSize / 2))
			out[t][2*i+1] = float32((y - faceSize/2) / (faceSize / 2))
		}
	}
	return out
}

// Calibrator follows one track's landmarks from frame to frame as LRNet's
// calibration does: the previous calibrated points are tracked into the
// new frame by pyramidal Lucas–Kanade on face crops of faceSize pixels
// (forward, then back to check), and each point that tracks back to within
// 2 px is merged with its detected position by a Kalman gain whose
// measurement noise is how far the detection moved over how far the
// tracking did; other points keep their detected position. Its zero value
// is ready; Close frees the frame it keeps.
type Calibrator struct {
	prev             gocv.Mat // grey previous frame
	have             bool
	prevFrame        int
	prevDet, prevCal Frame
	gain             [Points]float64 // the Kalman filter's estimate variance per point
	sizeSum          float64
	sizes            int
}

// maxStep is the largest frame-index step a track may take and still be
// calibrated from the frame before: the scan analyses every frame, or every
// second one of videos faster than 15 frames a second, or more rarely on
// very fast ones, where tracking over the gap would mislead.
const maxStep = 2

// Next returns frame's calibrated landmarks given its grey image and its
// detected ones; it keeps a copy of grey for the next frame.
func (c *Calibrator) Next(grey gocv.Mat, frame int, det Frame) Frame {
	c.sizeSum += det.extent()
	c.sizes++
	cal := det
	if c.have && frame-c.prevFrame <= maxStep && frame > c.prevFrame {
		cal = c.track(grey, det)
	} else {
		c.gain = [Points]float64{}
	}
	if c.have {
		c.prev.Close()
	}
	c.prev, c.have = grey.Clone(), true
	c.prevFrame, c.prevDet, c.prevCal = frame, det, cal
	return cal
}

// Close frees the kept frame.
func (c *Calibrator) Close() {
	if c.have {
		c.prev.Close()
		c.have = false
	}
}

func (c *Calibrator) track(grey gocv.Mat, det Frame) Frame {
	side := c.sizeSum / float64(c.sizes) * boxScale
	x0, y0, x1, y1 := det.bounds()
	cx, cy := (x0+x1)/2, (y0+y1)/2
	box := image.Rect(int(cx-side/2), int(cy-side/2), int(cx+side/2), int(cy+side/2)).
		Intersect(image.Rect(0, 0, grey.Cols(), grey.Rows()))
	if box.Dx() < 16 || box.Dy() < 16 || c.prev.Cols() != grey.Cols() || c.prev.Rows() != grey.Rows() {
		return det
	}
	scale := faceSize / side
	size := image.Pt(int(float64(box.Dx())*scale+0.5), int(float64(box.Dy())*scale+0.5))
	prevCrop, crop := resizedRegion(c.prev, box, size), resizedRegion(grey, box, size)
	defer prevCrop.Close()
	defer crop.Close()

	toCrop := func(f *Frame) []float32 {
		out := make([]float32, len(f))
		for i := 0; i < Points; i++ {
			out[2*i] = float32(math.Round((float64(f[2*i]) - float64(box.Min.X)) * scale))
			out[2*i+1] = float32(math.Round((float64(f[2*i+1]) - float64(box.Min.Y)) * scale))
		}
		return out
	}
	start, target, prevDet := toCrop(&c.prevCal), toCrop(&det), toCrop(&c.prevDet)
	forward, okForward := lucasKanade(prevCrop, crop, start, target)
	back, okBack := lucasKanade(crop, prevCrop, forward, start)

	var out Frame
	for i := 0; i < Points; i++ {
		fx, fy := math.Round(float64(forward[2*i])), math.Round(float64(forward[2*i+1]))
		sx, sy := float64(start[2*i]), float64(start[2*i+1])
		tx, ty := float64(target[2*i]), float64(target[2*i+1])
		x, y := tx, ty
		bx, by := math.Round(float64(back[2*i])), math.Round(float64(back[2*i+1]))
		if okForward[i] && okBack[i] && math.Hypot(bx-sx, by-sy) <= 2 {
			detected := math.Hypot(tx-float64(prevDet[2*i]), ty-float64(prevDet[2*i+1]))
			tracked := math.Hypot(fx-sx, fy-sy)
			if tracked == 0 {
				tracked = 1
			}
			c.gain[i] += 0.3 // process noise
			k := c.gain[i] / (c.gain[i] + detected/tracked)
			x, y = fx+k*(tx-fx), fy+k*(ty-fy)
			c.gain[i] *= 1 - k
		}
		out[2*i] = float32(x/scale) + float32(box.Min.X)
		out[2*i+1] = float32(y/scale) + float32(box.Min.Y)
	}
	return out
}

// resizedRegion returns the box of m scaled to size.
func resizedRegion(m gocv.Mat, box image.Rectangle, size image.Point) gocv.Mat {
	region := m.Region(box)
	defer region.Close()
	out := gocv.NewMat()
	gocv.Resize(region, &out, size, 0, 0, gocv.InterpolationLinear)
	return out
}

// lucasKanade tracks pts (x y pairs) from a to b starting from guess, with
// LRNet's settings (15-px window, 3 pyramid levels, 10 iterations or
// 0.03 px); ok reports per point whether it was found.
func lucasKanade(a, b gocv.Mat, pts, guess []float32) ([]float32, []bool) {
	from := pointsMat(pts)
	defer from.Close()
	to := pointsMat(guess)
	defer to.Close()
	status, errs := gocv.NewMat(), gocv.NewMat()
	defer status.Close()
	defer errs.Close()
	const useInitialFlow = 4 // cv::OPTFLOW_USE_INITIAL_FLOW
	gocv.CalcOpticalFlowPyrLKWithParams(a, b, from, to, &status, &errs, image.Pt(15, 15), 3,
		gocv.NewTermCriteria(gocv.Count|gocv.EPS, 10, 0.03), useInitialFlow, 1e-4)
	out := make([]float32, len(pts))
	if data, err := to.DataPtrFloat32(); err == nil && len(data) == len(pts) {
		copy(out, data)
	}
	ok := make([]bool, len(pts)/2)
	if st := status.ToBytes(); len(st) == len(ok) {
		for i, s := range st {
			ok[i] = s != 0
		}
	}
	return out, ok
}

// pointsMat holds x y pairs as an N×1 two-channel float Mat.
func pointsMat(pts []float32) gocv.Mat {
	m := gocv.NewMatWithSize(len(pts)/2, 1, gocv.MatTypeCV32FC2)
	if data, err := m.DataPtrFloat32(); err == nil {
		copy(data, pts)
	}
	return m
}
