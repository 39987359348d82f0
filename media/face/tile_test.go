package face

import (
	"image"
	"math"
	"testing"

	"github.com/trueframe/trueframe/media"
)

// TestPlanTilesCoverage checks the tiling plan geometrically: every square
// face from minFace wide up to the image's short side, anywhere in the
// image, lies whole in some run that trusts its size and sees it at a
// size the network finds (netMin up to maxFace of the input).
func TestPlanTilesCoverage(t *testing.T) {
	nets := map[string]struct {
		in              image.Point
		netMin, maxFace float64
	}{
		"blazeface": {image.Pt(256, 256), 20, 0.6},
		"ultraface": {image.Pt(320, 240), 20, 1},
	}
	sizes := []image.Point{{64, 64}, {640, 480}, {1280, 720}, {1920, 1080}, {970, 2204}, {4000, 3000}, {6000, 500}}
	for name, n := range nets {
		for _, sz := range sizes {
			for _, minFace := range []float64{40, 60, 100} {
				plan := planTiles(sz.X, sz.Y, n.in, n.netMin, n.maxFace, minFace, 1000)
				side := float64(min(n.in.X, n.in.Y))
				for f := minFace; f <= float64(min(sz.X, sz.Y)); f *= 1.17 {
					step := math.Max(f/3, 7)
					for y := 0.0; y+f <= float64(sz.Y); y += step {
						for x := 0.0; x+f <= float64(sz.X); x += step {
							b := media.Rect{X: x, Y: y, W: f, H: f}
							if !planSees(plan, b, sz, n.netMin, n.maxFace*side) {
								t.Fatalf("%s %v minFace %v: no run finds face %v (%d runs)", name, sz, minFace, b, len(plan))
							}
						}
					}
				}
			}
		}
	}
}

func planSees(plan []tile, b media.Rect, sz image.Point, netMin, netMax float64) bool {
	for _, t := range plan {
		if w := b.W * t.k; w >= netMin && w <= netMax && trusted(b, t, sz.X, sz.Y) {
			return true
		}
	}
	return false
}

func TestPlanTilesCost(t *testing.T) {
	in := image.Pt(256, 256)
	for name, tc := range map[string]struct {
		w, h     int
		minFace  float64
		maxRuns  int
		min, max int // expected run count range
	}{
		"small image":     {640, 480, 40, 64, 2, 4},
		"720p":            {1280, 720, 40, 64, 4, 12},
		"720p big faces":  {1280, 720, 100, 64, 1, 1},
		"12 MP photo":     {4000, 3000, 40, 1000, 40, 200},
		"12 MP photo cap": {4000, 3000, 40, 64, 2, 64},
		"min cap":         {4000, 3000, 40, 1, 2, 2},
	} {
		plan := planTiles(tc.w, tc.h, in, 20, 0.6, tc.minFace, tc.maxRuns)
		if len(plan) < tc.min || len(plan) > tc.max {
			t.Errorf("%s: %d runs, want %d..%d", name, len(plan), tc.min, tc.max)
		}
		for _, r := range plan {
			if !r.rect.In(image.Rect(0, 0, tc.w, tc.h)) || r.rect.Empty() {
				t.Errorf("%s: tile %v outside the %dx%d image", name, r.rect, tc.w, tc.h)
			}
		}
	}
}

func TestSpans(t *testing.T) {
	for _, tc := range []struct {
		n             int
		size, overlap float64
	}{{1000, 300, 100}, {1000, 1200, 100}, {1001, 500, 499}, {513, 256, 0}, {7, 3, 1}} {
		s := spans(tc.n, tc.size, tc.overlap)
		if s[0][0] != 0 || s[len(s)-1][1] != tc.n {
			t.Errorf("%+v: spans %v do not cover [0,%d)", tc, s, tc.n)
		}
		for i := 1; i < len(s); i++ {
			if ov := s[i-1][1] - s[i][0]; float64(ov) < math.Min(tc.overlap, tc.size/2)-1 {
				t.Errorf("%+v: spans %v overlap by %d", tc, s, ov)
			}
		}
	}
}
