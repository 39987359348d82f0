package fingerprint

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// lipsGrid draws a mouth on a lips grid, area-sampled as the warp does:
// lips of luma 90 round a gap of luma 30 whose half-height is open cells,
// on skin of luma 170, centred at (cx, cy) cells and wide cells across,
// plus noise of ±noise levels.
func lipsGrid(cx, cy, wide, open float64, noise int, rng *rand.Rand) [LipsGridW * LipsGridH]uint8 {
	var g [LipsGridW * LipsGridH]uint8
	const sub = 4
	for y := range LipsGridH {
		for x := range LipsGridW {
			var v float64
			for sy := range sub {
				for sx := range sub {
					dx := (float64(x) + (float64(sx)+0.5)/sub - cx) / (wide / 2)
					dy := float64(y) + (float64(sy)+0.5)/sub - cy
					p := 170.0
					if r := dx*dx + dy*dy/(3.5*3.5+open*open); r < 1 {
						p = 90
						if math.Abs(dy) < open*math.Sqrt(1-dx*dx) {
							p = 30
						}
					}
					v += p / (sub * sub)
				}
			}
			if noise > 0 {
				v += float64(rng.IntN(2*noise+1) - noise)
			}
			g[y*LipsGridW+x] = uint8(max(0, min(255, math.Round(v))))
		}
	}
	return g
}

// bandGrid draws nostrils on the nose band grid.
func bandGrid(noise int, rng *rand.Rand) [BandGridW * BandGridH]uint8 {
	var g [BandGridW * BandGridH]uint8
	for y := range BandGridH {
		for x := range BandGridW {
			v := 160.0 - 2*math.Abs(float64(x)-13)
			if (math.Abs(float64(x)-10) < 1.5 || math.Abs(float64(x)-16) < 1.5) && y >= 5 && y <= 6 {
				v = 60
			}
			if noise > 0 {
				v += float64(rng.IntN(2*noise+1) - noise)
			}
			g[y*BandGridW+x] = uint8(max(0, min(255, v)))
		}
	}
	return g
}

// TestDetailDistance checks what the lips' distance sees and ignores: a
// copy's noise and a landmark fit half a cell off are well under
// DetailThreshold; other lips (the mouth open where it was closed) are
// well over, however the grids are shifted.
func TestDetailDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	closed := lipsGrid(13, 7, 18, 0.5, 0, rng)
	band := bandGrid(0, rng)
	orig := &Detail{Lips: closed, Band: band}
	cases := []struct {
		name     string
		lips     [LipsGridW * LipsGridH]uint8
		min, max float64
	}{
		{"same", closed, 0, 0.01},
		{"noise ±4", lipsGrid(13, 7, 18, 0.5, 4, rng), 0, DetailThreshold / 2},
		{"half a cell off", lipsGrid(13.5, 7.4, 18, 0.5, 0, rng), 0, DetailThreshold / 2},
		{"open", lipsGrid(13, 7, 18, 2.5, 0, rng), 2 * DetailThreshold, math.Inf(1)},
		{"open, half a cell off", lipsGrid(13.5, 7.4, 18, 2.5, 2, rng), 2 * DetailThreshold, math.Inf(1)},
		{"narrower", lipsGrid(13, 7, 12, 0.5, 0, rng), 2 * DetailThreshold, math.Inf(1)},
		{"moved up 2 cells", lipsGrid(13, 5, 18, 0.5, 0, rng), 2 * DetailThreshold, math.Inf(1)},
	}
	for _, c := range cases {
		d := lipsDetail(orig, &Detail{Lips: c.lips, Band: band})
		if d < c.min || d > c.max {
			t.Errorf("%s: lips detail %.3f, want [%.3f, %.3f]", c.name, d, c.min, c.max)
		}
	}
	// A re-encoding that degrades the whole face: the band's distance is
	// taken off the lips'.
	noisy := &Detail{Lips: lipsGrid(13, 7, 18, 0.5, 12, rng), Band: bandGrid(12, rng)}
	lips := detailDistance(orig.Lips[:], noisy.Lips[:], lipsWindow)
	if d := lipsDetail(orig, noisy); d >= lips || d > DetailThreshold/2 {
		t.Errorf("noise on the whole face: lips detail %.3f, lips alone %.3f", d, lips)
	}
}

// TestCompareFacesDetail checks that version 3 faces whose lips differ
// over 2–4 s, everything else equal (a lip-sync that keeps the coarse
// descriptor), make a "mouth" span there; the same fingerprints as
// version 2 (no detail) do not, and neither does a copy.
func TestCompareFacesDetail(t *testing.T) {
	still := static(48, 40) // 12 s
	base := baseFace(42)
	rng := rand.New(rand.NewPCG(3, 4))
	v3 := func(fp *Fingerprint, mouth func(k int) (wide, open float64), noise int) *Fingerprint {
		fp.Version = Version3
		for k := range fp.Frames {
			w, o := mouth(k)
			fp.Frames[k].Faces[0].Detail = &Detail{Lips: lipsGrid(13, 7, w, o, noise, rng), Band: bandGrid(noise, rng)}
		}
		return fp
	}
	// The registered speaker opens a wide mouth by turns; the lip-sync
	// puts a rounder, narrower one ("oo") over 2–4 s.
	talking := func(k int) (float64, float64) { return 18, 0.5 + 1.5*float64(k%3) }
	orig := v3(withFace(still, base, 2, 1), talking, 0)
	copied := v3(withFace(noisy(still, 2, 2), base, 4, 2), talking, 3)
	synced := v3(withFace(noisy(still, 2, 2), base, 4, 3), func(k int) (float64, float64) {
		if k >= 8 && k < 16 {
			return 11, 2
		}
		return talking(k)
	}, 3)
	for name, c := range map[string]struct {
		cand *Fingerprint
		want bool
	}{"copy": {copied, false}, "lip-sync 2–4 s": {synced, true}} {
		m, err := Compare(orig, c.cand, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Faces) != 1 {
			t.Fatalf("%s: %d faces", name, len(m.Faces))
		}
		spans := m.Faces[0].Altered
		if !c.want {
			if len(spans) != 0 {
				t.Errorf("%s: altered spans %+v, want none", name, spans)
			}
			continue
		}
		if len(spans) != 1 || DescribeDiffers(spans[0].Differs) != "mouth" {
			t.Fatalf("%s: spans %+v, want one of the mouth", name, spans)
		}
		// A 9-sample median may move either end by up to four samples.
		const tol = 4 * interval
		if s := spans[0].Candidate; s.Start < 2*time.Second-tol || s.Start > 2*time.Second+tol || s.End < 4*time.Second-tol || s.End > 4*time.Second+tol {
			t.Errorf("%s: span %v–%v, want about 2–4 s", name, s.Start, s.End)
		}
		// Without the detail (version 2), the same change is not seen.
		asV2 := func(fp *Fingerprint) *Fingerprint {
			c := *fp
			c.Version = Version2
			c.Frames = slices.Clone(fp.Frames)
			for k := range c.Frames {
				c.Frames[k].Faces = slices.Clone(fp.Frames[k].Faces)
				c.Frames[k].Faces[0].Detail = nil
			}
			return &c
		}
		o2, c2 := asV2(orig), asV2(c.cand)
		if m2, err := Compare(o2, c2, nil); err != nil || len(m2.Faces) != 1 || len(m2.Faces[0].Altered) != 0 {
			t.Errorf("%s as version 2: %v %+v, want no altered span", name, err, m2.Faces)
		}
	}
}
