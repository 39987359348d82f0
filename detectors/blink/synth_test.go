package blink

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trueframe/trueframe/detectors"
)

// This file builds synthetic eye-openness series: an open level with
// Gaussian noise, and blinks with a realistic shape (a cosine close, a closed
// plateau, a slower cosine reopening).

// blinkAt is one synthetic blink (or closure, if closed is long).
type blinkAt struct {
	on                    time.Duration // onset: the lid starts to move
	close, closed, reopen time.Duration
	depth                 float64 // openness at the bottom, as a fraction of the open level
}

func (b blinkAt) end() time.Duration { return b.on + b.close + b.closed + b.reopen }

// level returns the blink's openness factor (1 open, depth closed) at t.
func (b blinkAt) level(t time.Duration) float64 {
	x := t - b.on
	switch {
	case x < 0 || t >= b.end():
		return 1
	case x < b.close:
		f := float64(x) / float64(b.close)
		return 1 - (1-b.depth)*(1-math.Cos(math.Pi*f))/2
	case x < b.close+b.closed:
		return b.depth
	default:
		f := float64(x-b.close-b.closed) / float64(b.reopen)
		return b.depth + (1-b.depth)*(1-math.Cos(math.Pi*f))/2
	}
}

// humanBlink returns a blink at on with a randomised human shape: 60–100 ms
// closing, 20–80 ms closed, 100–200 ms reopening, closing to 7–25 % of open.
func humanBlink(rng *rand.Rand, on time.Duration) blinkAt {
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond }
	return blinkAt{
		on: on, close: ms(60, 100), closed: ms(20, 80), reopen: ms(100, 200),
		depth: 0.07 + 0.18*rng.Float64(),
	}
}

// humanIntervals are irregular inter-blink intervals in seconds (mean ≈ 3.4 s,
// cv ≈ 0.55), the kind of spread real blinking shows.
var humanIntervals = []float64{2.3, 4.1, 1.1, 3.6, 6.2, 0.8, 2.9, 5.1, 1.7, 3.3, 7.4, 2.0, 4.6, 1.4, 3.9, 2.6}

// humanBlinks places blinks at humanIntervals (cycled, starting at offset
// into the list) from first until dur, each ending at least 0.5 s before dur.
func humanBlinks(rng *rand.Rand, first, dur time.Duration, offset int) []blinkAt {
	var out []blinkAt
	for i, on := offset, first; ; i++ {
		b := humanBlink(rng, on)
		if b.end() > dur-500*time.Millisecond {
			return out
		}
		out = append(out, b)
		on += seconds(humanIntervals[i%len(humanIntervals)])
	}
}

// periodicBlinks places a blink every period from first until dur, all the
// same shape.
func periodicBlinks(first, period, dur time.Duration) []blinkAt {
	var out []blinkAt
	for on := first; on+time.Second < dur; on += period {
		out = append(out, blinkAt{on: on, close: 80 * time.Millisecond, closed: 40 * time.Millisecond,
			reopen: 150 * time.Millisecond, depth: 0.1})
	}
	return out
}

// series describes a synthetic track.
type series struct {
	fps         float64
	dur         time.Duration
	right, left float64 // open levels; 0 means 0.3
	noise       float64 // standard deviation, relative to the open level
	blinks      []blinkAt
	every       int    // keep every n-th frame (sampling); 0 means 1
	gaps        []Span // no frames at all (face lost)
	nanGaps     []Span // frames present, openness NaN in both eyes
	rightNaN    []Span // right eye NaN
	nanRate     float64
	glitches    []time.Duration               // single frames whose openness collapses to 0.02
	drift       func(t time.Duration) float64 // multiplies the open level; nil means 1
	seed        uint64
}

func in(spans []Span, t time.Duration) bool {
	for _, s := range spans {
		if t >= s.Start && t < s.End {
			return true
		}
	}
	return false
}

