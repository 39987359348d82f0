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
