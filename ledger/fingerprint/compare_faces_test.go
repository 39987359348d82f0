package fingerprint

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// randomPattern fills region r of d with a random pattern of the given
// energy.
func randomPattern(d *Descriptor, r int, rng *rand.Rand, energy uint8) {
	var ss float64
	v := make([]float64, RegionCoefs)
	for i := range v {
		v[i] = rng.NormFloat64()
		ss += v[i] * v[i]
	}
	for i := range v {
		d.Coefs[r][i] = int8(math.Round(127 * v[i] / math.Sqrt(ss)))
	}
	d.Energy[r] = energy
}

// jitter returns d with every coefficient moved by up to ±amount.
func jitter(d Descriptor, rng *rand.Rand, amount int) Descriptor {
	for r := range NumRegions {
		for i := range RegionCoefs {
			v := int(d.Coefs[r][i]) + rng.IntN(2*amount+1) - amount
			d.Coefs[r][i] = int8(max(-127, min(127, v)))
		}
	}
	return d
}

// withFace returns a version 2 copy of the still shot fp with one face
// (track 1, centred) per sample: the same descriptor throughout, jittered
// by noise (a re-encoding) per sample.
func withFace(fp *Fingerprint, base Descriptor, noise int, seed uint64) *Fingerprint {
	rng := rand.New(rand.NewPCG(seed, 3))
	c := trimmed(fp, 0, len(fp.Frames))
	c.Version = Version2
	for k := range c.Frames {
		c.Frames[k].Faces = []Face{{Track: 1, Box: Box{X: 24000, Y: 18000, W: 16000, H: 20000}, Inside: 1<<NumRegions - 1,
			Desc: jitter(base, rng, noise)}}
	}
	return c
}

func baseFace(seed uint64) Descriptor {
	rng := rand.New(rand.NewPCG(seed, 4))
	var d Descriptor
	for r := range NumRegions {
		randomPattern(&d, r, rng, 120) // a norm of 180 luma levels
	}
	d.Cr, d.Cb = 150, 110
	return d
}

// altered changes what f does to the descriptors of samples [from, to).
func altered(fp *Fingerprint, from, to int, f func(*Descriptor, *rand.Rand)) *Fingerprint {
	rng := rand.New(rand.NewPCG(9, 9))
	c := trimmed(fp, 0, len(fp.Frames))
	c.Version = fp.Version
	for k := range c.Frames {
		c.Frames[k].Faces = slices.Clone(fp.Frames[k].Faces)
		if k >= from && k < to {
			for i := range c.Frames[k].Faces {
				f(&c.Frames[k].Faces[i].Desc, rng)
			}
		}
	}
	return c
}

