package blink

import "time"

// Options are the detection thresholds. A nil *Options, and any zero or
// negative field, means the default listed with the field.
type Options struct {
	// CloseRatio is the openness, as a fraction of the open-eye baseline,
	// below which the eye counts as closing: dipping under it starts an
	// event. Default 0.6.
	CloseRatio float64
	// OpenRatio is the fraction of the baseline the eye must return to for
	// an event to end (hysteresis); the event's start and end are where the
	// series crosses it. Default 0.8. If it is not above CloseRatio it is
	// set halfway between CloseRatio and 1.
	OpenRatio float64
	// BaselinePercentile is the percentile (0–1) of the openness series
	// taken as the open-eye baseline. Eyes are open over 90 % of the time,
	// so a high percentile lands on the open level whatever the blink rate.
	// Default 0.9.
	BaselinePercentile float64
	// BaselineWindow is the span of the rolling baseline; a track shorter
	// than this uses one baseline for the whole track. After the open level
	// steps down (the person looks down) the baseline lags by up to
	// BaselinePercentile·BaselineWindow/2, and blinks in that lag merge into
	// one closure; a window much shorter than 10 s would let a long closure
	// drag the baseline down. Default 10 s.
	BaselineWindow time.Duration
	// MinBaseline is the lowest baseline openness accepted; a lower
	// baseline (an eye never seen open) is raised to it, so an eye closed
	// for the whole track reads as one long closure. Default 0.1.
	MinBaseline float64
	// MaxGap is the longest time between two valid samples that is bridged;
	// a longer gap splits the series, and no event spans it. It is raised
	// to 2.5 sample intervals when the series is sampled sparsely.
	// Default 250 ms.
	MaxGap time.Duration
	// MedianWindow is the width, in samples, of the median filter applied
	// before thresholding; 1 disables it. Default (0): the widest odd window
	// spanning at most 40 ms, so 3 samples at 50 fps and above and no
	// filtering at 25–30 fps, where a blink's trough may be a single frame
	// and a median would erase it.
	MedianWindow int
	// MaxBlinkDuration is the longest event counted as a blink; longer ones
	// are eye closures. Default 1 s.
	MaxBlinkDuration time.Duration
	// MinBlinkDuration is the shortest event kept; shorter ones are noise.
	// Default: half the median interval between samples (less than one
	// frame's worth).
	MinBlinkDuration time.Duration
}

// Defaults for Options.
const (
	DefaultCloseRatio         = 0.6
	DefaultOpenRatio          = 0.8
	DefaultBaselinePercentile = 0.9
	DefaultBaselineWindow     = 10 * time.Second
	DefaultMinBaseline        = 0.1
	DefaultMaxGap             = 250 * time.Millisecond
	DefaultMaxBlinkDuration   = time.Second
)

// withDefaults returns a copy of o with the defaults filled in. It never
// returns nil.
func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.CloseRatio <= 0 || r.CloseRatio >= 1 {
		r.CloseRatio = DefaultCloseRatio
	}
	if r.OpenRatio <= 0 {
		r.OpenRatio = DefaultOpenRatio
	}
	if r.OpenRatio <= r.CloseRatio {
		r.OpenRatio = (r.CloseRatio + 1) / 2
	}
	if r.BaselinePercentile <= 0 || r.BaselinePercentile > 1 {
		r.BaselinePercentile = DefaultBaselinePercentile
	}
	if r.BaselineWindow <= 0 {
		r.BaselineWindow = DefaultBaselineWindow
	}
	if r.MinBaseline <= 0 {
		r.MinBaseline = DefaultMinBaseline
	}
	if r.MaxGap <= 0 {
		r.MaxGap = DefaultMaxGap
	}
	if r.MedianWindow < 0 {
		r.MedianWindow = 0
	}
	if r.MaxBlinkDuration <= 0 {
		r.MaxBlinkDuration = DefaultMaxBlinkDuration
	}
	if r.MinBlinkDuration < 0 {
		r.MinBlinkDuration = 0
	}
	return r
}
