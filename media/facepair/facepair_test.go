package facepair

import (
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media/face"
)

func TestOpen(t *testing.T) {
	testutil.InitORT(t)
	p, err := Open(filepath.Join(testutil.DepsDir(t), "models"), face.Options{MinFaceSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	if p.Detector == nil || p.Mesher == nil {
		t.Fatalf("pair %+v", p)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := Open(t.TempDir(), face.Options{}); err == nil {
		t.Error("opened from a directory without models")
	}
}
