package blink

import (
	"math"
	"slices"
	"time"
)

// Sample is one eye-openness measurement: an eye aspect ratio at time T.
// Openness is NaN when it was not measured.
type Sample struct {
	T        time.Duration
	Openness float64
}

// maxOpenness bounds plausible eye aspect ratios; anything above it (or
// negative) is a landmark failure and treated as unknown.
const maxOpenness = 1.0

// valid reports whether v is a usable openness measurement.
func valid(v float64) bool {
	return !math.IsNaN(v) && v >= 0 && v <= maxOpenness
}

// CombineEyes merges per-frame right- and left-eye openness into one series of
// len(right) values (left must be as long). Each eye is first rescaled so its
// open level (BaselinePercentile of its own valid values) matches the mean of
// the two open levels; a frame's value is then the mean of its valid eyes, or
// NaN if neither is valid. The rescaling keeps the series level when one eye
// drops out: people's eyes, and their apparent size under head yaw, differ,
// and a plain mean would step every time an eye became unmeasurable.
func CombineEyes(right, left []float64) []float64 {
	eyes := [2][]float64{right, left}
	var level [2]float64
	target, n := 0.0, 0
	for e, xs := range eyes {
		level[e] = percentile(validValues(xs), DefaultBaselinePercentile)
		if !math.IsNaN(level[e]) && level[e] > 1e-6 {
			target += level[e]
			n++
		}
	}
	if n > 0 {
		target /= float64(n)
	}
	out := make([]float64, len(right))
	for i := range out {
		sum, k := 0.0, 0
		for e, xs := range eyes {
			if i >= len(xs) || !valid(xs[i]) {
				continue
			}
			v := xs[i]
			if !math.IsNaN(level[e]) && level[e] > 1e-6 {
				v *= target / level[e]
			}
			sum += v
			k++
		}
		if k == 0 {
			out[i] = math.NaN()
		} else {
			out[i] = sum / float64(k)
		}
	}
	return out
}

// validValues returns the valid values of xs.
func validValues(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, v := range xs {
		if valid(v) {
			out = append(out, v)
		}
	}
	return out
}

// percentile returns the p-quantile (0–1) of xs with linear interpolation,
// or NaN for an empty slice. It sorts xs in place.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	pos := p * float64(len(xs)-1)
	i := int(pos)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}

// medianFilter returns xs smoothed by a running median of width w (odd; the
// window shrinks at the ends). w ≤ 1 returns a copy.
func medianFilter(xs []float64, w int) []float64 {
	out := slices.Clone(xs)
	h := w / 2
	if h < 1 {
		return out
	}
	buf := make([]float64, 0, 2*h+1)
	for i := range xs {
		lo, hi := max(0, i-h), min(len(xs), i+h+1)
		buf = append(buf[:0], xs[lo:hi]...)
		slices.Sort(buf)
		n := len(buf)
		if n%2 == 1 {
			out[i] = buf[n/2]
		} else {
			out[i] = (buf[n/2-1] + buf[n/2]) / 2
		}
	}
	return out
}

// autoMedianWindow is the widest odd window spanning at most 40 ms of
// samples dt apart.
func autoMedianWindow(dt time.Duration) int {
	if dt <= 0 {
		return 1
	}
	n := int(40*time.Millisecond/dt) + 1 // samples within 40 ms, ends included
	if n%2 == 0 {
		n--
	}
	return max(n, 1)
}

// rollingBaseline returns, for each of the values v taken at times t (sorted),
// the p-quantile of the values within ±window/2, evaluated at knots every
// window/6 and interpolated linearly between them. A series no longer than
// the window gets one baseline. Values are at least floor.
func rollingBaseline(t []time.Duration, v []float64, p float64, window time.Duration, floor float64) []float64 {
	out := make([]float64, len(v))
	if len(v) == 0 {
		return out
	}
	global := max(percentile(slices.Clone(v), p), floor)
	span := t[len(t)-1] - t[0]
	if span <= window {
		for i := range out {
			out[i] = global
		}
		return out
	}
	step := window / 6
	var knots []time.Duration
	var level []float64
	lo, hi := 0, 0
	buf := make([]float64, 0, len(v))
	for k := t[0]; ; k += step {
		for lo < len(t) && t[lo] < k-window/2 {
			lo++
		}
		for hi < len(t) && t[hi] <= k+window/2 {
			hi++
		}
		b := global
		if hi-lo >= 10 { // too few values in the window: fall back to the whole track
			buf = append(buf[:0], v[lo:hi]...)
			b = max(percentile(buf, p), floor)
		}
		knots = append(knots, k)
		level = append(level, b)
		if k >= t[len(t)-1] {
			break
		}
	}
	j := 0
	for i, ti := range t {
		for j+1 < len(knots) && knots[j+1] <= ti {
			j++
		}
		if j+1 >= len(knots) {
			out[i] = level[j]
			continue
		}
		f := float64(ti-knots[j]) / float64(knots[j+1]-knots[j])
		out[i] = level[j]*(1-f) + level[j+1]*f
	}
	return out
}

// medianInterval returns the median positive interval between consecutive
// times, or 0 if there is none.
func medianInterval(t []time.Duration) time.Duration {
	ds := make([]time.Duration, 0, len(t))
	for i := 1; i < len(t); i++ {
		if d := t[i] - t[i-1]; d > 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
