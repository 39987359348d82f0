package eval

import (
	"math"
	"reflect"
	"testing"
)

func TestRegressions(t *testing.T) {
	nan := Figure(math.NaN())
	sum := func(all Figure, methods map[string]Figure) Summary {
		s := Summary{AUC: all, Methods: []MethodFigures{{Method: "real-x", Label: Real, AUC: nan}}}
		for m, a := range methods {
			s.Methods = append(s.Methods, MethodFigures{Method: m, Label: Fake, AUC: a})
		}
		return s
	}
	cases := []struct {
		name          string
		parent, child Summary
		want          []string
	}{
		{"equal", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.8, map[string]Figure{"a": 0.7}), nil},
		{"better", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.9, map[string]Figure{"a": 0.95}), nil},
		{"within tolerance", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.79, map[string]Figure{"a": 0.685}), nil},
		{"one method worse", sum(0.8, map[string]Figure{"a": 0.7, "b": 0.9}), sum(0.85, map[string]Figure{"a": 0.9, "b": 0.8}), []string{"b"}},
		{"overall worse", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.7, map[string]Figure{"a": 0.7}), []string{"all"}},
		{"child lost a method", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.8, map[string]Figure{"a": nan}), []string{"a"}},
		{"method missing in child", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.8, nil), []string{"a"}},
		{"parent could not measure", sum(nan, map[string]Figure{"a": nan}), sum(0.5, map[string]Figure{"a": 0.5}), nil},
	}
	for _, c := range cases {
		var got []string
		for _, r := range Regressions(c.parent, c.child, 0.02) {
			got = append(got, r.Method)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: regressions %v, want %v", c.name, got, c.want)
		}
	}
}

// TestAloneTellsApartWhatTheFusionIgnores scores the same clips twice with
// the same fused scores, as a fusion that gives a detector no weight does,
// once with a detector that ranks them right and once with its inverted
// copy: the fused figures cannot tell the two apart, the detector's own can.
func TestAloneTellsApartWhatTheFusionIgnores(t *testing.T) {
	clips := func(inverted bool) []Scored {
		var out []Scored
		for i, c := range []struct {
			label, method string
			fused, det    float64
		}{
			{Real, "real", 0.2, 0.1}, {Real, "real", 0.3, 0.2}, {Real, "real", 0.6, 0.3},
			{Fake, "swap", 0.7, 0.8}, {Fake, "swap", 0.4, 0.9}, {Fake, "lipsync", 0.8, 0.7},
		} {
			det := c.det
			if inverted {
				det = 1 - det
			}
			out = append(out, Scored{Clip: Clip{Path: string(rune('a' + i)), Label: c.label, Method: c.method},
				Score: c.fused, Detectors: map[string]float64{"face_cnn": det, "motion": c.fused}})
		}
		return out
	}
	th := Thresholds{Suspicious: 0.4, LikelyManipulated: 0.7}
	parent, child := Summarize(clips(false), th), Summarize(clips(true), th)
	if r := Regressions(parent, child, 0.02); len(r) != 0 {
		t.Fatalf("fused figures differ: %+v", r)
	}
	pa, ok1 := parent.Alone("face_cnn")
	ca, ok2 := child.Alone("face_cnn")
	if !ok1 || !ok2 {
		t.Fatal("no face_cnn figures")
	}
	if pa.AUC != 1 || ca.AUC != 0 || len(pa.Methods) != 2 {
		t.Errorf("alone: parent AUC %v, child %v, methods %+v; want 1, 0 and the two fake methods", pa.AUC, ca.AUC, pa.Methods)
	}
	var got []string
	for _, r := range Regressions(pa, ca, 0.02) {
		got = append(got, r.Method)
	}
	if want := []string{"all", "lipsync", "swap"}; !reflect.DeepEqual(got, want) {
		t.Errorf("regressions alone %v, want %v", got, want)
	}
	if _, ok := parent.Alone("edges"); ok {
		t.Error("figures of a detector that gave no score")
	}
}

// TestCompare sets two hand-scored evaluations side by side: the candidate
// ranks the lip-syncs above every real clip where the baseline ranked them
// below, adds a method of its own and lacks one clip of the baseline.
func TestCompare(t *testing.T) {
	type clip struct {
		path, label, method string
		score               float64
	}
	scored := func(cs []clip) []Scored {
		var out []Scored
		for _, c := range cs {
			out = append(out, Scored{Clip: Clip{Path: c.path, Label: c.label, Method: c.method}, Score: c.score})
		}
		return out
	}
	th := Thresholds{Suspicious: 0.5, LikelyManipulated: 0.8}
	base := Summarize(scored([]clip{
		{"r1", Real, "real", 0.3}, {"r2", Real, "real", 0.6}, {"r3", Real, "real", 0.85},
		{"s1", Fake, "roop-inswapper", 0.9}, {"s2", Fake, "roop-inswapper", 0.7},
		{"l1", Fake, "Wav2Lip", 0.1}, {"l2", Fake, "Wav2Lip", 0.2},
		{"gone", Fake, "FOMM", 0.95},
	}), th)
	cand := Summarize(scored([]clip{
		{"r1", Real, "real", 0.3}, {"r2", Real, "real", 0.6}, {"r3", Real, "real", 0.7},
		{"s1", Fake, "roop-inswapper", 0.9}, {"s2", Fake, "roop-inswapper", 0.7},
		{"l1", Fake, "Wav2Lip", 0.95}, {"l2", Fake, "Wav2Lip", 0.9},
		{"new", Fake, "HyperLips", 0.4},
	}), th)
	c := Compare(base, cand)

	got := map[string][2]Figure{}
	for _, ch := range c.Changes {
		got[ch.Scope+"/"+ch.Name] = [2]Figure{ch.Base, ch.New}
	}
	approx := func(a, b Figure) bool {
		return math.IsNaN(float64(a)) && math.IsNaN(float64(b)) || math.Abs(float64(a-b)) < 1e-9
	}
	nan := Figure(math.NaN())
	for name, want := range map[string][2]Figure{
		"method/Wav2Lip":        {0, 1},             // below every real, then above
		"method/roop-inswapper": {5.0 / 6, 5.5 / 6}, // s2 now ties r3 instead of trailing it
		"method/FOMM":           {1, nan},           // only the baseline has it
		"method/HyperLips":      {nan, 1.0 / 3},     // only the candidate
	} {
		if g, ok := got[name]; !ok || !approx(g[0], want[0]) || !approx(g[1], want[1]) {
			t.Errorf("%s: base → new %v, want %v", name, g, want)
		}
	}
	if g := got["kind/lip_sync"]; g[0] != 0 || !(g[1] > 0.7) {
		t.Errorf("lip-sync kind %v: want 0 → the candidate's pooled figure", g)
	}
	if g := got["all/all"]; !(g[1] > g[0]) {
		t.Errorf("overall %v: the candidate ranks better", g)
	}
	if want := (Calls{RealsSuspicious: 2, RealsManipulated: 1, FakesManipulated: 2}); c.Base != want {
		t.Errorf("baseline calls %+v, want %+v", c.Base, want)
	}
	if want := (Calls{RealsSuspicious: 2, RealsManipulated: 0, FakesManipulated: 3}); c.New != want {
		t.Errorf("candidate calls %+v, want %+v", c.New, want)
	}
	if c.OnlyBase != 1 || c.OnlyNew != 1 {
		t.Errorf("clips only in one: %d, %d; want 1, 1", c.OnlyBase, c.OnlyNew)
	}
}
