package scan

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/models"
)

func TestSetProvenance(t *testing.T) {
	for _, c := range []struct {
		name  string
		check json.RawMessage
		want  []string
	}{
		{"faces differ: the alert leads", json.RawMessage(`{"status":"altered_original","alert":"FACES DIFFER"}`), []string{"FACES DIFFER", "low light"}},
		{"a copy: no alert", json.RawMessage(`{"status":"matches_original"}`), []string{"low light"}},
		{"unavailable", ProvenanceUnavailable("no ledger"), []string{"low light"}},
		{"not JSON", json.RawMessage(`{`), []string{"low light"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Report{Warnings: []string{"low light"}}
			r.SetProvenance(c.check)
			if !slices.Equal(r.Warnings, c.want) || string(r.Provenance) != string(c.check) {
				t.Errorf("warnings %q, provenance %s; want %q", r.Warnings, r.Provenance, c.want)
			}
		})
	}
	var u struct{ Status, Error string }
	if err := json.Unmarshal(ProvenanceUnavailable("no ledger"), &u); err != nil || u.Status != "unavailable" || u.Error != "no ledger" {
		t.Errorf("ProvenanceUnavailable = %+v, %v", u, err)
	}
}

// TestRefuseMarksDetectorsNotCounted: a detector the fusion gives no
// weight, or does not know, is listed as not counted, and its findings
// leave the score where it was; refusing with a fusion that weighs it
// takes it off the list.
func TestRefuseMarksDetectorsNotCounted(t *testing.T) {
	model := func(weights map[string]float64) *fusion.Fuser {
		m := &models.Fusion{Version: "t", ScoreClip: 0.02, Detectors: map[string]models.FusionDetector{},
			Verdict: models.VerdictRule{AuthenticBelow: 0.4, ManipulatedFrom: 0.7, MinEvidence: 0.1, MinFaceFrames: 1, MinDurationS: 1}}
		for name, w := range weights {
			m.Detectors[name] = models.FusionDetector{Weight: w}
		}
		f, err := fusion.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	rep := func() *Report {
		return &Report{DurationS: 10,
			Models: ModelInfo{Detectors: map[string]string{"blink": "1", "face_cnn": "2", "extra": "3"}},
			Faces: []Face{{Track: 1, Frames: 50, Detectors: []detectors.Result{
				{Detector: "blink", Score: 0.2, Confidence: 1},
				{Detector: "face_cnn", Score: 0.95, Confidence: 1},
				{Detector: "extra", Score: 0.9, Confidence: 1},
			}}}}
	}
	r := rep()
	Refuse(r, model(map[string]float64{"blink": 1, "face_cnn": 0}))
	if want := []string{"extra", "face_cnn"}; !slices.Equal(r.NotCounted, want) {
		t.Fatalf("not counted %q, want %q", r.NotCounted, want)
	}
	if r.Verdict != fusion.LikelyAuthentic {
		t.Errorf("verdict %s (score %.2f): uncounted findings moved the score", r.Verdict, r.Score)
	}
	r = rep()
	Refuse(r, model(map[string]float64{"blink": 1, "face_cnn": 1, "extra": 0.5}))
	if len(r.NotCounted) != 0 {
		t.Errorf("not counted %q with every detector weighed", r.NotCounted)
	}
	if r.Verdict == fusion.LikelyAuthentic {
		t.Errorf("verdict %s with face_cnn counted", r.Verdict)
	}
}
