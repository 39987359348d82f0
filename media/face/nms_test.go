package face

import (
	"math"
	"testing"

	"github.com/trueframe/trueframe/media"
)

func TestWeightedNMS(t *testing.T) {
	kp := func(x float64) []media.Point { return []media.Point{{X: x, Y: x}} }
	in := []Detection{
		{Box: media.Rect{X: 0, Y: 0, W: 10, H: 10}, Score: 0.6, Keypoints: kp(0)},
		{Box: media.Rect{X: 100, Y: 100, W: 20, H: 20}, Score: 0.7, Keypoints: kp(5)},
		{Box: media.Rect{X: 2, Y: 0, W: 10, H: 10}, Score: 0.9, Keypoints: kp(3)},
	}
	out := weightedNMS(in, 0.3)
	if len(out) != 2 {
		t.Fatalf("%d faces, want 2: %+v", len(out), out)
	}
	// The first cluster merges boxes at x=2 (0.9) and x=0 (0.6).
	wantX := (2*0.9 + 0*0.6) / 1.5
	if got := out[0]; got.Score != 0.9 || math.Abs(got.Box.X-wantX) > 1e-9 || math.Abs(got.Keypoints[0].X-wantX*1.5) > 1e-9 {
		t.Errorf("merged face %+v, want score 0.9, x %.3f, keypoint x %.3f", got, wantX, wantX*1.5)
	}
	if got := out[1]; got.Box != (media.Rect{X: 100, Y: 100, W: 20, H: 20}) || got.Score != 0.7 {
		t.Errorf("lone face %+v changed", got)
	}
	if len(weightedNMS(nil, 0.3)) != 0 {
		t.Error("faces from no candidates")
	}
}

func TestDropNested(t *testing.T) {
	big := Detection{Box: media.Rect{X: 0, Y: 0, W: 100, H: 100}, Score: 0.9}
	eye := Detection{Box: media.Rect{X: 20, Y: 20, W: 20, H: 20}, Score: 0.7}
	neighbour := Detection{Box: media.Rect{X: 90, Y: 0, W: 40, H: 40}, Score: 0.8}
	if got := dropNested([]Detection{big, neighbour, eye}); len(got) != 2 || got[0].Box != big.Box || got[1].Box != neighbour.Box {
		t.Errorf("dropNested kept %+v, want the big face and its neighbour", got)
	}
	// A weak container does not remove a confident face inside it.
	weak := big
	weak.Score = 0.5
	if got := dropNested([]Detection{eye, weak}); len(got) != 2 {
		t.Errorf("dropNested kept %+v, want both", got)
	}
}
