package scan

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/detectors"
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
