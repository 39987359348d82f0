package skin

import (
	"context"
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/internal/fakes"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/blend"
)

func TestOriginalVersusSelfBlend(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	fake, err := blend.SelfBlend(img, lms, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	d := New(nil)
	orig := fakes.RunTrack(t, d, 7, 12, fakes.Noisy(img, lms))
	blend := fakes.RunTrack(t, d, 7, 12, fakes.Noisy(fake, lms))
	t.Logf("original: score %.3f conf %.2f %v", orig.Score, orig.Confidence, orig.Measurements)
	t.Logf("fake:     score %.3f conf %.2f %v", blend.Score, blend.Confidence, blend.Measurements)
	t.Logf("fake: %s", blend.Explanation)
	if orig.Score > 0.2 {
		t.Errorf("original scores %.3f, want ≤ 0.2", orig.Score)
	}
	if blend.Score < orig.Score+0.25 {
		t.Errorf("fake scores %.3f, original %.3f: want a margin of 0.25", blend.Score, orig.Score)
	}
	if orig.Confidence < 0.7 {
		t.Errorf("original confidence %.2f, want ≥ 0.7", orig.Confidence)
	}
	if len(blend.Evidence) == 0 || blend.Evidence[0].Region == nil {
		t.Errorf("fake has no located evidence: %+v", blend.Evidence)
	}
}

// tinted returns frames of img tinted per frame by a varying gain, on the
// face only or on the whole frame.
func tinted(img gocv.Mat, lms []media.Point, faceOnly bool) fakes.FrameFunc {
	return func(tb testing.TB, i int) (gocv.Mat, []media.Point) {
		tb.Helper()
		g := 0.06 * math.Sin(1.9*float64(i))
		noisy, err := fakes.AddNoise(img, 2, int64(i+1))
		if err != nil {
			tb.Fatal(err)
		}
		defer noisy.Close()
		out, err := blend.Tint(noisy, lms, [3]float64{1 - g, 1 + 0.3*g, 1 + g}, faceOnly)
		if err != nil {
			tb.Fatal(err)
		}
		return out, lms
	}
}

func TestFlickerFaceOnlyVersusGlobalLighting(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	d := New(nil)
	face := fakes.RunTrack(t, d, 7, 12, tinted(img, lms, true))
	global := fakes.RunTrack(t, d, 7, 12, tinted(img, lms, false))
	t.Logf("face-only flicker: score %.3f %v", face.Score, face.Measurements)
	t.Logf("global lighting:   score %.3f %v", global.Score, global.Measurements)
	fr, gr := face.Measurements["flicker_ratio"], global.Measurements["flicker_ratio"]
	if fr < flickerHi {
		t.Errorf("face-only flicker_ratio %.2f, want ≥ %.1f", fr, flickerHi)
	}
	if gr > flickerLo || fr < 4*gr {
		t.Errorf("global lighting flicker_ratio %.2f vs face-only %.2f: want ≤ %.1f and 4× apart", gr, fr, flickerLo)
	}
	if face.Score < global.Score+0.3 {
		t.Errorf("face-only flicker scores %.3f, global lighting %.3f: want a margin of 0.3", face.Score, global.Score)
	}
	var interval bool
	for _, e := range face.Evidence {
		interval = interval || e.Kind == "interval"
	}
	if !interval {
		t.Errorf("face-only flicker has no interval evidence: %+v", face.Evidence)
	}
}

func TestUnusableInput(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	off := make([]media.Point, len(lms))
	half := make([]media.Point, len(lms))
	for i, p := range lms {
		off[i] = p.Add(media.Point{X: 5000, Y: -5000})
		half[i] = p.Add(media.Point{X: 330, Y: 0}) // oval mostly right of the frame edge
	}
	nan := append([]media.Point(nil), lms...)
	nan[10] = media.Point{X: math.NaN(), Y: 1}
	tiny, tinyLms := fakes.Face(t, &fakes.FaceOptions{Face: fakes.Ellipse{Center: media.Point{X: 100, Y: 100}, RX: 12, RY: 16}})
	// A face cut by the bottom edge of the frame: most of the oval is in,
	// the neck is not.
	low, lowLms := fakes.Face(t, &fakes.FaceOptions{Height: 300, Face: fakes.Ellipse{Center: media.Point{X: 320, Y: 220}, RX: 80, RY: 105}})
	for name, tc := range map[string]struct {
		img     gocv.Mat
		lms     []media.Point
		maxConf float64
	}{
		"empty image":      {gocv.NewMat(), lms, 0},
		"grey image":       {gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8U), lms, 0},
		"nil landmarks":    {img.Clone(), nil, 0},
		"short landmarks":  {img.Clone(), lms[:100], 0},
		"NaN landmark":     {img.Clone(), nan, 0},
		"off image":        {img.Clone(), off, 0},
		"half off image":   {img.Clone(), half, 0},
		"tiny face":        {tiny.Clone(), tinyLms, 0},
		"face cut at edge": {low.Clone(), lowLms, 0.75},
	} {
		t.Run(name, func(t *testing.T) {
			frame := tc.img
			defer frame.Close()
			res := fakes.RunTrack(t, New(nil), 7, 6, func(testing.TB, int) (gocv.Mat, []media.Point) {
				return frame.Clone(), tc.lms
			})
			if res.Confidence > tc.maxConf {
				t.Errorf("confidence %.2f, want ≤ %.2f (%v)", res.Confidence, tc.maxConf, res.Measurements)
			}
			if tc.maxConf == 0 && res.Score != 0.5 {
				t.Errorf("score %.2f without usable frames, want 0.5", res.Score)
			}
		})
	}
}

