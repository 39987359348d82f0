package main

import (
	"strings"
	"testing"

	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/detectors/scan"
)

// TestSummaryQualifiesVerdicts: a likely_authentic verdict is printed
// with what it does not rule out, a likely_manipulated one with what it
// does not prove; suspicious and inconclusive, which claim neither, with
// neither.
func TestSummaryQualifiesVerdicts(t *testing.T) {
	const authentic, manipulated = "not proof: lip-syncs and reenacted talking heads", "not proof: real footage unlike what they learned from"
	for _, c := range []struct {
		verdict fusion.Verdict
		caveat  string
	}{
		{fusion.LikelyAuthentic, authentic},
		{fusion.Suspicious, ""},
		{fusion.LikelyManipulated, manipulated},
		{fusion.Inconclusive, ""},
	} {
		var b strings.Builder
		printSummary(&b, &scan.Report{File: "clip.mp4", SHA256: "ab", Verdict: c.verdict}, "")
		out := b.String()
		for _, caveat := range []string{authentic, manipulated} {
			if got, want := strings.Contains(out, caveat), caveat == c.caveat; got != want {
				t.Errorf("%s: %q printed %v, want %v:\n%s", c.verdict, caveat, got, want, out)
			}
		}
	}
}

// TestSummaryMarksDetectorsNotCounted: a detector the fusion ignores is
// marked as such in the detector list, and only that one.
func TestSummaryMarksDetectorsNotCounted(t *testing.T) {
	r := &scan.Report{File: "clip.mp4", SHA256: "ab", Verdict: fusion.Suspicious, NotCounted: []string{"face_cnn"},
		Detectors: map[string]scan.DetectorSummary{"face_cnn": {Score: 0.9, Explanation: "seams"}, "motion": {Score: 0.8, Explanation: "moves"}}}
	var b strings.Builder
	printSummary(&b, r, "")
	const mark = "not counted in the score"
	for _, line := range strings.Split(b.String(), "\n") {
		switch {
		case strings.Contains(line, "face_cnn") && !strings.Contains(line, mark):
			t.Errorf("face_cnn not marked: %q", line)
		case strings.Contains(line, "motion") && strings.Contains(line, mark):
			t.Errorf("motion marked: %q", line)
		}
	}
	if !strings.Contains(b.String(), mark) {
		t.Errorf("no mark in:\n%s", b.String())
	}
}
