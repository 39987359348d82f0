package edges

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/internal/fakes"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/blend"
)

// dump writes an artifact to $EDGES_DUMP, for looking at.
func dump(t *testing.T, res detectors.Result) {
	if dir := os.Getenv("EDGES_DUMP"); dir != "" {
		for name, b := range res.Artifacts {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestOriginalVersusSelfBlend(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	d := New(nil)
	orig := fakes.RunTrack(t, d, 1, 10, fakes.Noisy(img, lms))
	t.Logf("original: score %.3f conf %.2f %v", orig.Score, orig.Confidence, orig.Measurements)
	if orig.Score > 0.2 {
		t.Errorf("original scores %.3f, want ≤ 0.2", orig.Score)
	}
	if orig.Confidence < 0.7 {
		t.Errorf("original confidence %.2f, want ≥ 0.7", orig.Confidence)
	}
	dump(t, orig)
	for name, opts := range map[string]*blend.Options{
		"default":      nil,
		"hard mask":    {HueShift: 3, Gain: [3]float64{0.95, 1, 1.05}, Resample: 0.5, Shrink: 0.93},
		"resample 0.4": {Resample: 0.4, Shrink: 0.95, Feather: 2},
	} {
		t.Run(name, func(t *testing.T) {
			fake, err := blend.SelfBlend(img, lms, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			res := fakes.RunTrack(t, d, 2, 10, fakes.Noisy(fake, lms))
			t.Logf("fake: score %.3f conf %.2f %v", res.Score, res.Confidence, res.Measurements)
			if res.Score < orig.Score+0.25 {
				t.Errorf("fake scores %.3f, original %.3f: want a margin of 0.25", res.Score, orig.Score)
			}
			dump(t, res)
		})
	}
}

func TestHeatmapArtifact(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	fake, err := blend.SelfBlend(img, lms, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	res := fakes.RunTrack(t, New(nil), 3, 5, fakes.Noisy(fake, lms))
	const name = "edges_heatmap_track3.png"
	b, ok := res.Artifacts[name]
	if !ok {
		t.Fatalf("no artifact %q in %v", name, res.Artifacts)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("artifact is not a PNG: %v", err)
	}
	// The crop is 1.6× the 160×210 face oval, clipped to the frame.
	if cfg.Width < 200 || cfg.Width > 300 || cfg.Height < 280 || cfg.Height > 400 {
		t.Errorf("heatmap is %dx%d, want about 256x336", cfg.Width, cfg.Height)
	}
	var found bool
	for _, e := range res.Evidence {
		if e.Image == name {
			found = true
			if e.Region == nil || e.Region.Area() == 0 || e.Kind != "frame" || e.Score <= 0 {
				t.Errorf("heatmap evidence incomplete: %+v", e)
			}
		}
	}
	if !found {
		t.Errorf("no evidence refers to %s: %+v", name, res.Evidence)
	}
}

func TestUnusableInput(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	off := make([]media.Point, len(lms))
	half := make([]media.Point, len(lms))
	for i, p := range lms {
		off[i] = p.Add(media.Point{X: -5000, Y: 5000})
		half[i] = p.Add(media.Point{X: 0, Y: 250}) // oval mostly below the frame
	}
	nan := append([]media.Point(nil), lms...)
	nan[152] = media.Point{X: 1, Y: math.Inf(1)}
	tiny, tinyLms := fakes.Face(t, &fakes.FaceOptions{Face: fakes.Ellipse{Center: media.Point{X: 100, Y: 100}, RX: 15, RY: 20}})
	// The face crosses the left edge: 70% of its oval is in the frame.
	edge, edgeLms := fakes.Face(t, &fakes.FaceOptions{Face: fakes.Ellipse{Center: media.Point{X: 32, Y: 220}, RX: 80, RY: 105}})
	for name, tc := range map[string]struct {
		img     gocv.Mat
		lms     []media.Point
		maxConf float64
	}{
		"empty image":      {gocv.NewMat(), lms, 0},
		"grey image":       {gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8U), lms, 0},
		"1x1 image":        {gocv.NewMatWithSize(1, 1, gocv.MatTypeCV8UC3), lms, 0},
		"nil landmarks":    {img.Clone(), nil, 0},
		"Inf landmark":     {img.Clone(), nan, 0},
		"off image":        {img.Clone(), off, 0},
		"half off image":   {img.Clone(), half, 0},
		"tiny face":        {tiny.Clone(), tinyLms, 0},
		"face cut at edge": {edge.Clone(), edgeLms, 0.75},
	} {
		t.Run(name, func(t *testing.T) {
			frame := tc.img
			defer frame.Close()
			res := fakes.RunTrack(t, New(nil), 1, 6, func(testing.TB, int) (gocv.Mat, []media.Point) {
				return frame.Clone(), tc.lms
			})
			if res.Confidence > tc.maxConf {
				t.Errorf("confidence %.2f, want ≤ %.2f (%v)", res.Confidence, tc.maxConf, res.Measurements)
			}
			if tc.maxConf == 0 && (res.Score != 0.5 || len(res.Artifacts) != 0) {
				t.Errorf("score %.2f and %d artifacts without usable frames, want 0.5 and none", res.Score, len(res.Artifacts))
			}
		})
	}
}

func TestSampling(t *testing.T) {
	img, lms := fakes.Face(t, nil)
	td := New(nil).NewTrack(1)
	ctx := context.Background()
	// 3 s at 25 fps, analysed at most every 200 ms: 15 frames.
	for i := 0; i < 75; i++ {
		f := &detectors.FaceFrame{Frame: i, Time: time.Duration(i) * 40 * time.Millisecond, Image: img, Landmarks: lms}
		if err := td.Observe(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	res, err := td.Result(ctx, detectors.TrackInfo{FPS: 25, Frames: 75})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Measurements["frames_used"]; n != 15 {
		t.Errorf("frames_used %v, want 15", n)
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := td.Observe(ctx, &detectors.FaceFrame{Frame: 100, Time: 10 * time.Second, Image: img, Landmarks: lms}); err == nil {
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
