package edges

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/fakes"
	"github.com/trueframe/trueframe/media"
)

// ratios builds rays × scales of ridge ratios around 1 with some noise.
func ratios(rays, scales int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := make([][]float64, rays)
	for j := range r {
		r[j] = make([]float64, scales)
		for k := range r[j] {
			r[j][k] = 0.7 + 0.6*rng.Float64()
		}
	}
	return r
}

func TestPathSeamFollowsABentSeam(t *testing.T) {
	const rays, scales = 72, 48
	r := ratios(rays, scales, 1)
	want := make([]int, rays)
	for j := range want {
		// A seam whose scale swings by ±8 steps around the face, as a donor
		// outline inside the target's does; 1 step per ray at most.
		want[j] = 24 + int(math.Round(8*math.Sin(2*math.Pi*float64(j)/rays)))
		r[j][want[j]] = 3
	}
	// A brow-like edge: very strong, a sixth of the way round, elsewhere.
	for j := 10; j < 22; j++ {
		r[j][5] = 20
	}
	r[40] = nil // a ray off the crop
	path := pathSeam(r, 0, scales-1, pathJump)
	off := 0
	for j, k := range path {
		if r[j] != nil && k != want[j] {
			off++
		}
	}
	if off > 3 {
		t.Errorf("path leaves the seam on %d rays:\n got %v\nwant %v", off, path, want)
	}
	for j := 1; j <= rays; j++ {
		if d := path[j%rays] - path[j-1]; d < -pathJump || d > pathJump {
			t.Fatalf("path jumps %d steps between rays %d and %d", d, j-1, j%rays)
		}
	}

	// Without the seam, the brow alone does not make a strong path: its
	// median stays at the noise level.
	plain := ratios(rays, scales, 2)
	for j := 10; j < 22; j++ {
		plain[j][5] = 20
	}
	var along []float64
	for j, k := range pathSeam(plain, 0, scales-1, pathJump) {
		along = append(along, plain[j][k])
	}
	if m := medianCopy(along); m > 1.5 {
		t.Errorf("median along the path without a seam %.2f, want the noise level", m)
	}
}

func TestSkinLike(t *testing.T) {
	// 8-bit OpenCV Lab: a and b offset by 128.
	lab := func(l, a, b float64) [3]float64 { return [3]float64{l * 255 / 100, a + 128, b + 128} }
	for name, tc := range map[string]struct {
		lab  [3]float64
		want bool
	}{
		"light skin":      {lab(72, 14, 18), true},
		"dark skin":       {lab(38, 13, 22), true},
		"olive skin":      {lab(60, 8, 24), true},
		"black hair":      {lab(12, 1, 2), false},
		"grey background": {lab(60, -1, -3), false},
		"blue background": {lab(55, -4, -25), false},
		"green foliage":   {lab(45, -25, 30), false},
		"red shirt":       {lab(45, 60, 30), true}, // hue 27°: skin-like hue; the path only needs skin both sides
	} {
		if got := skinLike(tc.lab); got != tc.want {
			t.Errorf("%s: skinLike = %v, want %v", name, got, tc.want)
		}
	}
}

// A face pasted from another head shape: a skin patch of another tone whose
// edge runs inside the outline at 0.6–0.9 of it, nearer in some directions
// than others. The one-scale ridge cannot follow it (seam_ridge 0.6 here);
// the path does.
func TestBentPasteIsFound(t *testing.T) {
	opts := &fakes.FaceOptions{Width: 640, Height: 480, Face: fakes.Ellipse{Center: media.Point{X: 320, Y: 230}, RX: 80, RY: 105},
		Skin: [3]float64{120, 155, 205}, Noise: 3, Seed: 1}
	img, lms := fakes.Face(t, opts)
	paste := img.Clone()
	defer paste.Close()
	mask := gocv.NewMatWithSize(img.Rows(), img.Cols(), gocv.MatTypeCV8U)
	defer mask.Close()
	gocv.Ellipse(&mask, image.Pt(322, 245), image.Pt(62, 80), 15, 0, 360, color.RGBA{R: 255, G: 255, B: 255, A: 255}, -1)
	gocv.GaussianBlur(mask, &mask, image.Pt(0, 0), 1.5, 1.5, gocv.BorderReplicate)
	donor := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 132, 220, 0), img.Rows(), img.Cols(), gocv.MatTypeCV8UC3)
	defer donor.Close()
	pd, _ := paste.DataPtrUint8()
	dd, _ := donor.DataPtrUint8()
	md, _ := mask.DataPtrUint8()
	for i, m := range md {
		a := float64(m) / 255
		for c := 0; c < 3; c++ {
			pd[3*i+c] = uint8(math.Round((1-a)*float64(pd[3*i+c]) + a*float64(dd[3*i+c])))
		}
	}
	orig := fakes.RunTrack(t, New(nil), 1, 8, fakes.Noisy(img, lms))
	fake := fakes.RunTrack(t, New(nil), 2, 8, fakes.Noisy(paste, lms))
	t.Logf("original %.3f %v", orig.Score, orig.Measurements)
	t.Logf("paste    %.3f %v", fake.Score, fake.Measurements)
	if p := fake.Measurements["seam_path"]; p < pathLo+0.4 {
		t.Errorf("seam_path %.2f on the paste, want ≥ %.1f", p, pathLo+0.4)
	}
	if p := orig.Measurements["seam_path"]; p > pathLo {
		t.Errorf("seam_path %.2f on the original, want ≤ %.1f", p, pathLo)
	}
	if fake.Score < orig.Score+0.4 {
		t.Errorf("paste scores %.3f, original %.3f: want a margin of 0.4", fake.Score, orig.Score)
	}
}
