package blink

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/trueframe/trueframe/detectors"
)

// Name is the detector's name in results.
const Name = "blink"

// Detector is the blink detector. It is safe for concurrent use; the
// TrackDetectors it makes are not.
type Detector struct {
	opts Options
}

// New returns the blink detector. If opts is nil, or a field is zero, the
// defaults are used (see Options).
func New(opts *Options) detectors.Detector {
	return &Detector{opts: opts.withDefaults()}
}

// Version is the version of the detector's code: bump it whenever a
// change moves its scores, so that cached evaluation results are redone.
const Version = "2026-12-06"

// Version returns Version.
func (d *Detector) Version() string { return Version }

// Name returns "blink".
func (d *Detector) Name() string { return Name }

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{opts: d.opts, track: track}
}

// trackDetector records the eye openness of one track; all the work happens
// in Result. It keeps 4 numbers a frame.
type trackDetector struct {
	opts        Options
	track       int
	times       []time.Duration
	frames      []int
	right, left []float64
}

// Observe records the frame's eye openness. Frames must come in time order.
func (td *trackDetector) Observe(_ context.Context, f *detectors.FaceFrame) error {
	if f == nil {
		return fmt.Errorf("blink: track %d: nil frame", td.track)
	}
	if n := len(td.times); n > 0 && f.Time <= td.times[n-1] {
		return fmt.Errorf("blink: track %d: frame %d at %v is not after the previous frame at %v",
			td.track, f.Frame, f.Time, td.times[n-1])
	}
	td.times = append(td.times, f.Time)
	td.frames = append(td.frames, f.Frame)
	td.right = append(td.right, f.RightEyeOpenness)
	td.left = append(td.left, f.LeftEyeOpenness)
	return nil
}

// Result analyses the track. It does not change the recorded frames, so it
// may be called again.
func (td *trackDetector) Result(ctx context.Context, _ detectors.TrackInfo) (detectors.Result, error) {
	if err := ctx.Err(); err != nil {
		return detectors.Result{}, err
	}
	open := CombineEyes(td.right, td.left)
	samples := make([]Sample, len(open))
	for i, v := range open {
		samples[i] = Sample{T: td.times[i], Openness: v}
	}
	a := Analyze(samples, &td.opts)
	s := Measure(a)
	v := Assess(s)
	return detectors.Result{
		Detector:     Name,
		Score:        detectors.Clamp01(v.Score),
		Confidence:   detectors.Clamp01(v.Confidence),
		Explanation:  v.Explanation,
		Measurements: measurements(s),
		Evidence:     td.evidence(a, s, v),
	}, nil
}

// measurements lists s for Result. Undefined statistics (interval figures
// with too few intervals, durations without blinks) are left out rather than
// sent as NaN, which JSON cannot carry.
func measurements(s Stats) map[string]float64 {
	m := map[string]float64{
		"blinks_per_minute": s.BlinksPerMinute,
		"blink_count":       float64(s.Blinks),
		"closure_count":     float64(s.Closures),
		"longest_open_s":    s.LongestOpen.Seconds(),
		"observed_s":        s.Observed.Seconds(),
		"usable_fraction":   s.UsableFraction,
		"baseline_openness": s.Baseline,
	}
	if s.Intervals > 0 {
		m["interval_mean_s"] = s.IntervalMean.Seconds()
		m["interval_median_s"] = s.IntervalMedian.Seconds()
	}
	if s.Intervals >= 2 {
		m["interval_cv"] = s.IntervalCV
	}
	if s.Blinks > 0 {
		m["blink_duration_mean_s"] = s.DurationMean.Seconds()
		m["blink_duration_median_s"] = s.DurationMedian.Seconds()
	}
	for k, x := range m {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			delete(m, k)
		}
	}
	return m
}

// Evidence scores for single events: an ordinary blink points away from
// manipulation; closures are human too, but unusual.
const (
	evidenceBlink     = 0.0
	evidenceOddBlink  = 0.6
	evidenceClosure   = 0.1
	evidenceFindingLo = 0.5 // a finding's evidence score runs from here to 1 with its strength
)

// evidence lists every event, then the findings as intervals.
func (td *trackDetector) evidence(a Analysis, s Stats, v Assessment) []detectors.Evidence {
	short := max(shortBlink, 2*s.SampleInterval)
	out := make([]detectors.Evidence, 0, len(a.Events)+len(v.Findings))
	for _, e := range a.Events {
		ev := detectors.Evidence{
			Kind:  "event",
			Start: e.Start.Seconds(),
			End:   e.End.Seconds(),
			Frame: td.frames[e.MinIndex],
		}
		switch d := e.Duration(); {
		case e.Closure && e.Truncated:
			ev.Score = evidenceClosure
			ev.Note = fmt.Sprintf("eyes closed for at least %s", fmtSeconds(d))
		case e.Closure:
			ev.Score = evidenceClosure
			ev.Note = fmt.Sprintf("eyes closed for %s", fmtSeconds(d))
		case d < short || d > longBlink:
			ev.Score = evidenceOddBlink
			ev.Note = fmt.Sprintf("blink %d ms (implausible)", d.Milliseconds())
		default:
			ev.Score = evidenceBlink
			ev.Note = fmt.Sprintf("blink %d ms", d.Milliseconds())
		}
		out = append(out, ev)
	}
	for _, f := range v.Findings {
		out = append(out, detectors.Evidence{
			Kind:  "interval",
			Start: f.Span.Start.Seconds(),
			End:   f.Span.End.Seconds(),
			Score: evidenceFindingLo + (1-evidenceFindingLo)*f.Strength,
			Note:  f.Note,
		})
	}
	return out
}
