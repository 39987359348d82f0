package detectors

import (
	"context"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// FaceFrame is one tracked face in one decoded frame, as a detector sees it.
type FaceFrame struct {
	Track int           // stable track id
	Frame int           // frame index in the video, from 0
	Time  time.Duration // presentation time of the frame
	// Image is the whole decoded BGR frame. It is valid only during Observe:
	// a detector copies what it needs and never keeps the Mat.
	Image gocv.Mat
	// Landmarks are the 468 Face Mesh points in image pixels (see
	// media/landmark for the index sets: face oval, eye contours).
	Landmarks []media.Point
	// Box is the face's bounding box in image pixels.
	Box media.Rect
	// RightEyeOpenness and LeftEyeOpenness are eye aspect ratios from the
	// iris model's eyelid contour (≈0.25–0.35 open, <0.15 closed); NaN when
	// unknown.
	RightEyeOpenness, LeftEyeOpenness float64
}

// Detector makes per-track analysers. A Detector is safe for concurrent use;
// the TrackDetectors it makes are not.
type Detector interface {
	Name() string
	NewTrack(track int) TrackDetector
}

// Versioned is implemented by detectors that say which version of
// themselves made a result: a learned detector names its model file's
// version, a hand-made one the version of its code (bumped whenever a
// change moves its scores). Reports list these, and eval's cache of
// detector results is keyed by them.
type Versioned interface {
	Version() string
}

// TrackDetector accumulates evidence about one face track.
type TrackDetector interface {
	// Observe takes the next frame of the track, in time order. Frames may be
	// skipped (the face was lost, or the pipeline samples).
	Observe(ctx context.Context, f *FaceFrame) error
	// Result summarises the track. fps is the video's frame rate.
	Result(ctx context.Context, info TrackInfo) (Result, error)
}

// TrackInfo describes the track and video a Result is asked for.
type TrackInfo struct {
	Track    int
	FPS      float64
	Start    time.Duration // first frame of the track
	End      time.Duration // last frame of the track
	Frames   int           // frames observed
	Duration time.Duration // of the whole video
}

// Result is one detector's finding on one face track.
type Result struct {
	Detector string `json:"detector"`
	// Score is how manipulated the face looks to this detector: 0 authentic,
	// 1 manipulated, 0.5 no opinion.
	Score float64 `json:"score"`
	// Confidence is how much the evidence supports the score, in [0,1]: low
	// when it is thin (a short clip, few usable frames).
	Confidence float64 `json:"confidence"`
	// Explanation says in one sentence why the score is what it is.
	Explanation string `json:"explanation"`
	// Measurements are the numbers behind the score (e.g. blinks_per_minute).
	Measurements map[string]float64 `json:"measurements"`
	// Evidence points at the moments and regions that drove the score.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Artifacts are images (PNG) the detector produced, keyed by file name;
	// the pipeline writes them to the evidence directory and Evidence
	// entries refer to them by name.
	Artifacts map[string][]byte `json:"-"`
}

// Evidence is one piece of support for a detector's score.
type Evidence struct {
	Kind   string      `json:"kind"` // "interval", "frame" or "event"
	Start  float64     `json:"start_s"`
	End    float64     `json:"end_s"`
	Frame  int         `json:"frame,omitempty"`
	Region *media.Rect `json:"region,omitempty"`
	Image  string      `json:"image,omitempty"` // artifact name
	Score  float64     `json:"score"`           // how strongly this item points to manipulation
	Note   string      `json:"note"`
}

// Clamp01 limits v to [0,1], mapping NaN to 0.5 (no opinion).
func Clamp01(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0.5
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}