// frames renders the series as FaceFrames.
func (s series) frames() []detectors.FaceFrame {
	rng := rand.New(rand.NewPCG(s.seed, 7))
	right, left := s.right, s.left
	if right == 0 {
		right = 0.3
	}
	if left == 0 {
		left = 0.3
	}
	every := max(s.every, 1)
	var out []detectors.FaceFrame
	n := int(s.dur.Seconds() * s.fps)
	for i := 0; i < n; i++ {
		t := time.Duration(float64(i) / s.fps * float64(time.Second))
		// Draw the noise for every frame so sampling does not change it.
		nr, nl, u := rng.NormFloat64(), rng.NormFloat64(), rng.Float64()
		if i%every != 0 || in(s.gaps, t) {
			continue
		}
		lv := 1.0
		for _, b := range s.blinks {
			lv = min(lv, b.level(t))
		}
		for _, g := range s.glitches {
			if i == int(math.Round(g.Seconds()*s.fps)) {
				lv = 0.02 / 0.3
			}
		}
		if s.drift != nil {
			lv *= s.drift(t)
		}
		f := detectors.FaceFrame{
			Track: 1, Frame: i, Time: t,
			RightEyeOpenness: right * lv * (1 + s.noise*nr),
			LeftEyeOpenness:  left * lv * (1 + s.noise*nl),
		}
		if in(s.nanGaps, t) || u < s.nanRate {
			f.RightEyeOpenness, f.LeftEyeOpenness = math.NaN(), math.NaN()
		}
		if in(s.rightNaN, t) {
			f.RightEyeOpenness = math.NaN()
		}
		out = append(out, f)
	}
	return out
}

// samples renders the series as the combined openness series.
func (s series) samples() []Sample {
	fs := s.frames()
	r, l := make([]float64, len(fs)), make([]float64, len(fs))
	for i, f := range fs {
		r[i], l[i] = f.RightEyeOpenness, f.LeftEyeOpenness
	}
	c := CombineEyes(r, l)
	out := make([]Sample, len(fs))
	for i, f := range fs {
		out[i] = Sample{T: f.Time, Openness: c[i]}
	}
	return out
}

// run feeds the series through the detector and returns its Result.
func (s series) run(tb testing.TB, opts *Options) detectors.Result {
	tb.Helper()
	ctx := context.Background()
	td := New(opts).NewTrack(1)
	fs := s.frames()
	for i := range fs {
		if err := td.Observe(ctx, &fs[i]); err != nil {
			tb.Fatal(err)
		}
	}
	info := detectors.TrackInfo{Track: 1, FPS: s.fps, Frames: len(fs), Duration: s.dur}
	if len(fs) > 0 {
		info.Start, info.End = fs[0].Time, fs[len(fs)-1].Time
	}
	res, err := td.Result(ctx, info)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// visible counts the blinks that do not touch any of the spans (widened by
// margin on each side); it fails the test if a blink is within the margin
// but not inside, since the test would then be ambiguous.
func visible(tb testing.TB, blinks []blinkAt, margin time.Duration, spans ...Span) int {
	tb.Helper()
	n := 0
outer:
	for _, b := range blinks {
		for _, s := range spans {
			if b.end() > s.Start-margin && b.on < s.End+margin {
				if b.on >= s.Start && b.end() <= s.End {
					continue outer // inside the gap: not visible
				}
				tb.Fatalf("test set-up: blink at %v is within %v of gap %v", b.on, margin, s)
			}
		}
		n++
	}
	return n
}

// gapAfter returns a gap starting 300 ms after blink i ends and ending 300 ms
// before blink i+1+hide starts, so that it hides blinks i+1…i+hide
// entirely. It fails the test if there is no room.
func gapAfter(tb testing.TB, blinks []blinkAt, i, hide int) Span {
	tb.Helper()
	g := Span{blinks[i].end() + 300*time.Millisecond, blinks[i+1+hide].on - 300*time.Millisecond}
	if g.Duration() < 400*time.Millisecond || hide > 0 && blinks[i+hide].end() > g.End {
		tb.Fatalf("test set-up: no room for a gap after blink %d", i)
	}
	return g
}
