package scan

import (
	"slices"

	"github.com/trueframe/trueframe/detectors/fusion"
)

// Refuse recomputes a report's fused figures with f from the detector
// results it holds: each face's score, verdict and contributions, the
// video's score and verdict, and the deciding face's detector summary.
// Evaluation applies a newly fitted fusion to cached analyses this way,
// without analysing the videos again. The timeline is left as it was.
func Refuse(rep *Report, f *fusion.Fuser) {
	scores := make([]fusion.FaceScore, len(rep.Faces))
	for i := range rep.Faces {
		face := &rep.Faces[i]
		fs := f.Face(face.Detectors, face.Frames)
		face.Score, face.Verdict, face.Reason, face.Contributions = fs.Score, fs.Verdict, fs.Reason, fs.Contributions
		scores[i] = fs
	}
	rep.Score, rep.Verdict, rep.VerdictReason = f.Video(scores, rep.DurationS)
	rep.Models.FusionVersion = f.Model().Version
	rep.Thresholds = f.Thresholds()
	rep.summarizeDecidingFace()
	rep.markNotCounted(f)
}

// markNotCounted sets NotCounted: the detectors that ran (by the report's
// model versions) that f gives no weight.
func (rep *Report) markNotCounted(f *fusion.Fuser) {
	rep.NotCounted = nil
	for name := range rep.Models.Detectors {
		if !f.Counts(name) {
			rep.NotCounted = append(rep.NotCounted, name)
		}
	}
	slices.Sort(rep.NotCounted)
}

// summarizeDecidingFace fills Detectors from the deciding face: the most
// suspicious conclusive one, else the one seen longest.
func (rep *Report) summarizeDecidingFace() {
	decide := -1
	for i, f := range rep.Faces {
		switch {
		case decide < 0:
			decide = i
		case f.Verdict != fusion.Inconclusive && (rep.Faces[decide].Verdict == fusion.Inconclusive || f.Score > rep.Faces[decide].Score):
			decide = i
		case f.Verdict == fusion.Inconclusive && rep.Faces[decide].Verdict == fusion.Inconclusive && f.Frames > rep.Faces[decide].Frames:
			decide = i
		}
	}
	rep.Detectors = map[string]DetectorSummary{}
	if decide < 0 {
		return
	}
	f := rep.Faces[decide]
	for _, r := range f.Detectors {
		rep.Detectors[r.Detector] = DetectorSummary{Score: r.Score, Confidence: r.Confidence,
			Explanation: r.Explanation, Track: f.Track, Measurements: r.Measurements, Evidence: r.Evidence}
	}
}
