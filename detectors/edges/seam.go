package edges

import (
	"image"
	"math"
	"sort"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors/internal/region"
	"github.com/trueframe/trueframe/media"
)

// Seam search. A pasted face ends where its mask ends: a step in colour and
// brightness that runs parallel to the face outline, inside it, at the same
// relative position all along the outline (the mask is the oval shrunk about
// its centroid). Real skin is continuous there; the natural edges near the
// outline (jaw against the background at about 1.0, the hairline, glasses,
// beards, brows) sit at varying scales or cover only part of the arc.
//
// A face pasted from another pose or head shape ends at no single scale: its
// mask is the donor's outline, which may lie well inside the target's and
// nearer it in some directions than others. The path search (pathSeam)
// follows such a seam as a closed path through the rays at a scale that
// changes slowly from ray to ray. Free to wander, a path would also trace a
// face framed by hair, so it counts a step only where both sides are
// skin-coloured: a seam joins skin to skin.
//
// Rays run from the oval's centroid c through seamRays points p of the
// outline; the sample at scale s is c + s·(p − c). The crop is resampled so
// the oval is seamFaceWidth pixels wide and blurred lightly, so faces of
// any size and coding are measured alike.
const (
	seamFaceWidth = 128
	seamBlur      = 1.0 // Gaussian sigma, normalised pixels
	seamRays      = 72
	seamSMin      = 0.50
	seamSMax      = 1.10
	seamStep      = 0.01
	// seamWinLo..seamWinHi are the scales searched for a seam; above it the
	// real outline (jaw, cheek against the background) dominates.
	seamWinLo, seamWinHi = 0.80, 0.97
	// seamJitter (in steps) is how far a ray's ridge may sit from the common
	// scale: landmarks of a pasted face are refitted and wobble.
	seamJitter = 2
	// seamFloor (Lab units per normalised pixel) keeps the ratio of a ridge
	// to its ray's baseline finite on flat, heavily coded skin.
	seamFloor = 1.0
	// seamMinRays is the least number of rays wholly inside the crop.
	seamMinRays = seamRays / 2
	// ridgeBaseFrom is where a ray's baseline (median derivative) starts
	// for the ridge ratio, as it was calibrated; the path's ratio takes the
	// baseline over the whole ray, the inner face included.
	ridgeBaseFrom = 0.66

	// pathScaleLo..pathScaleHi are the scales the path may take, and pathJump (in
	// steps) how far it may move between neighbouring rays (5° apart): a
	// donor outline bends more than the target's but not abruptly.
	pathScaleLo, pathScaleHi = 0.55, 0.97
	pathJump                 = 2
	// pathCap bounds one ray's part of the path's sum, so that a few very
	// strong edges (a brow, a glasses rim) cannot buy the path's course.
	pathCap = 4.0
	// pathSide (in steps) is how far either side of a step its colours are
	// read to decide whether it joins skin to skin.
	pathSide = 5
)

// seamResult is one frame's seam search.
type seamResult struct {
	ridge float64 // median over rays of the ridge ratio at the best scale
	scale float64 // that scale
	path  float64 // median skin-to-skin ridge ratio along the best closed path
	// pathPts and pathStrength are the path in crop pixels (before
	// working-scale resizing) and its ratio per ray (NaN off the crop).
	pathPts      []media.Point
	pathStrength []float64
	// For the heatmap: the outline at the best scale in crop pixels (before
	// working-scale resizing) and each ray's ridge ratio there (NaN when the
	// ray left the crop).
	pts      []media.Point
	strength []float64
}

