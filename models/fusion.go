package models

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
)

//go:embed fusion.json
var fusionJSON []byte

// Fusion holds the weights that combine detector results into one score and
// the thresholds that turn a score into a verdict. It is a model, not code:
// retraining writes a new file, and a scan can be pointed at it.
type Fusion struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description"`
	// Kind is how detectors combine: FusionMean (the default: a
	// confidence-weighted mean of their log-odds, for hand-set weights) or
	// FusionLogistic (a logistic regression fitted to labelled clips: the
	// bias plus each detector's weight × confidence × log-odds).
	Kind      string                    `json:"kind,omitempty"`
	Bias      float64                   `json:"bias"`
	ScoreClip float64                   `json:"score_clip"`
	Detectors map[string]FusionDetector `json:"detectors"`
	Verdict   VerdictRule               `json:"verdict"`
	// Fit describes how a fitted model was made and what it measured on
	// its training clips.
	Fit json.RawMessage `json:"fit,omitempty"`
}

// Kinds of fusion.
const (
	FusionMean     = "mean"
	FusionLogistic = "logistic"
)

// FusionDetector is one detector's weight.
type FusionDetector struct {
	Weight float64 `json:"weight"`
	// Center is the detector's log-odds that count as no opinion (0: a
	// score of 0.5). A fitted model puts it between the detector's typical
	// log-odds on real and on fake clips, so that a detector with nothing
	// to say (confidence 0) weighs neither way.
	Center float64 `json:"center,omitempty"`
}

// VerdictRule turns a fused score into a verdict.
type VerdictRule struct {
	AuthenticBelow  float64 `json:"authentic_below"`
	ManipulatedFrom float64 `json:"manipulated_from"`
	// MinEvidence is the least total weighted confidence a face needs for its
	// score to count; below it the face is inconclusive.
	MinEvidence   float64 `json:"min_evidence"`
	MinFaceFrames int     `json:"min_face_frames"`
	MinDurationS  float64 `json:"min_duration_s"`
}

// DefaultFusion returns the fusion model embedded in the binary.
func DefaultFusion() (*Fusion, error) { return ParseFusion(fusionJSON) }

// DefaultFusionJSON returns the encoded fusion model embedded in the
// binary, as it was trained (a copy: callers may keep it).
func DefaultFusionJSON() []byte { return append([]byte(nil), fusionJSON...) }

// LoadFusion reads a fusion model file.
func LoadFusion(path string) (*Fusion, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFusion(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseFusion decodes and validates a fusion model.
func ParseFusion(data []byte) (*Fusion, error) {
	var f Fusion
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, &FormatError{What: "fusion model", Err: err}
	}
	if err := f.validate(); err != nil {
		return nil, &FormatError{What: "fusion model", Err: err}
	}
	return &f, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (f *Fusion) validate() error {
	v := f.Verdict
	switch {
	case f.Version == "":
		return errors.New("no version")
	case len(f.Detectors) == 0:
		return errors.New("no detectors")
	case f.Kind != "" && f.Kind != FusionMean && f.Kind != FusionLogistic:
		return fmt.Errorf("kind %q: want %q or %q", f.Kind, FusionMean, FusionLogistic)
	case !finite(f.Bias):
		return errors.New("bias not finite")
	case !(f.ScoreClip > 0 && f.ScoreClip < 0.5):
		return fmt.Errorf("score_clip %v not in (0,0.5)", f.ScoreClip)
	case !(v.AuthenticBelow > 0 && v.AuthenticBelow <= v.ManipulatedFrom && v.ManipulatedFrom < 1):
		return fmt.Errorf("verdict thresholds %v, %v not ordered in (0,1)", v.AuthenticBelow, v.ManipulatedFrom)
	case !(v.MinEvidence >= 0) || v.MinFaceFrames < 0 || !(v.MinDurationS >= 0):
		return errors.New("negative verdict minimum")
	}
	for name, d := range f.Detectors {
		if !finite(d.Center) {
			return fmt.Errorf("detector %q: center not finite", name)
		}
		if !finite(d.Weight) || d.Weight < 0 {
			return fmt.Errorf("detector %q: weight %v must be finite and >= 0", name, d.Weight)
		}
	}
	return nil
}
