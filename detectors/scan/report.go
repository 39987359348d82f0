package scan

import (
	"encoding/json"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/media"
)

// Report is the outcome of scanning one file: `trueframe scan --json` prints
// it and the HTTP service returns it.
type Report struct {
	File      string         `json:"file"`
	SHA256    string         `json:"sha256"`
	SizeBytes int64          `json:"size_bytes"`
	Score     float64        `json:"score"` // 0 authentic … 1 manipulated
	Verdict   fusion.Verdict `json:"verdict"`
	// Thresholds are the scores at which the verdict changes, for readers
	// that draw scores against them (the web page's timeline).
	Thresholds fusion.Thresholds `json:"thresholds"`
	// VerdictReason says why the verdict is inconclusive, when it is.
	VerdictReason string `json:"verdict_reason,omitempty"`
	// Detectors are the results of the face that decided the video's score
	// (the most suspicious conclusive face), by detector name.
	Detectors map[string]DetectorSummary `json:"detectors"`
	// NotCounted are the detectors that ran but that the fusion gives no
	// weight (a fitted fusion drops those that did not help on its
	// clips): their findings are shown, and do not move the score.
	NotCounted []string `json:"not_counted,omitempty"`
	Faces      []Face   `json:"faces"`
	// Timeline is the fused score of the most suspicious face on screen, per
	// second of video; Score is null in seconds without a face.
	Timeline  []TimelinePoint `json:"timeline"`
	DurationS float64         `json:"duration_s"`
	Video     VideoInfo       `json:"video"`
	Warnings  []string        `json:"warnings,omitempty"`
	Timing    Timing          `json:"timing"`
	Models    ModelInfo       `json:"models"`
	// Provenance is the file checked against the provenance ledger (the
	// ledger's verification: registered, matches_original,
	// altered_original, revoked or unknown), when a ledger was available.
	Provenance json.RawMessage `json:"provenance,omitempty"`
}

// DetectorSummary is one detector's result on the deciding face.
type DetectorSummary struct {
	Score        float64              `json:"score"`
	Confidence   float64              `json:"confidence"`
	Explanation  string               `json:"explanation"`
	Track        int                  `json:"track"`
	Measurements map[string]float64   `json:"measurements"`
	Evidence     []detectors.Evidence `json:"evidence,omitempty"`
}

// Face is one face track with its detectors' results and fused score.
type Face struct {
	Track         int                   `json:"track"`
	StartS        float64               `json:"start_s"`
	EndS          float64               `json:"end_s"`
	Frames        int                   `json:"frames"`
	Box           media.Rect            `json:"box"` // median box, image px
	Score         float64               `json:"score"`
	Verdict       fusion.Verdict        `json:"verdict"`
	Reason        string                `json:"reason,omitempty"`
	Contributions []fusion.Contribution `json:"contributions"`
	// Thumbnail names the evidence image of the face (a JPEG cut from one
	// frame, at ThumbnailS seconds), when evidence was written.
	Thumbnail  string             `json:"thumbnail,omitempty"`
	ThumbnailS float64            `json:"thumbnail_s,omitempty"`
	Detectors  []detectors.Result `json:"detectors"`
}

// TimelinePoint is the score of one second of video.
type TimelinePoint struct {
	T     float64  `json:"t"` // start of the second
	Score *float64 `json:"score"`
	Faces int      `json:"faces"`
}

// VideoInfo describes the decoded stream.
type VideoInfo struct {
	Width         int     `json:"width"`
	Height        int     `json:"height"`
	FPS           float64 `json:"fps"`
	Codec         string  `json:"codec,omitempty"`
	Frames        int     `json:"frames"`         // counted while decoding
	AnalysedEvery int     `json:"analysed_every"` // every Nth frame was analysed
	Truncated     bool    `json:"truncated"`      // fewer frames than the container claims
}

// Timing says where the time went.
type Timing struct {
	TotalS      float64 `json:"total_s"`
	FramesPerS  float64 `json:"frames_per_s"` // decoded frames per second of wall time
	AnalysedFPS float64 `json:"analysed_per_s"`
	// DetectorS is the time each detector took (its Observe and Result
	// calls, summed over tracks), in seconds.
	DetectorS map[string]float64 `json:"detector_s,omitempty"`
}

// ModelInfo names the models behind the report, for reproducibility.
type ModelInfo struct {
	FaceDetector  string `json:"face_detector"`
	FusionVersion string `json:"fusion_version"`
	// Detectors maps each detector run to its version: the version of its
	// model file for learned detectors, of its code for the others.
	Detectors map[string]string `json:"detectors,omitempty"`
}

// SetProvenance records the provenance check of the report's file (a
// ledger verification, or ProvenanceUnavailable) and, when the check says
// faces differ from a registered original, puts its alert first among the
// warnings, so that it leads whatever the detectors scored. The command
// line and the service both report the check through it.
func (r *Report) SetProvenance(check json.RawMessage) {
	r.Provenance = check
	var p struct{ Alert string }
	if json.Unmarshal(check, &p) == nil && p.Alert != "" {
		r.Warnings = append([]string{p.Alert}, r.Warnings...)
	}
}

// ProvenanceUnavailable is the provenance check of a file that could not
// be checked, saying why.
func ProvenanceUnavailable(why string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"status": "unavailable", "error": why})
	return b
}