// findSeam searches the crop cropR of img, with the face oval fp.Oval, for a
// seam. ok is false when too few rays fit in the crop.
func findSeam(img gocv.Mat, cropR image.Rectangle, oval []media.Point, ovalWidth float64) (seamResult, bool) {
	sn := seamFaceWidth / ovalWidth
	ws := image.Pt(int(math.Round(float64(cropR.Dx())*sn)), int(math.Round(float64(cropR.Dy())*sn)))
	if ws.X < 16 || ws.Y < 16 || cropR.Dx() < 2 || cropR.Dy() < 2 {
		return seamResult{}, false
	}
	crop := img.Region(cropR)
	defer crop.Close()
	norm := gocv.NewMat()
	defer norm.Close()
	interp := gocv.InterpolationLinear
	if sn < 1 {
		interp = gocv.InterpolationArea
	}
	gocv.Resize(crop, &norm, ws, 0, 0, interp)
	lab := gocv.NewMat()
	defer lab.Close()
	gocv.CvtColor(norm, &lab, gocv.ColorBGRToLab)
	gocv.GaussianBlur(lab, &lab, image.Pt(0, 0), seamBlur, seamBlur, gocv.BorderReplicate)
	data, err := lab.DataPtrUint8()
	if err != nil || lab.Cols() != ws.X || lab.Rows() != ws.Y || len(data) != 3*ws.X*ws.Y {
		return seamResult{}, false
	}
	w, h := ws.X, ws.Y

	// Ray end points: the oval and the midpoints of its sides, densified to
	// seamRays, in normalised crop pixels.
	org := media.Point{X: float64(cropR.Min.X), Y: float64(cropR.Min.Y)}
	ends := densify(oval, seamRays)
	c := region.Centroid(oval)
	cn := c.Sub(org).Scale(sn)

	nk := int(math.Round((seamSMax-seamSMin)/seamStep)) + 1
	kLo := int(math.Round((seamWinLo - seamSMin) / seamStep))
	kHi := int(math.Round((seamWinHi - seamSMin) / seamStep))
	ratio := make([][]float64, len(ends)) // nil for rays leaving the crop
	skinRatio := make([][]float64, len(ends))
	kBase := int(math.Round((ridgeBaseFrom - seamSMin) / seamStep))
	prof := make([][3]float64, nk)
	grad := make([]float64, nk)
	for j, p := range ends {
		pn := p.Sub(org).Scale(sn)
		d := pn.Sub(cn)
		rad := math.Hypot(d.X, d.Y)
		if rad < 8 {
			continue
		}
		ok := true
		for k := 0; k < nk && ok; k++ {
			s := seamSMin + float64(k)*seamStep
			prof[k], ok = bilinear3(data, w, h, cn.X+s*d.X, cn.Y+s*d.Y)
		}
		if !ok {
			continue
		}
		// Derivative along the ray (across the outline), per normalised
		// pixel, as the length of the Lab difference.
		dx := 2 * seamStep * rad
		for k := 1; k < nk-1; k++ {
			var sq float64
			for ch := 0; ch < 3; ch++ {
				v := prof[k+1][ch] - prof[k-1][ch]
				sq += v * v
			}
			grad[k] = math.Sqrt(sq) / dx
		}
		grad[0], grad[nk-1] = grad[1], grad[nk-2]
		base := medianCopy(grad[kBase:]) + seamFloor
		pathBase := medianCopy(grad) + seamFloor
		r, sr := make([]float64, nk), make([]float64, nk)
		for k := range r {
			r[k] = grad[k] / base
			sr[k] = grad[k] / pathBase
			if !skinLike(prof[max(0, k-pathSide)]) || !skinLike(prof[min(nk-1, k+pathSide)]) {
				sr[k] = math.Min(sr[k], 1)
			}
		}
		ratio[j], skinRatio[j] = r, sr
	}
	valid := 0
	for _, r := range ratio {
		if r != nil {
			valid++
		}
	}
	if valid < seamMinRays {
		return seamResult{}, false
	}
	best := seamResult{ridge: -1}
	col := make([]float64, 0, len(ends))
	for k := kLo; k <= kHi; k++ {
		col = col[:0]
		for _, r := range ratio {
			if r == nil {
				continue
			}
			col = append(col, localPeak(r, k, seamJitter))
		}
		if v := medianCopy(col); v > best.ridge {
			best.ridge, best.scale = v, seamSMin+float64(k)*seamStep
		}
	}
	pLo := int(math.Round((pathScaleLo - seamSMin) / seamStep))
	pHi := int(math.Round((pathScaleHi - seamSMin) / seamStep))
	path := pathSeam(skinRatio, pLo, pHi, pathJump)
	var along []float64
	best.pathPts = make([]media.Point, len(ends))
	best.pathStrength = make([]float64, len(ends))
	for j, p := range ends {
		k := path[j]
		best.pathPts[j] = c.Add(p.Sub(c).Scale(seamSMin + float64(k)*seamStep)).Sub(org)
		best.pathStrength[j] = math.NaN()
		if skinRatio[j] != nil {
			best.pathStrength[j] = skinRatio[j][k]
			along = append(along, skinRatio[j][k])
		}
	}
	best.path = medianCopy(along)
	kb := int(math.Round((best.scale - seamSMin) / seamStep))
	best.pts = make([]media.Point, len(ends))
	best.strength = make([]float64, len(ends))
	for j, p := range ends {
		best.pts[j] = c.Add(p.Sub(c).Scale(best.scale)).Sub(org)
		best.strength[j] = math.NaN()
		if ratio[j] != nil {
			best.strength[j] = localPeak(ratio[j], kb, seamJitter)
		}
	}
	return best, true
}

