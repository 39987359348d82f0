package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/detectors/scan"
)

// authenticCaveat qualifies a likely_authentic verdict: on fakes made by
// tools the models never saw, lip-syncs and reenacted talking heads are
// the kinds most often missed (README, "Where detection stands"), and a
// newsroom reading "likely authentic" as a clearance is the costly mistake.
const authenticCaveat = "no trace of manipulation found, which is not proof: lip-syncs and reenacted talking heads made by tools this service was not trained on are often missed"

// manipulatedCaveat qualifies a likely_manipulated verdict: real footage
// unlike the clips the models learned from is called manipulated too (of
// 36 real news, talk-show, interview and phone clips no model learned
// from, 4; README, "Real footage from the wild is flagged too"), mostly
// for how the face moves, and an accusation made on the verdict alone is
// the other costly mistake.
const manipulatedCaveat = "a finding of the detectors, not proof: real footage unlike what they learned from (news, talk shows, phone video) is sometimes called manipulated; check the flagged seconds and the provenance before acting on it"

// printSummary writes the human-readable form of a report.
func printSummary(w io.Writer, r *scan.Report, evidenceDir string) {
	short := r.SHA256
	if len(short) > 16 {
		short = short[:16] + "…"
	}
	fmt.Fprintf(w, "%s\n", r.File)
	fmt.Fprintf(w, "  sha256 %s   %.1f s   %dx%d @ %.4g fps   %d frames\n", short, r.DurationS, r.Video.Width, r.Video.Height, r.Video.FPS, r.Video.Frames)
	// Faces that differ from a registered original lead the summary,
	// whatever the detectors scored.
	var alert struct{ Alert string }
	if len(r.Provenance) > 0 && json.Unmarshal(r.Provenance, &alert) == nil && alert.Alert != "" {
		fmt.Fprintf(w, "  !!! %s\n", alert.Alert)
	}
	fmt.Fprintf(w, "  score %.2f   %s", r.Score, strings.ToUpper(strings.ReplaceAll(string(r.Verdict), "_", " ")))
	if r.VerdictReason != "" {
		fmt.Fprintf(w, " (%s)", r.VerdictReason)
	}
	fmt.Fprintln(w)
	switch r.Verdict {
	case fusion.LikelyAuthentic:
		fmt.Fprintf(w, "  %s\n", authenticCaveat)
	case fusion.LikelyManipulated:
		fmt.Fprintf(w, "  %s\n", manipulatedCaveat)
	}
	for _, warn := range r.Warnings {
		if alert.Alert != "" && warn == alert.Alert {
			continue // printed above
		}
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if len(r.Provenance) > 0 {
		var p struct{ Status, Explanation, Error string }
		if json.Unmarshal(r.Provenance, &p) == nil {
			fmt.Fprintf(w, "  provenance: %s", strings.ToUpper(strings.ReplaceAll(p.Status, "_", " ")))
			if why := p.Explanation + p.Error; why != "" {
				fmt.Fprintf(w, " (%s)", why)
			}
			fmt.Fprintln(w)
		}
	}
	if len(r.Detectors) > 0 {
		track := 0
		names := make([]string, 0, len(r.Detectors))
		for name, d := range r.Detectors {
			names = append(names, name)
			track = d.Track
		}
		sort.Strings(names)
		fmt.Fprintf(w, "  detectors (face #%d):\n", track)
		for _, name := range names {
			d := r.Detectors[name]
			fmt.Fprintf(w, "    %-10s score %.2f  confidence %.2f  %s%s\n", name, d.Score, d.Confidence, d.Explanation, notCountedNote(r, name))
		}
	}
	if len(r.Faces) > 0 {
		fmt.Fprintf(w, "  faces:\n")
		for _, f := range r.Faces {
			fmt.Fprintf(w, "    #%-3d %5.1f–%-5.1f s  %4d frames  %3.0fpx wide   score %.2f %s", f.Track, f.StartS, f.EndS, f.Frames, f.Box.W, f.Score, f.Verdict)
			if f.Reason != "" {
				fmt.Fprintf(w, " (%s)", f.Reason)
			}
			fmt.Fprintln(w)
		}
	}
	if len(r.Timeline) > 0 {
		var b strings.Builder
		bars := []rune("▁▂▃▄▅▆▇█")
		for _, p := range r.Timeline {
			if p.Score == nil {
				b.WriteRune(' ')
				continue
			}
			i := int(*p.Score * float64(len(bars)))
			b.WriteRune(bars[min(max(i, 0), len(bars)-1)])
		}
		fmt.Fprintf(w, "  timeline (per second, higher = more suspicious): |%s|\n", b.String())
	}
	for _, f := range r.Faces {
		for _, d := range f.Detectors {
			for _, e := range d.Evidence {
				if e.Image == "" {
					continue
				}
				p := filepath.Join(evidenceDir, e.Image)
				if _, err := os.Stat(p); err == nil {
					fmt.Fprintf(w, "  evidence: %s (face #%d, %s, %.1f s)%s\n", p, f.Track, d.Detector, e.Start, notCountedNote(r, d.Detector))
				}
			}
		}
	}
	fmt.Fprintf(w, "  analysed in %.1f s (%.0f frames/s decoded, every %d. frame analysed)\n", r.Timing.TotalS, r.Timing.FramesPerS, r.Video.AnalysedEvery)
}

// notCountedNote marks a detector whose findings the fusion gives no
// weight, so that a reader does not take them for what decided the score.
func notCountedNote(r *scan.Report, detector string) string {
	if slices.Contains(r.NotCounted, detector) {
		return " [not counted in the score: the fusion gives it no weight]"
	}
	return ""
}
