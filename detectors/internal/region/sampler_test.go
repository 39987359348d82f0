package region

import (
	"context"
	"testing"
	"time"

	"github.com/trueframe/trueframe/detectors"
)

// Frames are analysed at most once an interval; a frame analyse cannot
// use is counted and leaves the next one due; a cancelled context ends it.
func TestSamplerObserve(t *testing.T) {
	s := Sampler{Interval: 100 * time.Millisecond, Stride: 3}
	var analysed []int
	usable := map[int]bool{0: true, 1: true, 2: true, 3: false, 4: true, 5: true, 6: true, 7: true}
	for i := range 8 {
		f := &detectors.FaceFrame{Frame: i, Time: time.Duration(i) * 40 * time.Millisecond}
		err := s.Observe(t.Context(), f, func(f *detectors.FaceFrame) bool {
			if usable[f.Frame] {
				analysed = append(analysed, f.Frame)
			}
			return usable[f.Frame]
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 0 (first); 3 is due at 120 ms but unusable; 4 then; 7 at 280 ms ≥ 160+100.
	if want := []int{0, 4, 7}; len(analysed) != len(want) || analysed[0] != 0 || analysed[1] != 4 || analysed[2] != 7 {
		t.Errorf("analysed %v, want %v", analysed, want)
	}
	if s.Skipped != 1 {
		t.Errorf("skipped %d, want 1", s.Skipped)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Observe(ctx, &detectors.FaceFrame{Frame: 99, Time: time.Hour}, func(*detectors.FaceFrame) bool { return true }); err == nil {
		t.Error("a cancelled context was not reported")
	}
}
