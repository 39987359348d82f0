package media

import (
	"math"
	"testing"
)

func TestROITransformRoundTrip(t *testing.T) {
	roi := ROI{Center: Point{320, 240}, Size: 100, Angle: 0.3}
	m := ROITransform(roi, 192)
	if got := m.Apply(roi.Center); math.Abs(got.X-96) > 1e-9 || math.Abs(got.Y-96) > 1e-9 {
		t.Fatalf("centre maps to %v, want (96,96)", got)
	}
	inv, ok := m.Invert()
	if !ok {
		t.Fatal("not invertible")
	}
	p := Point{301.5, 222.25}
	if q := inv.Apply(m.Apply(p)); q.Dist(p) > 1e-9 {
		t.Fatalf("round trip %v -> %v", p, q)
	}
	// A point Size/2 to the right along the rotated axis lands on the crop's right edge.
	edge := Point{roi.Center.X + 50*math.Cos(roi.Angle), roi.Center.Y - 50*math.Sin(roi.Angle)}
	if got := m.Apply(edge); math.Abs(got.X-192) > 1e-9 || math.Abs(got.Y-96) > 1e-9 {
		t.Fatalf("edge maps to %v, want (192,96)", got)
	}
}

func TestRectIoU(t *testing.T) {
	for name, tc := range map[string]struct {
		a, b Rect
		want float64
	}{
		"same":     {Rect{0, 0, 10, 10}, Rect{0, 0, 10, 10}, 1},
		"disjoint": {Rect{0, 0, 10, 10}, Rect{20, 20, 5, 5}, 0},
		"half":     {Rect{0, 0, 10, 10}, Rect{5, 0, 10, 10}, 50.0 / 150},
		"empty":    {Rect{}, Rect{}, 0},
	} {
		if got := tc.a.IoU(tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: IoU = %v, want %v", name, got, tc.want)
		}
	}
}
