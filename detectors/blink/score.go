package blink

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// The human norms Assess scores against. Blink rates at rest or while
// talking are typically 15–26 a minute, intervals are irregular (their
// coefficient of variation is usually well above 0.4) and a blink lasts about
// 100–400 ms. People blink far less while reading or concentrating, so low
// rates and stretches of several seconds without a blink are normal: the
// rules below only fire well outside what real footage shows.
const (
	// Base scores, used when no rule fires: a track that blinks at a normal
	// rate looks human (but generators can learn to blink, so not 0); one
	// that blinks a little too rarely or often, mildly so; otherwise there
	// is too little to say.
	scoreHuman = 0.25
	scoreLoose = 0.35
	scoreNone  = 0.5
	scoreMax   = 0.95

	normalRateMin, normalRateMax = 8.0, 30.0 // blinks/min: "looks human"
	looseRateMin, looseRateMax   = 4.0, 40.0 // blinks/min: "plausible"
	minJudged                    = 10 * time.Second
	minJudgedBlinks              = 3

	// No blink for longOpenFrom is unusual; for longOpenFull, abnormal.
	longOpenFrom, longOpenFull = 20 * time.Second, 45 * time.Second
	weightLongOpen             = 0.85

	// Intervals with a CV of regularCVFrom start to look regular, at
	// regularCVFull machine-regular. Needs regularMinIntervals intervals;
	// full weight from regularFullIntervals.
	regularCVFrom, regularCVFull = 0.30, 0.10
	regularMinIntervals          = 4
	regularFullIntervals         = 8
	weightRegular                = 0.8

	// Blink rates from highRateFrom are suspicious, at highRateFull absurd;
	// judged over at least highRateMinObserved.
	highRateFrom, highRateFull = 45.0, 75.0
	highRateMinObserved        = 20 * time.Second
	weightHighRate             = 0.6

	// Rates under lowRateFrom over at least a minute are weak evidence.
	lowRateFrom, lowRateFull = 5.0, 2.0
	lowRateMinObserved       = time.Minute
	weightLowRate            = 0.3

	// A median blink duration outside [shortBlink, longBlink] is
	// implausible; shortBlink is raised to two sample intervals, as
	// durations are not resolved finer than that.
	shortBlink, longBlink = 50 * time.Millisecond, 500 * time.Millisecond
	durationMinBlinks     = 3
	durationFullBlinks    = 6
	weightDuration        = 0.5

	// Confidence grows as 1 − exp(−observed/confidenceTau): 3 s → 0.14,
	// 20 s → 0.63, 60 s → 0.95.
	confidenceTau = 20 * time.Second
	// Sparse sampling misses blinks: confidence falls linearly from full at
	// a sample interval of denseInterval to 0 at sparseInterval.
	denseInterval, sparseInterval = 70 * time.Millisecond, 200 * time.Millisecond
)

// Finding is one departure from human blinking norms.
type Finding struct {
	Rule string // "long_open", "regular", "high_rate", "low_rate", "duration"
	// Strength in [0,1] is how far outside the norm the track is; Weight is
	// how much a full-strength finding moves the score.
	Strength, Weight float64
	Span             Span   // where it applies
	Note             string // e.g. "no blink for 42 s"
}

// Assessment is Assess's verdict.
type Assessment struct {
	Score, Confidence float64
	Explanation       string
	// Findings are the rules that fired, strongest first.
	Findings []Finding
}

