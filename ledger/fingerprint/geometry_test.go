package fingerprint

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// TestReframe crops a frame by 5% (2.5% off each side), lays the crop out
// as the original again and checks that its hashes come back near the
// original's, while the crop's own hashes are further off.
func TestReframe(t *testing.T) {
	const w, h = 640, 480
	pix := pattern(w, h, 0.4, 0.55, 0)
	img, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, pix)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	crop := img.Region(image.Rect(16, 12, w-16, h-12))
	defer crop.Close()
	cropped := crop.Clone()
	defer cropped.Close()

	hs := newHasher(DefaultGrid)
	g0, c0, err := hs.hashMat(img)
	if err != nil {
		t.Fatal(err)
	}
	worst := func(g uint64, c []uint64) (int, int) {
		wc := 0
		for i := range c {
			wc = max(wc, Distance(c[i], c0[i]))
		}
		return Distance(g, g0), wc
	}
	g1, c1, err := hashFrame(hs, cropped, Geometry{})
	if err != nil {
		t.Fatal(err)
	}
	geo := Geometry{X: 16.0 / w, Y: 12.0 / h, W: float64(w-32) / w, H: float64(h-24) / h}
	g2, c2, err := hashFrame(hs, cropped, geo)
	if err != nil {
		t.Fatal(err)
	}
	gd1, cd1 := worst(g1, c1)
	gd2, cd2 := worst(g2, c2)
	t.Logf("cropped: global %d, worst cell %d; reframed: global %d, worst cell %d", gd1, cd1, gd2, cd2)
	if gd2 > 4 || cd2 >= DefaultCellThreshold/2 {
		t.Errorf("reframed crop: global %d, worst cell %d; want near the original", gd2, cd2)
	}
	if cd2 >= cd1 {
		t.Errorf("reframing did not bring the cells closer: %d, was %d", cd2, cd1)
	}
	// A geometry that leaves nothing, or an absurd one, is an error, not a
	// crash.
	for _, bad := range []Geometry{{X: 2, W: 1, H: 1}, {W: 0.1, H: 1}, {W: math.NaN(), H: 1}} {
		if _, _, err := hashFrame(hs, cropped, bad); err == nil {
			t.Errorf("geometry %+v accepted", bad)
		}
	}
}

func TestEstimateGeometry(t *testing.T) {
	still := static(24, 90)
	orig := withFace(still, baseFace(91), 1, 6)
	g := Geometry{X: 0.025, Y: 0.025, W: 0.95, H: 0.95}
	inv := func(b Box) Box { // where the face lies in the cropped copy
		r := b.rect()
		q := func(v float64) uint16 { return uint16(math.Round(v * 65535)) }
		x0, y0 := (r.X-g.X)/g.W, (r.Y-g.Y)/g.H
		x1, y1 := (r.X+r.W-g.X)/g.W, (r.Y+r.H-g.Y)/g.H
		return Box{X: q(x0), Y: q(y0), W: q(x1) - q(x0), H: q(y1) - q(y0)}
	}
	copied := withFace(still, baseFace(91), 1, 7)
	for k := range copied.Frames {
		copied.Frames[k].Faces[0].Box = inv(orig.Frames[k].Faces[0].Box)
	}
	m, err := Compare(orig, copied, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := EstimateGeometry(orig, copied, m)
	if !ok || math.Abs(got.X-g.X) > 0.002 || math.Abs(got.Y-g.Y) > 0.002 || math.Abs(got.W-g.W) > 0.002 || math.Abs(got.H-g.H) > 0.002 {
		t.Errorf("estimated %+v (%v), want %+v", got, ok, g)
	}
	// The same layout: nothing to correct.
	m, _ = Compare(orig, orig, nil)
	if got, ok := EstimateGeometry(orig, orig, m); ok {
		t.Errorf("identical layout estimated as %+v", got)
	}
	// Mapping a copy's box back lands on the original's.
	b := g.toOriginal(copied.Frames[0].Faces[0].Box)
	if o := orig.Frames[0].Faces[0].Box; absInt(int(b.X)-int(o.X)) > 2 || absInt(int(b.W)-int(o.W)) > 2 {
		t.Errorf("box mapped back to %+v, original %+v", b, o)
	}
}

func absInt(x int) int { return abs(x) }