// densify returns n points spread evenly by arc length along the closed
// polygon poly.
func densify(poly []media.Point, n int) []media.Point {
	m := len(poly)
	cum := make([]float64, m+1)
	for i := 0; i < m; i++ {
		d := poly[(i+1)%m].Sub(poly[i])
		cum[i+1] = cum[i] + math.Hypot(d.X, d.Y)
	}
	out := make([]media.Point, 0, n)
	seg := 0
	for k := 0; k < n; k++ {
		at := cum[m] * float64(k) / float64(n)
		for seg < m-1 && cum[seg+1] < at {
			seg++
		}
		l := cum[seg+1] - cum[seg]
		f := 0.0
		if l > 0 {
			f = (at - cum[seg]) / l
		}
		a, b := poly[seg], poly[(seg+1)%m]
		out = append(out, a.Add(b.Sub(a).Scale(f)))
	}
	return out
}

// bilinear3 samples a 3-channel 8-bit image at (x, y); ok is false outside.
func bilinear3(d []uint8, w, h int, x, y float64) ([3]float64, bool) {
	if !(x >= 0 && y >= 0 && x <= float64(w-1) && y <= float64(h-1)) {
		return [3]float64{}, false
	}
	x0, y0 := min(int(x), w-2), min(int(y), h-2)
	fx, fy := x-float64(x0), y-float64(y0)
	i := 3 * (y0*w + x0)
	var out [3]float64
	for ch := 0; ch < 3; ch++ {
		a := float64(d[i+ch])*(1-fx) + float64(d[i+3+ch])*fx
		b := float64(d[i+3*w+ch])*(1-fx) + float64(d[i+3*w+3+ch])*fx
		out[ch] = a*(1-fy) + b*fy
	}
	return out, true
}

// localPeak returns the highest local maximum of r within jit of k, or 0
// when there is none: the rising flank of the real outline's edge just
// beyond the search window is not a seam.
func localPeak(r []float64, k, jit int) float64 {
	v := 0.0
	for i := max(1, k-jit); i <= min(len(r)-2, k+jit); i++ {
		if r[i] >= r[i-1] && r[i] >= r[i+1] {
			v = math.Max(v, r[i])
		}
	}
	return v
}

// medianCopy returns the median of vs without reordering it.
func medianCopy(vs []float64) float64 {
	c := append([]float64(nil), vs...)
	sort.Float64s(c)
	return region.Median(c)
}

// pathSeam returns, as a scale index per ray, the closed path through the
// rays' ratios with the largest sum of ratios (each capped at pathCap) that
// stays within [kLo,kHi] and moves at most jump indices between neighbouring
// rays, the last ray included. Rays off the crop (nil) add nothing. It is a
// dynamic programme over the rays, run once per starting scale to close the
// loop: 72 rays × 43 scales² × 5 moves, well under a millisecond.
func pathSeam(ratio [][]float64, kLo, kHi, jump int) []int {
	n, nk := len(ratio), kHi-kLo+1
	val := func(j, k int) float64 {
		if ratio[j] == nil {
			return 0
		}
		return math.Min(pathCap, ratio[j][kLo+k])
	}
	from := make([][]int, n)
	for j := range from {
		from[j] = make([]int, nk)
	}
	prev, cur := make([]float64, nk), make([]float64, nk)
	best, bestSum := make([]int, n), math.Inf(-1)
	for start := 0; start < nk; start++ {
		for k := range prev {
			prev[k] = math.Inf(-1)
		}
		prev[start] = val(0, start)
		for j := 1; j < n; j++ {
			for k := 0; k < nk; k++ {
				bv, bk := math.Inf(-1), -1
				for q := max(0, k-jump); q <= min(nk-1, k+jump); q++ {
					if prev[q] > bv {
						bv, bk = prev[q], q
					}
				}
				cur[k], from[j][k] = bv+val(j, k), bk
			}
			prev, cur = cur, prev
		}
		end := -1
		for k := max(0, start-jump); k <= min(nk-1, start+jump); k++ {
			if prev[k] > bestSum {
				bestSum, end = prev[k], k
			}
		}
		if end < 0 {
			continue
		}
		best[n-1] = end
		for j := n - 1; j > 0; j-- {
			best[j-1] = from[j][best[j]]
		}
	}
	for j := range best {
		best[j] += kLo
	}
	return best
}

// skinLike reports whether an 8-bit OpenCV Lab colour has the chroma and hue
// of skin, of any tone: reddish to yellowish and not grey. Black or grey
// hair, grey and blue backgrounds and dark beards fail; blond hair may pass,
// which only lets a path follow a blond hairline.
func skinLike(lab [3]float64) bool {
	a, b := lab[1]-128, lab[2]-128
	hue := math.Atan2(b, a) * 180 / math.Pi
	return math.Hypot(a, b) >= 6 && hue >= 10 && hue <= 100
}
