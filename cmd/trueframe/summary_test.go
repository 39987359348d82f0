package main

import (
	"strings"
	"testing"

	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/detectors/scan"
)

// TestSummaryQualifiesAuthentic: a likely_authentic verdict is printed
// with what it does not rule out; the other verdicts are not.
func TestSummaryQualifiesAuthentic(t *testing.T) {
	for _, c := range []struct {
		verdict fusion.Verdict
		caveat  bool
	}{
		{fusion.LikelyAuthentic, true},
		{fusion.Suspicious, false},
		{fusion.LikelyManipulated, false},
		{fusion.Inconclusive, false},
	} {
		var b strings.Builder
		printSummary(&b, &scan.Report{File: "clip.mp4", SHA256: "ab", Verdict: c.verdict}, "")
		out := b.String()
		if got := strings.Contains(out, "not proof: lip-syncs and reenacted talking heads"); got != c.caveat {
			t.Errorf("%s: caveat printed %v, want %v:\n%s", c.verdict, got, c.caveat, out)
		}
	}
}
