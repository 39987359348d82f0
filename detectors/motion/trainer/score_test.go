package trainer

import (
	"math"
	"slices"
	"testing"
)

func TestSummarize(t *testing.T) {
	scored := []Scored{
		{Source: "a", Method: "lipsync", Fake: true, Score: 0.9},
		{Source: "b", Method: "lipsync", Fake: true, Score: 0.3},
		{Source: "c", Method: "reenact", Fake: true, Score: 0.85},
		{Source: "r1", Method: "real", Score: 0.2},
		{Source: "r2", Method: "real", Score: 0.95},
		{Source: "r3", Method: "real", Score: 0.1},
		{Source: "r4", Method: "real", Score: 0.8},
	}
	f := Summarize(scored, 0.8)
	// Fakes 0.9, 0.3, 0.85 against reals 0.2, 0.95, 0.1, 0.8: 0.9 beats
	// three, 0.3 two, 0.85 three, of 12 pairs.
	if f.Fakes != 3 || f.Reals != 4 || math.Abs(float64(f.AUC)-8.0/12) > 1e-12 {
		t.Errorf("fakes %d, reals %d, AUC %v; want 3, 4, 0.667", f.Fakes, f.Reals, f.AUC)
	}
	if math.Abs(float64(f.Methods["lipsync"])-5.0/8) > 1e-12 || math.Abs(float64(f.Methods["reenact"])-3.0/4) > 1e-12 || len(f.Methods) != 2 {
		t.Errorf("methods %v, want lipsync 0.625, reenact 0.75", f.Methods)
	}
	// At least High counts: a real at exactly 0.8 is high.
	if f.FakesHigh != 2 || f.RealsHigh != 2 || !slices.Equal(f.RealsAbove, []string{"r2", "r4"}) {
		t.Errorf("high: fakes %d, reals %d %v; want 2, 2 [r2 r4]", f.FakesHigh, f.RealsHigh, f.RealsAbove)
	}
	if !(f.AUCCI95.Lo <= f.AUC && f.AUC <= f.AUCCI95.Hi) {
		t.Errorf("interval %v does not hold the AUC %v", f.AUCCI95, f.AUC)
	}
	if e := Summarize(scored[3:], 0.8); !math.IsNaN(float64(e.AUC)) || e.Fakes != 0 {
		t.Errorf("no fakes: AUC %v, fakes %d", e.AUC, e.Fakes)
	}
}
