package scan

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/meso4"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
)

// TestKnownDetectorsBuild builds every detector scan knows with the
// embedded models and the installed ones, and checks each says which
// version it is.
func TestKnownDetectorsBuild(t *testing.T) {
	testutil.InitORT(t)
	models := filepath.Join(testutil.DepsDir(t), "models")
	for _, name := range KnownDetectors() {
		d, err := NewDetector(name, models, nil)
		if optionalDetector(name) && errors.Is(err, os.ErrNotExist) {
			t.Logf("%s: model not installed (optional): %v", name, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.Name() != name {
			t.Errorf("%s builds a detector called %s", name, d.Name())
		}
		if v, ok := d.(detectors.Versioned); !ok || v.Version() == "" {
			t.Errorf("%s: no version", name)
		}
		if c, ok := d.(io.Closer); ok {
			if err := c.Close(); err != nil {
				t.Errorf("%s: close: %v", name, err)
			}
		}
	}
	if _, err := NewDetector("no_such", models, nil); !errors.Is(err, ErrUnknownDetector) {
		t.Fatalf("unknown detector: %v", err)
	}
	if _, err := NewDetector("face_cnn", models, map[string]string{"face_cnn": filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Fatal("a missing model card was accepted")
	}
	a := newAnalyzer(t, Options{})
	info := a.Models()
	for _, name := range DefaultDetectors() {
		if info.Detectors[name] == "" {
			t.Errorf("report models name no version for %s: %v", name, info.Detectors)
		}
	}
}

// TestMesoWeightSets runs both of Meso4's weight sets on a shared clip: each
// reports under its own name and version with a probability from the
// frames it scored, and the two disagree — the F2F detector really loads
// the reenactment weights, not the face-swap ones again.
func TestMesoWeightSets(t *testing.T) {
	// Optional for a user, but scripts/setup installs both from ../shared,
	// which tests require.
	testutil.ModelPath(t, meso4.DF.File)
	testutil.ModelPath(t, meso4.F2F.File)
	a := newAnalyzer(t, Options{DetectorNames: []string{meso4.DF.Name, meso4.F2F.Name}})
	rep, err := a.Analyze(context.Background(), testutil.SharedDir(t, goldenClips[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	df, f2f := rep.Detectors[meso4.DF.Name], rep.Detectors[meso4.F2F.Name]
	for name, d := range map[string]DetectorSummary{meso4.DF.Name: df, meso4.F2F.Name: f2f} {
		if !(d.Score > 0 && d.Score < 1) || d.Measurements["frames_scored"] < 3 {
			t.Fatalf("%s: %+v", name, d)
		}
	}
	if math.Abs(df.Score-f2f.Score) < 1e-3 {
		t.Fatalf("both weight sets gave %.4f: the same model twice?", df.Score)
	}
	if v := rep.Models.Detectors; v[meso4.DF.Name] != meso4.DF.Version || v[meso4.F2F.Name] != meso4.F2F.Version {
		t.Fatalf("report names versions %v", v)
	}
}

// TestMesoDiscountsUpscaledFaces scores the real portrait clip d3 (a face
// about 280 px wide) as it is and at a quarter of its size: Meso4 measures
// the small copy's face as scaled up four times as much to reach its
// 256-px input, past the upscale at which it stops being trusted, and
// reports a lower confidence for it and why; the full-size face keeps the
// confidence its frame count gives.
func TestMesoDiscountsUpscaledFaces(t *testing.T) {
	testutil.ModelPath(t, meso4.DF.File)
	full := testutil.SharedDir(t, goldenClips[0])
	small := filepath.Join(t.TempDir(), "d3-quarter.mp4")
	videofix.FFmpeg(t, full, small, "-t", "6", "-vf", "scale=iw/4:ih/4", "-c:v", "libx264", "-crf", "18")
	a := newAnalyzer(t, Options{DetectorNames: []string{meso4.DF.Name}})
	summary := func(path string) DetectorSummary {
		t.Helper()
		rep, err := a.Analyze(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, ok := rep.Detectors[meso4.DF.Name]
		if !ok || d.Measurements["frames_scored"] < 3 {
			t.Fatalf("%s: meso4 scored too few frames: %+v", path, d)
		}
		return d
	}
	big, quarter := summary(full), summary(small)
	t.Logf("full size: upscale %.2f, trust %.2f, confidence %.2f; quarter size: upscale %.2f, trust %.2f, confidence %.2f",
		big.Measurements["upscale"], big.Measurements["resolution_trust"], big.Confidence,
		quarter.Measurements["upscale"], quarter.Measurements["resolution_trust"], quarter.Confidence)
	if big.Measurements["upscale"] >= 2 || big.Measurements["resolution_trust"] != 1 || big.Confidence != 1 {
		t.Errorf("full-size face: %+v, want upscale under 2 at full trust and confidence", big)
	}
	if r := quarter.Measurements["upscale"] / big.Measurements["upscale"]; math.Abs(r-4) > 0.4 {
		t.Errorf("quarter-size face scaled up %.2f× as much as the full-size one, want about 4", r)
	}
	if quarter.Measurements["resolution_trust"] >= 1 || quarter.Confidence >= big.Confidence ||
		!strings.Contains(quarter.Explanation, "scaled up") {
		t.Errorf("quarter-size face kept its weight: %+v", quarter)
	}
}
