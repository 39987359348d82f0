package trainer

import (
	"math/rand/v2"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/media/landmark"
)

// Region is the part of the face a self-blend replaces.
type Region int

const (
	// WholeFace blends inside the face outline, as a face swap does.
	WholeFace Region = iota
	// InnerFace blends brows, eyes, nose and mouth but not the outline, as a
	// swap that keeps the target's jaw and forehead does.
	InnerFace
	// LowerFace blends from the nose down, as lip-sync tools that redraw the
	// lower half of the face box do.
	LowerFace
)

// regionWeights are how often each region is drawn: lower-face blends stand
// in for lip-sync, which the other two do not teach.
var regionWeights = [3]float64{0.45, 0.2, 0.35}

// SelfBlend returns a fake made of real crop c and itself (the Self-Blended
// Images recipe): a copy of the face, changed in colour, sharpness and
// position, is blended back over the original inside a jittered,
// feathered landmark mask of region r. Both images come from the same
// photo, so the only difference between the fake and the real one is the
// blend and its seam: what the network must learn to see.
//
// It also returns the blend's weight map (alpha × mask): where it is
// neither 0 nor 1 lies the seam the patch map is taught to find.
//
// A plain blend draws its changes from the whole range, some barely
// visible; a Strong one always shifts colour and always halves-or-worse
// the resolution, for small experiments that must learn fast.
func SelfBlend(rng *rand.Rand, c Crop, r Region, strong bool) (img, mask) {
	s := facecnn.Canvas
	base := fromBytes(c.Pixels, s, s)
	src := base.clone()

	// The source is changed in colour and in frequency content.
	if strong || rng.Float64() < 0.8 {
		var gain, off [3]float32
		for k := range gain {
			gain[k] = float32(1 + (rng.Float64()*2-1)*0.12)
			off[k] = float32((rng.Float64()*2 - 1) * 0.06)
		}
		src = src.colour(gain, off, float32(1+(rng.Float64()*2-1)*0.15), float32(1+(rng.Float64()*2-1)*0.25))
	}
	switch p := rng.Float64(); {
	case strong:
		src = src.resample(0.35 + 0.2*rng.Float64())
	case p < 0.4:
		src = src.resample(0.35 + 0.55*rng.Float64())
	case p < 0.65:
		src = src.blur(0.5 + 1.5*rng.Float64())
	case p < 0.8:
		src = src.sharpen(0.5 + rng.Float64())
	}
	// ... and moved a little, as a warped donor face never sits exactly.
	if rng.Float64() < 0.7 {
		sc := 1 + (rng.Float64()*2-1)*0.04
		dx, dy := (rng.Float64()*2-1)*0.025*float64(s), (rng.Float64()*2-1)*0.025*float64(s)
		cx, cy := float64(s)/2, float64(s)/2
		src = src.warp(affine{A: sc, C: cx - sc*cx + dx, E: sc, F: cy - sc*cy + dy})
	}

	m := regionMask(rng, c.Points, r, s)
	alpha := float32(1)
	if !strong && rng.Float64() < 0.25 {
		alpha = float32(0.5 + 0.5*rng.Float64())
	}
	out := base
	for i, v := range m.V {
		a := v * alpha
		m.V[i] = a
		if a == 0 {
			continue
		}
		for k := 0; k < 3; k++ {
			j := 3*i + k
			out.Pix[j] = a*src.Pix[j] + (1-a)*base.Pix[j]
		}
	}
	return out, m
}

// drawRegion picks a region by regionWeights.
func drawRegion(rng *rand.Rand) Region {
	p := rng.Float64()
	for i, w := range regionWeights {
		if p < w {
			return Region(i)
		}
		p -= w
	}
	return WholeFace
}

