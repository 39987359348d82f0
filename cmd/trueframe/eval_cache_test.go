package main

import (
	"encoding/json"
	"testing"

	"github.com/trueframe/trueframe/detectors/scan"
)

// TestEvalCacheKey: analyses made with different model files are kept
// apart even when the files' versions agree (two trainings in one minute
// with one seed share a version), the fusion never splits a cache, and
// the analysis pipeline's version is part of every key.
func TestEvalCacheKey(t *testing.T) {
	info := scan.ModelInfo{FaceDetector: "yunet", FusionVersion: "fusion-a",
		Detectors: map[string]string{"motion": "motion-20261206T1642-s1", "blink": "2026-12-06"}}
	otherFusion := info
	otherFusion.FusionVersion = "fusion-b"

	a := string(evalCacheKey(info, map[string]string{"motion": "aaaa"}))
	for name, c := range map[string]struct {
		key  string
		same bool
	}{
		"same model file":            {string(evalCacheKey(info, map[string]string{"motion": "aaaa"})), true},
		"another fusion":             {string(evalCacheKey(otherFusion, map[string]string{"motion": "aaaa"})), true},
		"another file, same version": {string(evalCacheKey(info, map[string]string{"motion": "bbbb"})), false},
		"the embedded model":         {string(evalCacheKey(info, nil)), false},
	} {
		if (c.key == a) != c.same {
			t.Errorf("%s: key %s, against %s: same=%v, want %v", name, c.key, a, c.key == a, c.same)
		}
	}
	if got, want := string(evalCacheKey(otherFusion, nil)), string(evalCacheKey(info, nil)); got != want {
		t.Errorf("without --model files the fusion splits the key: %s, %s", got, want)
	}
	var k struct{ Pipeline string }
	if err := json.Unmarshal(evalCacheKey(info, nil), &k); err != nil || k.Pipeline != analysisPipeline {
		t.Errorf("the key names pipeline %q (%v), want %q", k.Pipeline, err, analysisPipeline)
	}
}
