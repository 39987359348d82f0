package landmark

import (
	"math"

	"github.com/trueframe/trueframe/media"
)

// roiScale is how much larger than the face box the mesh ROI is: MediaPipe
// crops 1.5× the detection or landmark box so the whole head outline fits.
const roiScale = 1.5

// ROIFromBox returns a Face Mesh ROI for a detected face box: a square
// roiScale times the box's longer side around its centre. When both eye
// keypoints are given (subject's right eye, which appears on the image's
// left, then the left eye) the ROI is rotated so the eye line becomes
// horizontal in the crop; with either nil the ROI is upright.
func ROIFromBox(box media.Rect, rightEye, leftEye *media.Point) media.ROI {
	roi := media.ROI{Center: box.Center(), Size: roiScale * math.Max(box.W, box.H)}
	if rightEye != nil && leftEye != nil {
		roi.Angle = eyeAngle(*rightEye, *leftEye)
	}
	return roi
}

// eyeAngle is the ROI angle that puts the line from the right eye (image
// left) to the left eye on the crop's x axis. A ROI's x axis runs along
// (cos a, -sin a) in the image, so a = atan2(-dy, dx).
func eyeAngle(right, left media.Point) float64 {
	d := left.Sub(right)
	return math.Atan2(-d.Y, d.X)
}

// RightEyeCenter returns the midpoint of the right eye's corners.
func (f Face) RightEyeCenter() media.Point {
	return media.Mid(f.Points[RightEyeOuter], f.Points[RightEyeInner])
}

// LeftEyeCenter returns the midpoint of the left eye's corners.
func (f Face) LeftEyeCenter() media.Point {
	return media.Mid(f.Points[LeftEyeOuter], f.Points[LeftEyeInner])
}

// Roll returns the head's in-plane rotation in radians, counter-clockwise in
// image display, from the outer eye corners (0 when the eyes are level). It
// uses the same convention as media.ROI.Angle.
func (f Face) Roll() float64 {
	return eyeAngle(f.Points[RightEyeOuter], f.Points[LeftEyeOuter])
}

// Box returns the axis-aligned bounding box of the landmarks.
func (f Face) Box() media.Rect { return media.BoundingRect(f.Points) }

// NextROI returns the ROI to fit the same face in the next video frame:
// the landmarks' bounding box measured along the eye line, grown roiScale
// times into a square, rotated by Roll. Feeding it to Fit on the next frame
// tracks the face without running a detector.
func (f Face) NextROI() media.ROI {
	if len(f.Points) != NumPoints {
		return media.ROI{}
	}
	a := f.Roll()
	// Axis unit vectors of the rotated frame, in image coordinates.
	ux := media.Point{X: math.Cos(a), Y: -math.Sin(a)}
	uy := media.Point{X: math.Sin(a), Y: math.Cos(a)}
	x0, y0 := math.Inf(1), math.Inf(1)
	x1, y1 := math.Inf(-1), math.Inf(-1)
	for _, p := range f.Points {
		u := p.X*ux.X + p.Y*ux.Y
		v := p.X*uy.X + p.Y*uy.Y
		x0, x1 = math.Min(x0, u), math.Max(x1, u)
		y0, y1 = math.Min(y0, v), math.Max(y1, v)
	}
	cu, cv := (x0+x1)/2, (y0+y1)/2
	return media.ROI{
		Center: ux.Scale(cu).Add(uy.Scale(cv)),
		Size:   roiScale * math.Max(x1-x0, y1-y0),
		Angle:  a,
	}
}
