package landmark

import (
	"math"
	"testing"

	"github.com/trueframe/trueframe/media"
)

func TestROIFromBox(t *testing.T) {
	box := media.Rect{X: 100, Y: 50, W: 80, H: 100}
	roi := ROIFromBox(box, nil, nil)
	if roi.Center != (media.Point{X: 140, Y: 100}) || roi.Size != 150 || roi.Angle != 0 {
		t.Errorf("upright ROI %+v", roi)
	}
	// Eyes on a line rising to the image right: the face is rolled
	// counter-clockwise in display, and the crop must undo that.
	right, left := media.Point{X: 120, Y: 90}, media.Point{X: 160, Y: 70}
	roi = ROIFromBox(box, &right, &left)
	m := media.ROITransform(roi, 192)
	r, l := m.Apply(right), m.Apply(left)
	if math.Abs(r.Y-l.Y) > 1e-9 || l.X <= r.X {
		t.Errorf("eyes map to %v and %v in the crop: want level, right eye on the left", r, l)
	}
	if roi.Angle <= 0 {
		t.Errorf("angle %v for a counter-clockwise roll, want > 0", roi.Angle)
	}
}

// TestFitRotated fits a portrait rotated by 40° and compares with the
// upright fit mapped through the rotation: the ROI angle convention and the
// inverse crop mapping must agree.
func TestFitRotated(t *testing.T) {
	m, img, p, up := fittedPortrait(t)

	// Rotate the image 40° counter-clockwise in display about the face.
	const a = 40 * math.Pi / 180
	c := up.ROI.Center
	rot := media.Affine{A: math.Cos(a), B: math.Sin(a), D: -math.Sin(a), E: math.Cos(a)}
	rot.C = c.X - (rot.A*c.X + rot.B*c.Y)
	rot.F = c.Y - (rot.D*c.X + rot.E*c.Y)
	rotated, err := media.Warp(img, rot, img.Cols(), img.Rows())
	if err != nil {
		t.Fatal(err)
	}
	defer rotated.Close()
	want := make([]media.Point, NumPoints)
	for i, q := range up.Points {
		want[i] = rot.Apply(q)
	}
	// Start from the box and eye centres a detector would give.
	re, le := rot.Apply(up.RightEyeCenter()), rot.Apply(up.LeftEyeCenter())
	roi := ROIFromBox(media.Rect{X: c.X - p.box.W/2, Y: c.Y - p.box.H/2, W: p.box.W, H: p.box.H}, &re, &le)
	if math.Abs(roi.Angle-a) > 0.1 {
		t.Errorf("ROI angle %.3f, want about %.3f", roi.Angle, a)
	}
	f, err := m.Fit(rotated, roi)
	if err != nil {
		t.Fatal(err)
	}
	next := f.NextROI()
	if math.Abs(next.Angle-a) > 0.1 {
		t.Errorf("NextROI angle %.3f, want about %.3f", next.Angle, a)
	}
	if math.Abs(f.Roll()-a) > 0.1 {
		t.Errorf("Roll %.3f, want about %.3f", f.Roll(), a)
	}
	iod := up.RightEyeCenter().Dist(up.LeftEyeCenter())
	d := meanDist(f.Points, want) / iod
	t.Logf("rotated fit: mean landmark offset %.4f inter-ocular distances", d)
	if d > 0.05 {
		t.Errorf("rotated fit off the upright one by %.4f inter-ocular distances", d)
	}
}

// TestNextROITracks moves a portrait and follows it with NextROI alone.
func TestNextROITracks(t *testing.T) {
	m, img, p, f := fittedPortrait(t)
	if f.Presence < 0.9 {
		t.Fatalf("presence %.3f on a frontal portrait", f.Presence)
	}
	box := f.Box()
	if c := box.Center(); c.Dist(p.box.Center()) > 0.25*p.box.W {
		t.Errorf("landmark box centre %v far from the face box centre %v", c, p.box.Center())
	}
	// Shift the image by a tenth of the face each step, 5 steps.
	shift := media.Point{X: 0.1 * p.box.W, Y: -0.05 * p.box.W}
	for step := 1; step <= 5; step++ {
		off := shift.Scale(float64(step))
		moved, err := media.Warp(img, media.Affine{A: 1, C: off.X, E: 1, F: off.Y}, img.Cols(), img.Rows())
		if err != nil {
			t.Fatal(err)
		}
		f, err = m.Fit(moved, f.NextROI())
		moved.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := box.Center().Add(off)
		if d := f.Box().Center().Dist(want); d > 0.05*p.box.W {
			t.Errorf("step %d: face at %v, want %v", step, f.Box().Center(), want)
		}
	}
	// Off the face, presence must collapse.
	lost, err := m.Fit(img, media.ROI{Center: media.Point{X: 100, Y: 900}, Size: f.ROI.Size})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("presence on the face %.3f, on the suit %.3f", f.Presence, lost.Presence)
	if lost.Presence > 0.5 {
		t.Errorf("presence %.3f with no face in the ROI", lost.Presence)
	}
}
