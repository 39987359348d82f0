package scan

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/meso4"
	"github.com/trueframe/trueframe/internal/testutil"
)

// TestKnownDetectorsBuild builds every detector scan knows with the
// embedded models and the installed ones, and checks each says which
// version it is.
func TestKnownDetectorsBuild(t *testing.T) {
	testutil.InitORT(t)
	models := filepath.Join(testutil.DepsDir(t), "models")
	for _, name := range KnownDetectors() {
		d, err := newDetector(name, models, nil)
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
	if _, err := newDetector("no_such", models, nil); !errors.Is(err, ErrUnknownDetector) {
		t.Fatalf("unknown detector: %v", err)
	}
	if _, err := newDetector("face_cnn", models, map[string]string{"face_cnn": filepath.Join(t.TempDir(), "missing.json")}); err == nil {
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