func TestCompareFaces(t *testing.T) {
	still := static(48, 40) // 12 s
	base := baseFace(41)
	orig := withFace(still, base, 2, 1)
	copied := withFace(noisy(still, 2, 2), base, 4, 2)
	newMouth := func(d *Descriptor, rng *rand.Rand) { randomPattern(d, RegionMouth, rng, 120) }
	newFace := func(d *Descriptor, rng *rand.Rand) {
		for r := range NumRegions {
			randomPattern(d, r, rng, 120)
		}
	}
	tinted := func(d *Descriptor, _ *rand.Rand) { d.Cr += 6; d.Cb -= 5 }
	oneOdd := func(d *Descriptor, rng *rand.Rand) { newFace(d, rng); d.Cr += 20 }
	type want struct {
		from, to time.Duration // the altered span; to 0: none
		regions  string
	}
	cases := map[string]struct {
		cand *Fingerprint
		want want
	}{
		"re-encoded copy":          {copied, want{}},
		"one odd sample":           {altered(copied, 20, 21, oneOdd), want{}},
		"mouth replaced 2–4 s":     {altered(copied, 8, 16, newMouth), want{2 * time.Second, 4 * time.Second, "mouth"}},
		"face replaced throughout": {altered(copied, 0, 48, newFace), want{0, 12 * time.Second, "identity, eyes, nose, mouth and cheeks"}},
		"skin tinted 5–9 s":        {altered(copied, 20, 36, tinted), want{5 * time.Second, 9 * time.Second, "skin colour"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := Compare(orig, c.cand, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !m.FacesCompared || len(m.Faces) != 1 || m.Faces[0].Track != 1 || m.Faces[0].OriginalTrack != 1 {
				t.Fatalf("faces compared %v: %+v", m.FacesCompared, m.Faces)
			}
			spans := m.Faces[0].Altered
			if c.want.to == 0 {
				if len(spans) != 0 {
					t.Errorf("altered spans %+v, want none", spans)
				}
				return
			}
			if len(spans) != 1 {
				t.Fatalf("%d altered spans, want 1: %+v", len(spans), spans)
			}
			s := spans[0]
			// The median over 5 samples may trim or extend a span by up to
			// two samples at each end.
			const tol = 2 * interval
			if d := s.Candidate.Start - c.want.from; d < -tol || d > tol {
				t.Errorf("span starts at %v, want %v", s.Candidate.Start, c.want.from)
			}
			if d := s.Candidate.End - c.want.to; d < -tol || d > tol {
				t.Errorf("span ends at %v, want %v", s.Candidate.End, c.want.to)
			}
			if got := DescribeDiffers(s.Differs); got != c.want.regions {
				t.Errorf("regions %q, want %q", got, c.want.regions)
			}
			if s.Registered == nil || s.Checked == nil || s.Worst.Score < 1 {
				t.Errorf("worst sample %+v, faces %v %v", s.Worst, s.Registered, s.Checked)
			}
		})
	}
}

// TestCompareFacesFineRate checks a candidate sampled at three times the
// original's rate: Compare keeps the interleaved samples that line up, so
// faces are compared at the same moments.
func TestCompareFacesFineRate(t *testing.T) {
	still := static(40, 50)
	rng := rand.New(rand.NewPCG(51, 0))
	// Every sample has its own mouth: a talking face.
	orig := withFace(still, baseFace(52), 0, 3)
	for k := range orig.Frames {
		randomPattern(&orig.Frames[k].Faces[0].Desc, RegionMouth, rng, 120)
	}
	// The candidate at 12 per second: sample 3k+1 shows the original's
	// sample k; the others, moments between (other mouths).
	fine := *orig
	fine.SampleRate = 3 * orig.SampleRate
	fine.Frames = nil
	for _, f := range orig.Frames {
		for p := range 3 {
			g := f
			g.T = f.T + (time.Duration(p) * interval / 3).Truncate(time.Millisecond)
			g.Faces = slices.Clone(f.Faces)
			if p != 1 {
				randomPattern(&g.Faces[0].Desc, RegionMouth, rng, 120)
			}
			fine.Frames = append(fine.Frames, g)
		}
	}
	m, err := Compare(orig, &fine, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.phase != 1 || m.Offset != -interval/3 {
		t.Errorf("phase %d, offset %v; want 1 and %v", m.phase, m.Offset, -interval/3)
	}
	if len(m.Faces) != 1 || len(m.Faces[0].Altered) != 0 {
		t.Errorf("faces %+v, want one face and no altered span", m.Faces)
	}
}

func TestCompareFacesVersions(t *testing.T) {
	still := static(24, 60)
	v2 := withFace(still, baseFace(61), 2, 4)
	for name, pair := range map[string][2]*Fingerprint{"v1 original": {still, v2}, "v1 candidate": {v2, still}} {
		m, err := Compare(pair[0], pair[1], nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.FacesCompared || len(m.Faces) != 0 || Classify(m) != SameContent {
			t.Errorf("%s: faces compared %v, %s", name, m.FacesCompared, Classify(m))
		}
	}
}

// TestMatchesAroundFaces checks that a sample whose global hash changed
// with its face (a close-up) still matches on the cells clear of the face,
// and that footage differing there (another person's clothes and hair) does
// not.
func TestMatchesAroundFaces(t *testing.T) {
	moving := synthetic(24, 70) // every cell changes over time: the alignment is clear
	orig := withFace(moving, baseFace(71), 2, 5)
	// The face box spans x 0.37–0.61, y 0.27–0.58: grown by a fifth it
	// covers columns 1 and 2 of rows 0 to 2, and leaves ten cells clear.
	swapped := trimmed(orig, 0, len(orig.Frames))
	swapped.Version = Version2
	rng := rand.New(rand.NewPCG(72, 0))
	for k := range swapped.Frames {
		swapped.Frames[k].Faces = slices.Clone(orig.Frames[k].Faces)
		swapped.Frames[k].Global = ^orig.Frames[k].Global // the whole frame looks different
		for _, i := range []int{1, 2, 5, 6, 9, 10} {
			swapped.Frames[k].Cells[i] = rng.Uint64()
		}
		for r := range NumRegions {
			randomPattern(&swapped.Frames[k].Faces[0].Desc, r, rng, 120)
		}
	}
	m, err := Compare(orig, swapped, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.MatchedFraction != 1 || !m.Frames[3].AroundFaces || len(m.Faces) != 1 || len(m.Faces[0].Altered) != 1 {
		t.Fatalf("close-up swap: matched %.2f, around faces %v, faces %+v", m.MatchedFraction, m.Frames[3].AroundFaces, m.Faces)
	}
	// Another take: the corner cells (backdrop edges, clothes) differ too.
	other := trimmed(swapped, 0, len(swapped.Frames))
	other.Version = Version2
	for k := range other.Frames {
		other.Frames[k].Faces = swapped.Frames[k].Faces
		other.Frames[k].Cells[12] = rng.Uint64()
		other.Frames[k].Cells[15] = rng.Uint64()
	}
	if m, err := Compare(orig, other, nil); err != nil || Classify(m) != Different {
		t.Errorf("another take: %s, matched %.2f (%v)", Classify(m), m.MatchedFraction, err)
	}
}

func TestDescribeDiffers(t *testing.T) {
	for mask, want := range map[uint8]string{
		0:                                        "",
		1 << RegionMouth:                         "mouth",
		1<<RegionFace | 1<<RegionMouth:           "identity and mouth",
		1<<RegionRightCheek | 1<<RegionLeftCheek: "cheeks",
		1<<RegionEyes | 1<<RegionLeftCheek | ColourBit: "eyes, cheeks and skin colour",
	} {
		if got := DescribeDiffers(mask); got != want {
			t.Errorf("DescribeDiffers(%#x) = %q, want %q", mask, got, want)
		}
	}
}

func TestFaceDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(80, 0))
	var a, b, flat Descriptor
	randomPattern(&a, 0, rng, 120)
	b = a
	if d := faceDistance(&a, &b, 0); d != 0 {
		t.Errorf("same pattern: %v", d)
	}
	neg := a
	for i := range neg.Coefs[0] {
		neg.Coefs[0][i] = -a.Coefs[0][i]
	}
	if d := faceDistance(&a, &neg, 0); d < 1.35 || d > 1.42 {
		t.Errorf("opposite pattern: %v, want about √2", d)
	}
	randomPattern(&b, 0, rng, 120)
	if d := faceDistance(&a, &b, 0); d < 0.5 {
		t.Errorf("unrelated patterns: %v", d)
	}
	if d := faceDistance(&flat, &flat, 0); d != 0 {
		t.Errorf("flat regions: %v", d)
	}
	weak := a
	weak.Energy[0] = 16 // a norm of 2 luma levels: noise
	if d := faceDistance(&weak, &flat, 0); d > 0.2 {
		t.Errorf("a faint pattern against a flat region: %v", d)
	}
}