// regionMask draws the blend mask of region r from the canvas landmarks
// pts: the landmark hull, scaled and its vertices jittered, then feathered.
func regionMask(rng *rand.Rand, pts []float32, r Region, s int) mask {
	pt := func(i int) [2]float64 { return [2]float64{float64(pts[2*i]), float64(pts[2*i+1])} }
	var poly [][2]float64
	switch r {
	case WholeFace:
		for _, i := range landmark.FaceOval {
			poly = append(poly, pt(i))
		}
	case InnerFace:
		for _, i := range landmark.IBUG68[17:] {
			poly = append(poly, pt(i))
		}
		for _, i := range landmark.IBUG68[3:14] {
			poly = append(poly, pt(i))
		}
	case LowerFace:
		// The jaw from cheek to cheek, closed by a line at a height between
		// the nose bridge and the nostrils.
		top := pt(landmark.IBUG68[28])[1] + rng.Float64()*(pt(landmark.IBUG68[33])[1]-pt(landmark.IBUG68[28])[1])
		jaw := landmark.IBUG68[1:16]
		for _, i := range jaw {
			if p := pt(i); p[1] > top {
				poly = append(poly, p)
			}
		}
		l, rr := pt(jaw[0]), pt(jaw[len(jaw)-1])
		poly = append(poly, [2]float64{l[0], top}, [2]float64{rr[0], top})
	}
	hull := convexHull(poly)
	var cx, cy float64
	for _, p := range hull {
		cx += p[0] / float64(len(hull))
		cy += p[1] / float64(len(hull))
	}
	sx, sy := 0.85+0.2*rng.Float64(), 0.85+0.2*rng.Float64()
	jit := 0.02 * float64(s)
	for i, p := range hull {
		hull[i] = [2]float64{cx + (p[0]-cx)*sx + (rng.Float64()*2-1)*jit, cy + (p[1]-cy)*sy + (rng.Float64()*2-1)*jit}
	}
	m := fillPolygon(convexHull(hull), s, s)
	return m.blur(0.5 + rng.Float64()*5)
}

// Degrade applies what happens to any face on its way to a detector, to
// reals and fakes alike, so that none of it becomes the cue: a mirror
// image, a lower resolution (a small face), JPEG compression, noise and a
// brightness change. It returns the InputSize window the network sees, at a
// random offset of up to jitter pixels from the centre, and the patch
// targets of that window: for each of the GridSize² patches, how much of
// the blend's seam (where 0 < weight < 1) it holds, from blend (nil: none).
func Degrade(rng *rand.Rand, m img, blend *mask, jitter int) (img, [facecnn.GridSize * facecnn.GridSize]float32) {
	flip := rng.Float64() < 0.5
	if flip {
		m = m.flipH()
	}
	if rng.Float64() < 0.5 {
		m = m.resample(0.3 + 0.7*rng.Float64())
	}
	if rng.Float64() < 0.3 {
		m = m.colour([3]float32{1, 1, 1}, [3]float32{}, float32(1+(rng.Float64()*2-1)*0.2), 1)
	}
	if rng.Float64() < 0.25 {
		m.noise(rng, 0.005+0.02*rng.Float64())
	}
	if rng.Float64() < 0.7 {
		m = m.jpeg(30 + rng.IntN(66))
	}
	dx, dy := 0, 0
	if jitter > 0 {
		dx, dy = rng.IntN(2*jitter+1)-jitter, rng.IntN(2*jitter+1)-jitter
	}
	x0, y0 := facecnn.Margin+dx, facecnn.Margin+dy
	return m.window(x0, y0, facecnn.InputSize), seamTargets(blend, flip, x0, y0)
}

// seamTargets pools the seam strength 4·w·(1−w) of a blend weight map over
// the patches of the window at (x0, y0): four times its mean over the
// patch, capped at 1, so that a patch a sharp seam crosses reads about
// 0.5 and one a feathered seam crosses up to 1.
func seamTargets(blend *mask, flip bool, x0, y0 int) [facecnn.GridSize * facecnn.GridSize]float32 {
	var t [facecnn.GridSize * facecnn.GridSize]float32
	if blend == nil {
		return t
	}
	cell := facecnn.InputSize / facecnn.GridSize
	for y := 0; y < facecnn.InputSize; y++ {
		sy := min(max(y+y0, 0), blend.H-1)
		for x := 0; x < facecnn.InputSize; x++ {
			sx := min(max(x+x0, 0), blend.W-1)
			if flip {
				sx = blend.W - 1 - sx
			}
			w := blend.V[sy*blend.W+sx]
			t[(y/cell)*facecnn.GridSize+x/cell] += 4 * w * (1 - w)
		}
	}
	for i := range t {
		t[i] = min(1, 4*t[i]/float32(cell*cell))
	}
	return t
}

// centre returns the InputSize window the detector sees at inference.
func centre(m img) img { return m.window(facecnn.Margin, facecnn.Margin, facecnn.InputSize) }