// Assess scores Stats against human blinking norms. The score starts from a
// base (0.25 for a normal blink rate, 0.35 for a plausible one, 0.5 when
// there is too little to judge) and rises towards 0.95 as the findings
// accumulate: score = base + (0.95 − base)·(1 − Π(1 − weight·strength)).
// Confidence grows with the observed duration, times the usable fraction,
// times a factor for sparse sampling.
func Assess(s Stats) Assessment {
	var fs []Finding
	add := func(f Finding) {
		if f.Strength > 0 {
			f.Strength = min(f.Strength, 1)
			fs = append(fs, f)
		}
	}
	if s.Observed > 0 {
		add(Finding{
			Rule:     "long_open",
			Strength: ramp(s.LongestOpen.Seconds(), longOpenFrom.Seconds(), longOpenFull.Seconds()),
			Weight:   weightLongOpen,
			Span:     s.Longest,
			Note:     fmt.Sprintf("no blink for %s", fmtSeconds(s.LongestOpen)),
		})
	}
	if s.Intervals >= regularMinIntervals {
		n := min(1, float64(s.Intervals-2)/float64(regularFullIntervals-2))
		add(Finding{
			Rule:     "regular",
			Strength: n * ramp(s.IntervalCV, regularCVFrom, regularCVFull),
			Weight:   weightRegular,
			Span:     s.BlinkSpan,
			Note: fmt.Sprintf("intervals machine-regular (every %.2f s, cv %.2f)",
				s.IntervalMean.Seconds(), s.IntervalCV),
		})
	}
	if s.Observed >= highRateMinObserved {
		add(Finding{
			Rule:     "high_rate",
			Strength: ramp(s.BlinksPerMinute, highRateFrom, highRateFull),
			Weight:   weightHighRate,
			Span:     s.Extent,
			Note:     fmt.Sprintf("blink rate far above human norms (%.0f/min)", s.BlinksPerMinute),
		})
	}
	if s.Observed >= lowRateMinObserved && s.Blinks > 0 {
		add(Finding{
			Rule:     "low_rate",
			Strength: ramp(s.BlinksPerMinute, lowRateFrom, lowRateFull),
			Weight:   weightLowRate,
			Span:     s.Extent,
			Note:     fmt.Sprintf("only %.1f blinks/min", s.BlinksPerMinute),
		})
	}
	if s.Blinks >= durationMinBlinks {
		short := max(shortBlink, 2*s.SampleInterval)
		n := min(1, float64(s.Blinks-1)/float64(durationFullBlinks-1))
		var what string
		switch {
		case s.DurationMedian < short:
			what = "short"
		case s.DurationMedian > longBlink:
			what = "long"
		}
		if what != "" {
			add(Finding{
				Rule:     "duration",
				Strength: n,
				Weight:   weightDuration,
				Span:     s.BlinkSpan,
				Note: fmt.Sprintf("blinks implausibly %s (median %d ms)",
					what, s.DurationMedian.Milliseconds()),
			})
		}
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmpDesc(a.Weight*a.Strength, b.Weight*b.Strength)
	})

	base := scoreNone
	if s.Observed >= minJudged && s.Blinks >= minJudgedBlinks {
		switch r := s.BlinksPerMinute; {
		case r >= normalRateMin && r <= normalRateMax:
			base = scoreHuman
		case r >= looseRateMin && r <= looseRateMax:
			base = scoreLoose
		}
	}
	keep := 1.0
	for _, f := range fs {
		keep *= 1 - f.Weight*f.Strength
	}
	a := Assessment{
		Score:    clamp01(base + (scoreMax-base)*(1-keep)),
		Findings: fs,
	}
	a.Confidence = clamp01((1 - math.Exp(-s.Observed.Seconds()/confidenceTau.Seconds())) *
		s.UsableFraction *
		ramp(s.SampleInterval.Seconds(), sparseInterval.Seconds(), denseInterval.Seconds()))
	a.Explanation = explain(s, base, fs)
	return a
}

// explain writes the one-sentence explanation.
func explain(s Stats, base float64, fs []Finding) string {
	if s.Observed <= 0 {
		return "no usable eye-openness measurements, so no opinion on blinking"
	}
	head := fmt.Sprintf("%d %s in %s (%.0f/min)", s.Blinks, plural(s.Blinks, "blink", "blinks"),
		fmtSeconds(s.Observed), s.BlinksPerMinute)
	if s.Closures > 0 {
		head += fmt.Sprintf(" and %d %s", s.Closures, plural(s.Closures, "eye closure", "eye closures"))
	}
	switch {
	case len(fs) > 0 && fs[0].Weight*fs[0].Strength >= 0.15:
		return head + ", " + fs[0].Note + ": unlike a real person"
	case base == scoreHuman && s.Intervals >= 3:
		return head + ", intervals irregular: typical of a real person"
	case base == scoreHuman:
		return head + ": a typical human blink rate"
	case base == scoreLoose:
		return head + ": a plausible human blink rate"
	case s.Observed < minJudged:
		return head + ": too short to judge blinking"
	default:
		return head + ": too few blinks to judge"
	}
}

// ramp maps x linearly from 0 at from to 1 at to (either direction),
// clamped to [0,1].
func ramp(x, from, to float64) float64 {
	return clamp01((x - from) / (to - from))
}

// clamp01 limits v to [0,1]; NaN becomes 0 (used for strengths, not scores).
func clamp01(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return min(v, 1)
}

func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// fmtSeconds prints d as "42 s" or, under 10 s, "4.2 s".
func fmtSeconds(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
