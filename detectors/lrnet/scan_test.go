package lrnet_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/detectors/lrnet"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/testutil"
)

// A scan asked for lrnet scores a real clip's face block by block and
// names the weights it used.
func TestScanRunsLRNet(t *testing.T) {
	testutil.InitORT(t)
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "portrait"), "d0.mp4")
	a, err := scan.New(scan.Options{ModelDir: filepath.Join(testutil.DepsDir(t), "models"), DetectorNames: []string{lrnet.Name}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rep, err := a.Analyze(context.Background(), clip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Models.Detectors[lrnet.Name] == "" {
		t.Errorf("report names no lrnet version: %v", rep.Models.Detectors)
	}
	found := false
	for _, f := range rep.Faces {
		for _, r := range f.Detectors {
			if r.Detector != lrnet.Name {
				continue
			}
			found = true
			blocks := r.Measurements["blocks"]
			if blocks < 1 || r.Score <= 0 || r.Score >= 1 || r.Confidence <= 0 || r.Explanation == "" || len(r.Evidence) != int(blocks) {
				t.Errorf("track %d: %d frames, %v blocks, score %.3f, confidence %.2f, %d evidence items: %q",
					f.Track, f.Frames, blocks, r.Score, r.Confidence, len(r.Evidence), r.Explanation)
			}
		}
	}
	if !found {
		t.Fatal("no lrnet result")
	}
}