func TestSamplingRate(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	td := New(&Options{Interval: 100 * time.Millisecond}).NewTrack(1)
	ctx := context.Background()
	// 2 s at 30 fps, analysed at most every 100 ms: 20 frames.
	for i := 0; i < 60; i++ {
		f := &detectors.FaceFrame{Frame: i, Time: time.Duration(i) * time.Second / 30, Image: img, Landmarks: lms}
		if err := td.Observe(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	res, err := td.Result(ctx, detectors.TrackInfo{FPS: 30, Frames: 60})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Measurements["frames_used"]; n != 20 {
		t.Errorf("frames_used %v, want 20", n)
	}
	// Unknown timestamps fall back to one frame in FrameStride.
	td = New(&Options{FrameStride: 4}).NewTrack(1)
	for i := 0; i < 20; i++ {
		if err := td.Observe(ctx, &detectors.FaceFrame{Frame: i, Image: img, Landmarks: lms}); err != nil {
			t.Fatal(err)
		}
	}
	res, _ = td.Result(ctx, detectors.TrackInfo{})
	if n := res.Measurements["frames_used"]; n != 5 {
		t.Errorf("frames_used %v without timestamps, want 5", n)
	}
}

func TestCancelledContext(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	td := New(nil).NewTrack(1)
	if err := td.Observe(ctx, &detectors.FaceFrame{Image: img, Landmarks: lms}); err == nil {
		t.Error("Observe with a cancelled context succeeded")
	}
}

func BenchmarkObserve720p(b *testing.B) {
	img, lms := fakes.Face(b, &fakes.FaceOptions{Width: 1280, Height: 720,
		Face: fakes.Ellipse{Center: media.Point{X: 640, Y: 320}, RX: 130, RY: 170}})
	td := New(nil).NewTrack(1)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// One second apart, so every frame is analysed.
		f := &detectors.FaceFrame{Frame: i, Time: time.Duration(i) * time.Second, Image: img, Landmarks: lms}
		if err := td.Observe(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
}

// A face pasted in a tone no skin has (here a strong yellow, outside the
// YCrCb skin box) is measured, not filtered out as "not skin", and scores
// high against its natural neck.
func TestUnnaturalFaceTone(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	yellow, err := blend.Tint(img, lms, [3]float64{0.35, 1.05, 1.1}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer yellow.Close()
	orig := fakes.RunTrack(t, New(nil), 1, 12, fakes.Noisy(img, lms))
	res := fakes.RunTrack(t, New(nil), 2, 12, fakes.Noisy(yellow, lms))
	t.Logf("original %.3f, yellow face: score %.3f conf %.2f %v", orig.Score, res.Score, res.Confidence, res.Measurements)
	if res.Measurements["frames_used"] < 10 || res.Confidence < 0.7 {
		t.Fatalf("the yellow face was not measured: conf %.2f %v", res.Confidence, res.Measurements)
	}
	if res.Score < 0.5 || res.Score < orig.Score+0.4 {
		t.Errorf("yellow face scores %.3f (original %.3f), want ≥ 0.5 and a margin of 0.4", res.Score, orig.Score)
	}
}
