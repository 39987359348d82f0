package scan

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
)

// nanDetector breaks every rule of the Result contract.
type nanDetector struct{}

func (nanDetector) Name() string                         { return "nan" }
func (nanDetector) NewTrack(int) detectors.TrackDetector { return nanTrack{} }

type nanTrack struct{}

func (nanTrack) Observe(context.Context, *detectors.FaceFrame) error { return nil }
func (nanTrack) Result(context.Context, detectors.TrackInfo) (detectors.Result, error) {
	return detectors.Result{Detector: "nan", Score: math.NaN(), Confidence: math.Inf(1),
		Measurements: map[string]float64{"bad": math.NaN(), "worse": math.Inf(-1), "fine": 1},
		Evidence:     []detectors.Evidence{{Kind: "interval", Start: math.NaN(), End: 1, Score: 7}}}, nil
}

// A detector that returns NaN and Inf must not break the report: JSON
// cannot carry NaN, and the fused score must stay a number.
func TestReportSurvivesBadDetectorOutput(t *testing.T) {
	a := newAnalyzer(t, Options{Detectors: []detectors.Detector{nanDetector{}}})
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg")
	rep, err := a.Analyze(t.Context(), clip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatalf("report does not encode: %v", err)
	}
	d := rep.Detectors["nan"]
	if d.Score != 0.5 || d.Confidence != 1 || d.Measurements["fine"] != 1 || len(d.Measurements) != 1 {
		t.Fatalf("not sanitised: %+v", d)
	}
	if math.IsNaN(rep.Score) {
		t.Fatal("fused score is NaN")
	}
}

func writeClip2(t *testing.T, path string, w, h, frames int, fps float64) {
	t.Helper()
	videofix.WriteSynthetic(t, path, videofix.Synthetic{FourCC: "MJPG", FPS: fps, Width: w, Height: h, Frames: frames,
		Background: gocv.NewScalar(40, 90, 60, 0), Draw: func(i int, img *gocv.Mat) {
			gocv.Rectangle(img, image.Rect((i*7)%w, h/3, (i*7)%w+40, h/3+40), color.RGBA{R: 220, G: 220, B: 30, A: 255}, -1)
		}})
}

// Without a face, or too short to judge, a video is inconclusive — never
// called authentic or manipulated.
func TestInconclusive(t *testing.T) {
	a := newAnalyzer(t, Options{})
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		frames int
		want   string
	}{
		"no face":   {75, "no face"},
		"too short": {10, "shorter than"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".avi")
			writeClip2(t, path, 320, 240, tc.frames, 25)
			rep, err := a.Analyze(t.Context(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != fusion.Inconclusive || !strings.Contains(rep.VerdictReason, tc.want) {
				t.Fatalf("verdict %s (%q), want inconclusive with %q", rep.Verdict, rep.VerdictReason, tc.want)
			}
			if rep.Video.Frames != tc.frames {
				t.Errorf("counted %d frames, wrote %d", rep.Video.Frames, tc.frames)
			}
			for _, p := range rep.Timeline {
				if p.Score != nil || p.Faces != 0 {
					t.Errorf("second %v has a score without a face", p.T)
				}
			}
		})
	}
}

var errObserve = errors.New("detector gave up")

// failingDetector fails on its fourth frame; its track analysers count
// how many were made and how many closed.
type failingDetector struct{ made, closed *atomic.Int32 }

func (failingDetector) Name() string { return "failing" }
func (d failingDetector) NewTrack(int) detectors.TrackDetector {
	d.made.Add(1)
	return &failingTrack{closed: d.closed}
}

type failingTrack struct {
	n      int
	closed *atomic.Int32
}

func (f *failingTrack) Close() error {
	f.closed.Add(1)
	return nil
}

func (f *failingTrack) Observe(context.Context, *detectors.FaceFrame) error {
	if f.n++; f.n > 3 {
		return errObserve
	}
	return nil
}
func (f *failingTrack) Result(context.Context, detectors.TrackInfo) (detectors.Result, error) {
	return detectors.Result{Detector: "failing"}, nil
}

// A failure or a cancel in the middle of the pipeline stops every stage and
// returns the cause; the Analyzer stays usable, leaks no goroutine and
// closes every track analyser that holds something to close.
func TestPipelineStopsCleanly(t *testing.T) {
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "portrait"), "d3.mp4")
	failing := failingDetector{made: new(atomic.Int32), closed: new(atomic.Int32)}
	a := newAnalyzer(t, Options{Detectors: []detectors.Detector{failing}})
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		if _, err := a.Analyze(t.Context(), clip, nil); !errors.Is(err, errObserve) {
			t.Fatalf("run %d: err = %v, want the detector's error", i, err)
		}
	}
	if made, closed := failing.made.Load(), failing.closed.Load(); made == 0 || closed != made {
		t.Errorf("failed analyses made %d track analysers and closed %d", made, closed)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := newAnalyzer(t, Options{})
	_, err := b.Analyze(ctx, clip, func(p float64) {
		if p > 0.2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel mid-run: err = %v", err)
	}
	// Finished goroutines take a moment to exit: wait for them, within
	// reason, rather than for a fixed time.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); after > before+2 && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before+2 {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}

// The alternative face detector drives the same pipeline.
func TestUltraFaceOption(t *testing.T) {
	a := newAnalyzer(t, Options{FaceModel: "ultraface"})
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "swiz3n.mpg")
	rep, err := a.Analyze(t.Context(), clip, nil)
	if err != nil {
		t.Fatal(err)
	}
	analysed := (rep.Video.Frames + rep.Video.AnalysedEvery - 1) / rep.Video.AnalysedEvery
	if rep.Models.FaceDetector != "ultraface" || len(rep.Faces) != 1 || rep.Faces[0].Frames < analysed*9/10 {
		t.Fatalf("detector %s, %d faces, first seen in %d of %d analysed frames", rep.Models.FaceDetector, len(rep.Faces), firstFrames(rep), analysed)
	}
}

func firstFrames(r *Report) int {
	if len(r.Faces) == 0 {
		return 0
	}
	return r.Faces[0].Frames
}
