// Package fusion combines detector results into one score per face and per
// video, and turns scores into verdicts, using the weights of a
// models.Fusion file rather than constants in code.
package fusion

import (
	"fmt"
	"math"
	"sort"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/models"
)

// Verdict is the one-word answer of a scan.
type Verdict string

const (
	LikelyAuthentic   Verdict = "likely_authentic"
	Suspicious        Verdict = "suspicious"
	LikelyManipulated Verdict = "likely_manipulated"
	// Inconclusive means there was not enough to judge: no usable face, a
	// clip too short, or detectors too unsure.
	Inconclusive Verdict = "inconclusive"
)

// Fuser applies one fusion model. It is safe for concurrent use.
type Fuser struct{ m *models.Fusion }

// New returns a Fuser for m; nil means the embedded default model.
func New(m *models.Fusion) (*Fuser, error) {
	if m == nil {
		var err error
		if m, err = models.DefaultFusion(); err != nil {
			return nil, err
		}
	}
	return &Fuser{m: m}, nil
}

// Thresholds are the fused scores where the verdict changes: from
// likely_authentic to suspicious, and from suspicious to likely_manipulated.
type Thresholds struct {
	SuspiciousFrom  float64 `json:"suspicious_from"`
	ManipulatedFrom float64 `json:"manipulated_from"`
}

// Thresholds returns the model's verdict thresholds.
func (f *Fuser) Thresholds() Thresholds {
	return Thresholds{SuspiciousFrom: f.m.Verdict.AuthenticBelow, ManipulatedFrom: f.m.Verdict.ManipulatedFrom}
}

// Counts reports whether the model gives the detector any weight: a
// detector it does not count still runs and reports its findings, but they
// do not move the score.
func (f *Fuser) Counts(detector string) bool {
	d, ok := f.m.Detectors[detector]
	return ok && d.Weight > 0
}

// Model returns the fusion model in use.
func (f *Fuser) Model() *models.Fusion { return f.m }

// Contribution is one detector's share of a face's fused score.
type Contribution struct {
	Detector string  `json:"detector"`
	Weight   float64 `json:"weight"`
	// Logit is what the detector added to the fused log-odds: positive pushes
	// towards manipulated, negative towards authentic.
	Logit float64 `json:"logit"`
}

// FaceScore is the fused judgement on one face track.
type FaceScore struct {
	Score         float64        `json:"score"`
	Verdict       Verdict        `json:"verdict"`
	Evidence      float64        `json:"evidence"` // total weighted confidence
	Contributions []Contribution `json:"contributions"`
	Reason        string         `json:"reason,omitempty"` // why inconclusive
}

// Face fuses the results of one track.
func (f *Fuser) Face(results []detectors.Result, frames int) FaceScore {
	z, evidence, contribs := f.combine(results, nil)
	fs := FaceScore{Score: sigmoid(z), Evidence: evidence, Contributions: contribs}
	v := f.m.Verdict
	switch {
	case frames < v.MinFaceFrames:
		fs.Verdict = Inconclusive
		fs.Reason = fmt.Sprintf("face seen in %d frames, fewer than %d", frames, v.MinFaceFrames)
	case evidence < v.MinEvidence:
		fs.Verdict = Inconclusive
		fs.Reason = fmt.Sprintf("detectors too unsure (evidence %.2f < %.2f)", evidence, v.MinEvidence)
	default:
		fs.Verdict = f.verdict(fs.Score)
	}
	return fs
}

// ScoreAt fuses per-detector scores for one moment: override maps a detector
// name to the score it gave for that moment, replacing its track score.
func (f *Fuser) ScoreAt(results []detectors.Result, override map[string]float64) float64 {
	z, _, _ := f.combine(results, override)
	return sigmoid(z)
}

// combine returns the fused log-odds. For the hand-set mean: the
// detectors' log-odds weighted by weight×confidence, divided by the total
// weight once it exceeds 1 (the detectors are far from independent, so
// agreeing detectors must not multiply their evidence as naive Bayes would;
// below a total of 1, thin evidence stays close to "no opinion"). For a
// fitted logistic model: the bias plus the same weighted log-odds, summed.
func (f *Fuser) combine(results []detectors.Result, override map[string]float64) (z, evidence float64, contribs []Contribution) {
	clip := f.m.ScoreClip
	for _, r := range results {
		d, ok := f.m.Detectors[r.Detector]
		if !ok || d.Weight == 0 {
			continue
		}
		s := r.Score
		if o, ok := override[r.Detector]; ok {
			s = o
		}
		s = math.Min(math.Max(detectors.Clamp01(s), clip), 1-clip)
		c := detectors.Clamp01(r.Confidence)
		if math.IsNaN(r.Confidence) {
			c = 0
		}
		l := d.Weight * c * (math.Log(s/(1-s)) - d.Center)
		z += l
		evidence += d.Weight * c
		contribs = append(contribs, Contribution{Detector: r.Detector, Weight: d.Weight * c, Logit: l})
	}
	// A fitted logistic model already weighs correlated detectors against
	// each other; the hand-set mean divides by the evidence instead.
	if evidence > 1 && f.m.Kind != models.FusionLogistic {
		z /= evidence
		for i := range contribs {
			contribs[i].Logit /= evidence
		}
	}
	z += f.m.Bias
	sort.Slice(contribs, func(i, j int) bool { return math.Abs(contribs[i].Logit) > math.Abs(contribs[j].Logit) })
	return z, evidence, contribs
}

func (f *Fuser) verdict(score float64) Verdict {
	switch v := f.m.Verdict; {
	case score < v.AuthenticBelow:
		return LikelyAuthentic
	case score >= v.ManipulatedFrom:
		return LikelyManipulated
	}
	return Suspicious
}

// Video combines face scores: a video is as suspicious as its most
// suspicious conclusive face. durationS is the video's length.
func (f *Fuser) Video(faces []FaceScore, durationS float64) (score float64, verdict Verdict, reason string) {
	if durationS < f.m.Verdict.MinDurationS {
		return 0.5, Inconclusive, fmt.Sprintf("video is %.2f s long, shorter than %.2f s", durationS, f.m.Verdict.MinDurationS)
	}
	best := -1.0
	for _, fs := range faces {
		if fs.Verdict != Inconclusive && fs.Score > best {
			best = fs.Score
		}
	}
	if best < 0 {
		if len(faces) == 0 {
			return 0.5, Inconclusive, "no face found"
		}
		return 0.5, Inconclusive, "no face with enough evidence: " + faces[0].Reason
	}
	return best, f.verdict(best), ""
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
