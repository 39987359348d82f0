// Package blink is the eye-blink detector: it judges a face track by how the
// person blinks, against human norms.
//
// People blink about 15–26 times a minute at rest or while talking, at
// irregular intervals, each blink lasting roughly 100–400 ms. Face-swap and
// talking-head generators have been known to blink rarely, not at all, or on
// a schedule. The detector works on the eye-openness series the face tracker
// already measures (detectors.FaceFrame.RightEyeOpenness and
// LeftEyeOpenness), so it needs no images and no model.
//
// The pipeline, in the order Analyze runs it:
//
//	right, left eye openness ──CombineEyes──▶ one openness per frame
//	      │  (each eye rescaled to a common level, then the mean of the valid ones)
//	      ▼
//	split into runs at gaps longer than Options.MaxGap (missing or NaN frames)
//	      ▼
//	median filter (only at frame rates high enough that a blink spans several frames)
//	      ▼
//	divide by the open-eye baseline (a rolling high percentile of the series)
//	      ▼
//	hysteresis: below CloseRatio starts an event, back above OpenRatio ends it
//	      ▼
//	events: blinks (≤ MaxBlinkDuration) and eye closures (longer)
//
// Measure turns the events into numbers (blink rate, inter-blink intervals,
// the longest stretch without a blink) and Score compares them with human
// norms. Scoring is deliberately conservative: a low blink rate, or a few
// seconds without a blink, is normal (people blink less when they read or
// concentrate), so only long blink-free stretches, machine-regular intervals,
// implausible blink durations and absurdly high rates raise the score.
// A track that blinks like a person scores low, but never near 0, because
// generators can learn to blink.
//
// New returns the detectors.Detector the scan pipeline runs; the other
// exported functions are its pure parts, for tests and reuse.
package blink
