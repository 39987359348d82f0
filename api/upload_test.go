package api

import (
	"errors"
	"io"
	"testing"
	"time"
)

// scriptedReader returns, at each read, the next number of bytes and
// advances the fake clock by the next step.
type scriptedReader struct {
	clock *time.Time
	sizes []int
	steps []time.Duration
}

func (r *scriptedReader) Read(p []byte) (int, error) {
	if len(r.sizes) == 0 {
		return 0, io.EOF
	}
	n := min(r.sizes[0], len(p))
	*r.clock = r.clock.Add(r.steps[0])
	r.sizes, r.steps = r.sizes[1:], r.steps[1:]
	return n, nil
}

func TestMinimumRateWindows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int
		steps []time.Duration
		slow  bool
	}{
		{"steady", []int{600, 600, 600, 600}, []time.Duration{time.Second, time.Second, time.Second, time.Second}, false},
		{"a burst per window is enough", []int{1000, 10, 1000, 10}, []time.Duration{100 * time.Millisecond, 1900 * time.Millisecond, 100 * time.Millisecond, 1900 * time.Millisecond}, false},
		{"trickle", []int{1, 1, 1, 1}, []time.Duration{time.Second, time.Second, time.Second, time.Second}, true},
		{"stops after a good start", []int{5000, 1, 1}, []time.Duration{time.Second, 1500 * time.Millisecond, 2 * time.Second}, true},
		{"a last window cut short by the end", []int{5000, 1}, []time.Duration{time.Second, 1500 * time.Millisecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(1000, 0)
			now := func() time.Time { return clock }
			d := &deadlineReader{r: &scriptedReader{clock: &clock, sizes: tc.sizes, steps: tc.steps},
				idle: time.Minute, deadline: clock.Add(time.Hour), window: 2 * time.Second, minBytes: 1000,
				winStart: clock, now: now}
			_, err := io.Copy(io.Discard, d)
			if slow := errors.Is(err, errUploadTooSlow); slow != tc.slow || (err != nil && !slow) {
				t.Errorf("err = %v, want too slow: %v", err, tc.slow)
			}
		})
	}
}
