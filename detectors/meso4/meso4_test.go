package meso4

import (
	"math"
	"testing"
)

func TestResolutionTrust(t *testing.T) {
	for _, tc := range []struct{ upscale, want float64 }{
		{math.NaN(), 1}, // no measurement
		{0.5, 1},        // a large face scaled down
		{1, 1},
		{2, 1},
		{2.5, 0.5},
		{2.75, 0.25},
		{3, 0},
		{8, 0},
	} {
		if got := resolutionTrust(tc.upscale); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("resolutionTrust(%v) = %v, want %v", tc.upscale, got, tc.want)
		}
	}
}
