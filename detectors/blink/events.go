package blink

import (
	"time"
)

// Span is a stretch of time [Start, End].
type Span struct {
	Start, End time.Duration
}

// Duration returns End − Start.
func (s Span) Duration() time.Duration { return s.End - s.Start }

// Event is one dip of the eye openness: a blink or, if it lasts longer than
// Options.MaxBlinkDuration, an eye closure.
type Event struct {
	// Start and End are where the openness crosses Options.OpenRatio of the
	// baseline on the way down and back up, interpolated between samples:
	// the duration covers closing, closed and reopening.
	Start, End time.Duration
	// Min is the lowest openness in the event as a fraction of the baseline
	// (0 fully closed); 1−Min is the event's depth.
	Min float64
	// MinIndex is the index, in the samples given to Analyze, of the lowest
	// point.
	MinIndex int
	// Closure marks an eye closure: longer than a blink.
	Closure bool
	// Truncated marks a closure that the data cuts off (the track ends, or a
	// gap starts, while the eye is closed): its duration is a lower bound.
	// Blinks are never truncated; cut-off short events are dropped.
	Truncated bool

	run int // index of the Analysis run the event lies in
}

// Duration returns End − Start.
func (e Event) Duration() time.Duration { return e.End - e.Start }

// Analysis is what Analyze finds in an openness series.
type Analysis struct {
	// Events are the blinks and closures, in time order.
	Events []Event
	// Runs are the stretches of valid data: no gap inside a run is longer
	// than Options.MaxGap. Each run's End includes one sample interval.
	Runs []Span
	// Observed is the total duration of the runs: the time over which a
	// blink would have been seen.
	Observed time.Duration
	// Samples and Valid count the samples given and those with a valid
	// openness.
	Samples, Valid int
	// SampleInterval is the median interval between valid samples.
	SampleInterval time.Duration
	// Baseline is the median open-eye baseline openness over the valid
	// samples (0 if there are none).
	Baseline float64
}

// Blinks returns the events that are blinks, not closures.
func (a Analysis) Blinks() []Event {
	var out []Event
	for _, e := range a.Events {
		if !e.Closure {
			out = append(out, e)
		}
	}
	return out
}

// DetectBlinks returns the blink and closure events in samples; see Analyze.
// opts may be nil for the defaults.
func DetectBlinks(samples []Sample, opts *Options) []Event {
	return Analyze(samples, opts).Events
}

// Analyze finds the blinks and eye closures in an openness series. Samples
// must be in time order; one not later than the previous valid sample is
// ignored, as are samples whose openness is NaN or outside [0, 1]. opts may
// be nil for the defaults.
func Analyze(samples []Sample, opts *Options) Analysis {
	o := opts.withDefaults()
	a := Analysis{Samples: len(samples)}

	// Valid samples, in strictly increasing time.
	idx := make([]int, 0, len(samples))
	for i, s := range samples {
		if !valid(s.Openness) {
			continue
		}
		if n := len(idx); n > 0 && s.T <= samples[idx[n-1]].T {
			continue
		}
		idx = append(idx, i)
	}
	a.Valid = len(idx)
	if len(idx) == 0 {
		return a
	}
	t := make([]time.Duration, len(idx))
	raw := make([]float64, len(idx))
	for k, i := range idx {
		t[k], raw[k] = samples[i].T, samples[i].Openness
	}
	dt := medianInterval(t)
	a.SampleInterval = dt
	maxGap := max(o.MaxGap, dt*5/2)
	minDur := o.MinBlinkDuration
	if minDur == 0 {
		minDur = dt / 2
	}
	win := o.MedianWindow
	if win == 0 {
		win = autoMedianWindow(dt)
	}

	// Split into runs at long gaps, and median-filter each run on its own so
	// that the filter never mixes samples across a gap.
	var runs [][2]int // [first, last+1) into t
	first := 0
	for k := 1; k <= len(t); k++ {
		if k == len(t) || t[k]-t[k-1] > maxGap {
			runs = append(runs, [2]int{first, k})
			first = k
		}
	}
	filtered := make([]float64, 0, len(raw))
	for _, r := range runs {
		filtered = append(filtered, medianFilter(raw[r[0]:r[1]], win)...)
	}

	base := rollingBaseline(t, filtered, o.BaselinePercentile, o.BaselineWindow, o.MinBaseline)
	a.Baseline = percentile(append([]float64(nil), base...), 0.5)
	rel := make([]float64, len(filtered))
	for k := range filtered {
		rel[k] = filtered[k] / base[k]
	}

	for ri, r := range runs {
		span := Span{Start: t[r[0]], End: t[r[1]-1] + dt}
		a.Runs = append(a.Runs, span)
		a.Observed += span.Duration()
		for _, e := range detectRun(t[r[0]:r[1]], rel[r[0]:r[1]], o) {
			e.MinIndex = idx[r[0]+e.MinIndex]
			e.run = ri
			switch {
			case e.Duration() > o.MaxBlinkDuration:
				e.Closure = true
			case e.Truncated, e.Duration() < minDur:
				continue // a cut-off short event, or noise
			}
			a.Events = append(a.Events, e)
		}
	}
	return a
}

// detectRun finds the dips in one gap-free run of relative openness (value
// over baseline) with hysteresis: a sample below o.CloseRatio starts an
// event, which ends at the first sample back at o.OpenRatio or above. Event
// bounds are the interpolated OpenRatio crossings; an event the run starts
// or ends inside is marked Truncated and bounded by the run's first or last
// sample. MinIndex is relative to the run.
func detectRun(t []time.Duration, rel []float64, o Options) []Event {
	var out []Event
	var cur Event
	in := false
	lastOpen := -1
	for k, r := range rel {
		if !in {
			if r >= o.OpenRatio {
				lastOpen = k
			}
			if r < o.CloseRatio {
				in = true
				cur = Event{Min: r, MinIndex: k}
				if lastOpen < 0 {
					cur.Start, cur.Truncated = t[0], true
				} else {
					cur.Start = crossing(t, rel, lastOpen, o.OpenRatio)
				}
			}
			continue
		}
		if r < cur.Min {
			cur.Min, cur.MinIndex = r, k
		}
		if r >= o.OpenRatio {
			cur.End = crossing(t, rel, k-1, o.OpenRatio)
			out = append(out, cur)
			in = false
			lastOpen = k
		}
	}
	if in {
		cur.End, cur.Truncated = t[len(t)-1], true
		out = append(out, cur)
	}
	return out
}

// crossing returns the time between samples k and k+1 at which the linearly
// interpolated series crosses level.
func crossing(t []time.Duration, v []float64, k int, level float64) time.Duration {
	a, b := v[k], v[k+1]
	if a == b {
		return t[k]
	}
	f := (a - level) / (a - b)
	f = min(max(f, 0), 1)
	return t[k] + time.Duration(f*float64(t[k+1]-t[k]))
}
