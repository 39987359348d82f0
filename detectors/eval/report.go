package eval

import (
	"math"

	"github.com/trueframe/trueframe/detectors/scan"
)

// FromReport scores clip from its analysis: the fused video score and
// verdict, and each detector's video-level score, the highest it gave a
// face seen in at least minFrames frames (the fusion's own rule: a video is
// as suspicious as its most suspicious face). A video without such a face
// gives no detector score.
func FromReport(clip Clip, rep *scan.Report, minFrames int) Scored {
	s := Scored{Clip: clip, Score: rep.Score, Verdict: string(rep.Verdict), Detectors: map[string]float64{},
		Seconds: rep.Timing.TotalS}
	for _, f := range rep.Faces {
		if f.Frames < minFrames {
			continue
		}
		for _, r := range f.Detectors {
			if prev, ok := s.Detectors[r.Detector]; !ok || r.Score > prev {
				s.Detectors[r.Detector] = r.Score
			}
		}
	}
	if math.IsNaN(s.Score) {
		s.Score = 0.5
	}
	return s
}
