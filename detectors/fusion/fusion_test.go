package fusion

import (
	"math"
	"testing"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/models"
)

func testModel() *models.Fusion {
	return &models.Fusion{
		Version: "test", ScoreClip: 0.02,
		Detectors: map[string]models.FusionDetector{"a": {Weight: 1}, "b": {Weight: 2}},
		Verdict:   models.VerdictRule{AuthenticBelow: 0.4, ManipulatedFrom: 0.7, MinEvidence: 0.2, MinFaceFrames: 5, MinDurationS: 1},
	}
}

func TestFace(t *testing.T) {
	f, err := New(testModel())
	if err != nil {
		t.Fatal(err)
	}
	res := func(name string, s, c float64) detectors.Result {
		return detectors.Result{Detector: name, Score: s, Confidence: c}
	}
	for name, tc := range map[string]struct {
		results []detectors.Result
		frames  int
		want    Verdict
		lo, hi  float64
	}{
		"both low":                     {[]detectors.Result{res("a", 0.1, 1), res("b", 0.2, 1)}, 100, LikelyAuthentic, 0.1, 0.2},
		"heavier detector":             {[]detectors.Result{res("a", 0.2, 1), res("b", 0.9, 1)}, 100, LikelyManipulated, 0.7, 0.76},
		"agreement not multiplied":     {[]detectors.Result{res("a", 0.8, 1), res("b", 0.8, 1)}, 100, LikelyManipulated, 0.799, 0.801},
		"thin evidence stays near 0.5": {[]detectors.Result{res("a", 0.9, 0.3)}, 100, Suspicious, 0.6, 0.7},
		"unsure is ignored":            {[]detectors.Result{res("a", 0.1, 1), res("b", 0.99, 0)}, 100, LikelyAuthentic, 0, 0.4},
		"no opinion":                   {[]detectors.Result{res("a", 0.5, 1), res("b", 0.5, 1)}, 100, Suspicious, 0.5, 0.5},
		"unknown detector":             {[]detectors.Result{res("zzz", 1, 1), res("a", 0.1, 1)}, 100, LikelyAuthentic, 0, 0.4},
		"too few frames":               {[]detectors.Result{res("a", 0.9, 1)}, 3, Inconclusive, 0.9, 1},
		"too little evidence":          {[]detectors.Result{res("a", 0.9, 0.1)}, 100, Inconclusive, 0.5, 0.7},
		"NaN confidence":               {[]detectors.Result{res("a", 0.9, math.NaN()), res("b", 0.1, 1)}, 100, LikelyAuthentic, 0, 0.4},
	} {
		t.Run(name, func(t *testing.T) {
			got := f.Face(tc.results, tc.frames)
			if got.Verdict != tc.want || got.Score < tc.lo-1e-9 || got.Score > tc.hi+1e-9 {
				t.Fatalf("got %.3f %s (%s), want %s in [%v,%v]", got.Score, got.Verdict, got.Reason, tc.want, tc.lo, tc.hi)
			}
		})
	}
}

func TestVideoIsMostSuspiciousConclusiveFace(t *testing.T) {
	f, _ := New(testModel())
	faces := []FaceScore{
		{Score: 0.2, Verdict: LikelyAuthentic},
		{Score: 0.95, Verdict: Inconclusive},
		{Score: 0.8, Verdict: LikelyManipulated},
	}
	if s, v, _ := f.Video(faces, 10); s != 0.8 || v != LikelyManipulated {
		t.Fatalf("got %v %v", s, v)
	}
	if _, v, reason := f.Video(nil, 10); v != Inconclusive || reason == "" {
		t.Fatalf("no faces: %v %q", v, reason)
	}
	if _, v, _ := f.Video(faces, 0.5); v != Inconclusive {
		t.Fatalf("short video: %v", v)
	}
}

func TestScoreAtOverride(t *testing.T) {
	f, _ := New(testModel())
	rs := []detectors.Result{{Detector: "a", Score: 0.2, Confidence: 1}, {Detector: "b", Score: 0.2, Confidence: 1}}
	base := f.ScoreAt(rs, nil)
	up := f.ScoreAt(rs, map[string]float64{"b": 0.95})
	if !(up > base+0.5) {
		t.Fatalf("override did not raise the score: %v -> %v", base, up)
	}
}
