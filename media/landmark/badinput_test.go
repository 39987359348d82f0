package landmark

import (
	"errors"
	"math"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// TestBadInput feeds every entry point unusable images, ROIs and faces: each
// must return an error (gocv would abort the process on an OpenCV exception).
func TestBadInput(t *testing.T) {
	m := newTestMesher(t)
	img := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	gray := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC1)
	defer gray.Close()
	float := gocv.NewMatWithSize(26, 34, gocv.MatTypeCV32FC1)
	defer float.Close()
	good := media.ROI{Center: media.Point{X: 160, Y: 120}, Size: 100}
	nan := math.NaN()

	for name, tc := range map[string]struct {
		img  gocv.Mat
		roi  media.ROI
		want error
	}{
		"empty Mat":     {empty, good, media.ErrBadImage},
		"zero Mat":      {gocv.Mat{}, good, media.ErrBadImage},
		"gray Mat":      {gray, good, media.ErrBadImage},
		"size 0":        {img, media.ROI{Center: good.Center}, ErrBadROI},
		"negative size": {img, media.ROI{Center: good.Center, Size: -5}, ErrBadROI},
		"NaN size":      {img, media.ROI{Center: good.Center, Size: nan}, ErrBadROI},
		"Inf size":      {img, media.ROI{Center: good.Center, Size: math.Inf(1)}, ErrBadROI},
		"huge size":     {img, media.ROI{Center: good.Center, Size: 1e9}, ErrBadROI},
		"NaN centre":    {img, media.ROI{Center: media.Point{X: nan, Y: 1}, Size: 100}, ErrBadROI},
		"NaN angle":     {img, media.ROI{Center: good.Center, Size: 100, Angle: nan}, ErrBadROI},
		"far centre":    {img, media.ROI{Center: media.Point{X: 1e300, Y: 0}, Size: 100}, ErrBadROI},
	} {
		if _, err := m.Fit(tc.img, tc.roi); !errors.Is(err, tc.want) {
			t.Errorf("Fit, %s: err %v, want %v", name, err, tc.want)
		}
	}

	// A black image still fits (garbage, but finite), with low presence.
	f, err := m.Fit(img, good)
	if err != nil {
		t.Fatalf("Fit on black: %v", err)
	}
	if f.Presence > 0.5 {
		t.Errorf("presence %.3f on a black image", f.Presence)
	}

	collapsed := Face{Points: make([]media.Point, NumPoints)} // every point at the origin
	nanFace := Face{Points: make([]media.Point, NumPoints)}
	for i := range nanFace.Points {
		nanFace.Points[i] = media.Point{X: nan, Y: nan}
	}
	for name, face := range map[string]Face{"no points": {}, "collapsed": collapsed, "NaN points": nanFace} {
		if _, err := m.Eyes(img, face); err == nil {
			t.Errorf("Eyes, %s: no error", name)
		}
		if crop, _, err := Align(img, face, 128); err == nil {
			crop.Close()
			t.Errorf("Align, %s: no error", name)
		}
	}
	if _, err := m.Eyes(empty, f); !errors.Is(err, media.ErrBadImage) {
		t.Errorf("Eyes on an empty Mat: err %v", err)
	}
	for _, size := range []int{0, -1, 1 << 20} {
		if crop, _, err := Align(img, f, size); err == nil {
			crop.Close()
			t.Errorf("Align size %d: no error", size)
		}
	}
	if crop, _, err := Align(empty, f, 128); !errors.Is(err, media.ErrBadImage) {
		crop.Close()
		t.Errorf("Align on an empty Mat: err %v", err)
	}
	for name, patch := range map[string]gocv.Mat{"empty": empty, "zero": {}, "float": float} {
		if _, err := m.EyePatchOpenness(patch, false); !errors.Is(err, media.ErrBadImage) {
			t.Errorf("EyePatchOpenness, %s: err %v", name, err)
		}
	}
	if (Face{}).NextROI() != (media.ROI{}) {
		t.Error("NextROI of an empty face is not the zero ROI")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a model directory: no error")
	}
	if _, err := New(Options{ModelDir: t.TempDir()}); err == nil {
		t.Error("New with no models: no error")
	}
}

func TestClosedMesher(t *testing.T) {
	m := newTestMesher(t)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	img := gocv.NewMatWithSize(64, 64, gocv.MatTypeCV8UC3)
	defer img.Close()
	if _, err := m.Fit(img, media.ROI{Center: media.Point{X: 32, Y: 32}, Size: 64}); err == nil {
		t.Error("Fit after Close: no error")
	}
}
