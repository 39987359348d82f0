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
// Rays run from the oval's centroid c through seamRays points p of the
// outline; the sample at scale s is c + s·(p − c). The crop is resampled so
// the oval is seamFaceWidth pixels wide and blurred lightly, so faces of
// any size and coding are measured alike.
const (
	seamFaceWidth = 128
	seamBlur      = 1.0 // Gaussian sigma, normalised pixels
	seamRays      = 72
	seamSMin      = 0.66
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
)

// seamResult is one frame's seam search.
type seamResult struct {
	ridge float64 // median over rays of the ridge ratio at the best scale
	scale float64 // that scale
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
		base := medianCopy(grad) + seamFloor
		r := make([]float64, nk)
		for k := range r {
			r[k] = grad[k] / base
		}
		ratio[j] = r
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
