package blink

import (
	"math"
	"slices"
	"time"
)

// Stats are the numbers Score judges, measured from an Analysis.
// Statistics that are undefined (no blinks, fewer than two intervals) are 0
// and flagged by the counts they depend on.
type Stats struct {
	Blinks   int // blink events
	Closures int // eye closures (events longer than a blink)
	// Observed is the time covered by valid data.
	Observed time.Duration
	// BlinksPerMinute is Blinks over Observed.
	BlinksPerMinute float64
	// Intervals counts the inter-blink intervals: onset to onset of
	// consecutive blinks in the same run with no closure between. Intervals
	// across gaps are left out, as a blink may have been missed there.
	Intervals      int
	IntervalMean   time.Duration
	IntervalMedian time.Duration
	// IntervalCV is the coefficient of variation (standard deviation over
	// mean) of the intervals; defined for two intervals or more.
	IntervalCV float64
	// DurationMean and DurationMedian are over the blinks.
	DurationMean, DurationMedian time.Duration
	// LongestOpen is the longest stretch of valid data without a blink or
	// closure, and Longest is where it is. A stretch cut by the start or end
	// of a run is a lower bound.
	LongestOpen time.Duration
	Longest     Span
	// UsableFraction is the share of samples with a valid openness.
	UsableFraction float64
	// SampleInterval is the median time between valid samples.
	SampleInterval time.Duration
	// Baseline is the open-eye baseline openness (median over the track).
	Baseline float64
	// Extent runs from the first valid sample to the end of the last run;
	// BlinkSpan from the first blink's start to the last blink's end.
	Extent, BlinkSpan Span
}

// Measure computes the Stats of an Analysis.
func Measure(a Analysis) Stats {
	s := Stats{
		Observed:       a.Observed,
		SampleInterval: a.SampleInterval,
		Baseline:       a.Baseline,
	}
	if a.Samples > 0 {
		s.UsableFraction = float64(a.Valid) / float64(a.Samples)
	}
	var durs, ivs []float64 // seconds
	prev := -1              // index of the previous event, if in the same run
	for i, e := range a.Events {
		if e.Closure {
			s.Closures++
		} else {
			s.Blinks++
			durs = append(durs, e.Duration().Seconds())
			if prev >= 0 && !a.Events[prev].Closure && a.Events[prev].run == e.run {
				ivs = append(ivs, (e.Start - a.Events[prev].Start).Seconds())
			}
		}
		prev = i
	}
	if s.Observed > 0 {
		s.BlinksPerMinute = float64(s.Blinks) / s.Observed.Minutes()
	}
	if len(durs) > 0 {
		s.DurationMean = seconds(mean(durs))
		s.DurationMedian = seconds(median(durs))
	}
	s.Intervals = len(ivs)
	if len(ivs) > 0 {
		m := mean(ivs)
		s.IntervalMean = seconds(m)
		s.IntervalMedian = seconds(median(ivs))
		if len(ivs) >= 2 && m > 0 {
			s.IntervalCV = stddev(ivs, m) / m
		}
	}
	s.LongestOpen, s.Longest = longestOpen(a)
	if n := len(a.Runs); n > 0 {
		s.Extent = Span{a.Runs[0].Start, a.Runs[n-1].End}
	}
	if b := a.Blinks(); len(b) > 0 {
		s.BlinkSpan = Span{b[0].Start, b[len(b)-1].End}
	}
	return s
}

// longestOpen returns the longest blink-free stretch inside the runs.
func longestOpen(a Analysis) (time.Duration, Span) {
	var best Span
	ev := 0
	for ri, r := range a.Runs {
		from := r.Start
		for ; ev < len(a.Events) && a.Events[ev].run == ri; ev++ {
			if sp := (Span{from, a.Events[ev].Start}); sp.Duration() > best.Duration() {
				best = sp
			}
			from = max(from, a.Events[ev].End)
		}
		if sp := (Span{from, r.End}); sp.Duration() > best.Duration() {
			best = sp
		}
	}
	return best.Duration(), best
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// stddev is the sample standard deviation of xs around m.
func stddev(xs []float64, m float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
