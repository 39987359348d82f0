package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/media/landmark"
)

// syntheticCrop is a textured canvas with landmarks of a face-shaped oval
// in its middle (the real landmarks' geometry is not needed here).
func syntheticCrop() Crop {
	s := facecnn.Canvas
	c := Crop{Pixels: make([]byte, 3*s*s), Points: make([]float32, 2*landmark.NumPoints)}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range c.Pixels {
		c.Pixels[i] = byte(90 + rng.IntN(60))
	}
	cx, cy, rx, ry := float64(s)/2, float64(s)/2+10, 0.3*float64(s), 0.38*float64(s)
	for i := range landmark.NumPoints {
		a := 2 * math.Pi * float64(i) / float64(landmark.NumPoints)
		// Points on nested ovals, so every landmark set spans a region.
		f := 0.3 + 0.7*float64(i%7)/6
		c.Points[2*i] = float32(cx + f*rx*math.Cos(a))
		c.Points[2*i+1] = float32(cy + f*ry*math.Sin(a))
	}
	return c
}

func TestSelfBlendChangesOnlyInsideItsMask(t *testing.T) {
	c := syntheticCrop()
	base := fromBytes(c.Pixels, facecnn.Canvas, facecnn.Canvas)
	for r := range 3 {
		for seed := range uint64(5) {
			out, m := SelfBlend(rand.New(rand.NewPCG(seed, uint64(r))), c, Region(r), false)
			var inside, outside, changedOutside float64
			for i, w := range m.V {
				d := 0.0
				for k := range 3 {
					d += math.Abs(float64(out.Pix[3*i+k] - base.Pix[3*i+k]))
				}
				if w == 0 {
					outside++
					if d > 1e-6 {
						changedOutside++
					}
				} else {
					inside++
				}
			}
			if inside == 0 || outside == 0 {
				t.Fatalf("region %d seed %d: mask covers %v of %v pixels", r, seed, inside, inside+outside)
			}
			if changedOutside > 0 {
				t.Fatalf("region %d seed %d: %v pixels changed outside the mask", r, seed, changedOutside)
			}
		}
	}
}

func TestSeamTargets(t *testing.T) {
	var none [facecnn.GridSize * facecnn.GridSize]float32
	if seamTargets(nil, false, facecnn.Margin, facecnn.Margin) != none {
		t.Fatal("a real face has no seam")
	}
	c := syntheticCrop()
	_, m := SelfBlend(rand.New(rand.NewPCG(1, 1)), c, WholeFace, true)
	tg := seamTargets(&m, false, facecnn.Margin, facecnn.Margin)
	// The seam runs round the oval: border patches of the grid stay clear,
	// some patch on the oval is marked.
	var top float32
	for i, v := range tg {
		x, y := i%facecnn.GridSize, i/facecnn.GridSize
		if (x == 0 || y == 0 || x == facecnn.GridSize-1) && v > 0.05 {
			t.Fatalf("patch (%d,%d) off the face marked %v", x, y, v)
		}
		top = max(top, v)
	}
	if top < 0.3 {
		t.Fatalf("no patch holds the seam (max %v)", top)
	}
	// Mirroring the sample mirrors its targets.
	flipped := seamTargets(&m, true, facecnn.Margin, facecnn.Margin)
	g := facecnn.GridSize
	for y := range g {
		for x := range g {
			if math.Abs(float64(flipped[y*g+x]-tg[y*g+g-1-x])) > 0.2 {
				t.Fatalf("flipped targets do not mirror at (%d,%d): %v vs %v", x, y, flipped[y*g+x], tg[y*g+g-1-x])
			}
		}
	}
}

func TestConvexHullAndFill(t *testing.T) {
	h := convexHull([][2]float64{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {5, 5}, {3, 7}})
	if len(h) != 4 {
		t.Fatalf("hull %v", h)
	}
	m := fillPolygon(h, 20, 20)
	var area float32
	for _, v := range m.V {
		area += v
	}
	if area < 90 || area > 110 {
		t.Fatalf("filled area %v, want about 100", area)
	}
}

// TestGroupKeyIgnoresWhereTheDataIs: the same files under another absolute
// path give the same groups (the validation split, and the network, depend
// on them); a folder-grouped source groups by the file's folder.
func TestGroupKeyIgnoresWhereTheDataIs(t *testing.T) {
	for _, c := range []struct {
		root, file string
		byFolder   bool
		want       string
	}{
		{"/home/a/shared/data/videos/real/grid", "/home/a/shared/data/videos/real/grid/bbaf2n.mpg", false, "grid/bbaf2n.mpg"},
		{"/srv/ci/shared/data/videos/real/grid/", "/srv/ci/shared/data/videos/real/grid/bbaf2n.mpg", false, "grid/bbaf2n.mpg"},
		{"../shared/data/train/real_faces/lfw", "../shared/data/train/real_faces/lfw/Ann/Ann_0001.jpg", true, "lfw/Ann"},
		{"/x/lfw", "/x/lfw/Ann_0001.jpg", true, "lfw"},
		{"/x/clip.mp4", "/x/clip.mp4", false, "clip.mp4/clip.mp4"},
	} {
		if got := groupKey(c.root, c.file, c.byFolder); got != c.want {
			t.Errorf("groupKey(%q, %q, %v) = %q, want %q", c.root, c.file, c.byFolder, got, c.want)
		}
	}
}
