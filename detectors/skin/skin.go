package skin

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/internal/region"
	"github.com/trueframe/trueframe/media"
)

// Name is the detector name reported in results.
const Name = "skin_tone"

// Options tunes the detector. The zero value of a field means its default.
type Options struct {
	// Interval is the least time between analysed frames (default 200 ms,
	// i.e. at most 5 frames per second).
	Interval time.Duration
	// FrameStride is the least frame gap between analysed frames when the
	// timestamps do not advance (default 5).
	FrameStride int
	// WorkWidth is the face-oval width in pixels the crop is resized down to
	// before measuring (default 128); colour means need no more.
	WorkWidth int
	// MinFaceWidth is the narrowest face oval, in image pixels, analysed
	// (default 40).
	MinFaceWidth float64
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	return Options{Interval: 200 * time.Millisecond, FrameStride: 5, WorkWidth: 128, MinFaceWidth: 40}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Interval > 0 {
		d.Interval = o.Interval
	}
	if o.FrameStride > 0 {
		d.FrameStride = o.FrameStride
	}
	if o.WorkWidth > 0 {
		d.WorkWidth = o.WorkWidth
	}
	if o.MinFaceWidth > 0 {
		d.MinFaceWidth = o.MinFaceWidth
	}
	return d
}

// Score mapping. Each measure is mapped linearly onto [0,1] between its lo
// and hi value and the parts are combined as a noisy OR with the weights
// below, so no single measure can reach more than its weight. The ranges
// are wide on purpose: real faces differ from their necks (shadow, make-up,
// a flushed face) by a few units, and real heads turning in a lit room do
// change colour a little against the background.
const (
	chromaLo, chromaHi   = 6.0, 16.0 // chroma ΔE inner face vs. neck/jaw skin
	borderLo, borderHi   = 4.0, 10.0 // chroma ΔE inner face vs. border ring
	flickerLo, flickerHi = 1.5, 4.0  // flicker_ratio
	chromaWeight         = 0.6
	borderWeight         = 0.6
	flickerWeight        = 0.6

	// flickerFloor (chroma units) is added to the scene's own variation so
	// that a static scene does not turn measurement noise into a ratio.
	flickerFloor = 1.0
	// lumWeight scales the change of log lightness in the flicker vector
	// (30 ≈ 0.3 units per percent), less than chroma: shading on a moving
	// face changes its brightness much more than its colour.
	lumWeight = 30.0
	// minPixels is the least number of working-scale pixels a region needs.
	minPixels = 60
	// minPairs is the least number of frame pairs the flicker measure needs.
	minPairs = 3
)

// Detector measures colour consistency between a face and the skin around
// it. It is safe for concurrent use; its TrackDetectors are not.
type Detector struct{ opts Options }

// New returns a Detector; nil opts means DefaultOptions.
func New(opts *Options) *Detector {
	var o Options
	if opts != nil {
		o = *opts
	}
	return &Detector{opts: o.withDefaults()}
}

// Version is the version of the detector's code: bump it whenever a
// change moves its scores, so that cached evaluation results are redone.
const Version = "2026-12-06"

// Version returns Version.
func (d *Detector) Version() string { return Version }

// Name returns "skin_tone".
func (d *Detector) Name() string { return Name }

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{opts: d.opts, track: track, s: region.Sampler{Interval: d.opts.Interval, Stride: d.opts.FrameStride}}
}

// lab is a mean colour: L* in [0,100], a* and b*.
type lab struct{ L, A, B float64 }

// norm returns the shading-normalised chromaticity of c. Scaling linear
// light by k scales X, Y, Z by k, hence L*+16 and a*, b* (cube roots) by
// k^(1/3) alike; dividing by L*+16 removes that, and multiplying by 76 (the
// value for L* = 60) keeps the units of a* and b*.
func (c lab) norm() (a, b float64) {
	k := 76 / (c.L + 16)
	return c.A * k, c.B * k
}

// chromaDist is the distance between the normalised chromaticities of c and o.
func chromaDist(c, o lab) float64 {
	a1, b1 := c.norm()
	a2, b2 := o.norm()
	return math.Hypot(a1-a2, b1-b2)
}

// sample is what one analysed frame leaves behind.
type sample struct {
	frame     int
	t         time.Duration
	box       media.Rect
	faceWidth float64
	inner     lab
	surround  lab
	hasSur    bool
	chroma    float64 // NaN when the neck/jaw region was too small
	border    float64 // NaN when the ring was too small
	score     float64
}

type trackDetector struct {
	opts    Options
	track   int
	s       region.Sampler
	samples []sample
}

// Observe analyses f if it is due. Unusable frames (empty image, bad
// landmarks, a face off the image or too small) are counted and skipped,
// not reported as errors.
func (t *trackDetector) Observe(ctx context.Context, f *detectors.FaceFrame) error {
	return t.s.Observe(ctx, f, func(f *detectors.FaceFrame) bool {
		smp, ok := t.analyse(f)
		if ok {
			t.samples = append(t.samples, smp)
		}
		return ok
	})
}

// analyse measures one frame.
func (t *trackDetector) analyse(f *detectors.FaceFrame) (sample, bool) {
	if media.CheckBGR(f.Image) != nil {
		return sample{}, false
	}
	fp, ok := region.ReadPolys(f.Landmarks)
	if !ok {
		return sample{}, false
	}
	ob := media.BoundingRect(fp.Oval)
	if ob.W < t.opts.MinFaceWidth || ob.H < t.opts.MinFaceWidth {
		return sample{}, false
	}
	bounds := image.Rect(0, 0, f.Image.Cols(), f.Image.Rows())
	if ob.Intersect(media.Rect{W: float64(bounds.Dx()), H: float64(bounds.Dy())}).Area() < 0.6*ob.Area() {
		return sample{}, false
	}
	// The crop reaches below the jaw for the neck and to the sides for the
	// background the flicker measure compares against.
	cropR := media.Rect{X: ob.X - 0.35*ob.W, Y: ob.Y - 0.1*ob.H, W: 1.7 * ob.W, H: 1.55 * ob.H}.Image(bounds)
	scale := math.Min(1, float64(t.opts.WorkWidth)/ob.W)
	ws := image.Pt(int(float64(cropR.Dx())*scale), int(float64(cropR.Dy())*scale))
	if ws.X < 8 || ws.Y < 8 {
		return sample{}, false
	}
	crop := f.Image.Region(cropR)
	defer crop.Close()
	work := gocv.NewMat()
	defer work.Close()
	if scale < 1 {
		gocv.Resize(crop, &work, ws, 0, 0, gocv.InterpolationArea)
	} else {
		crop.CopyTo(&work)
		ws = image.Pt(work.Cols(), work.Rows())
	}
	labM := gocv.NewMat()
	defer labM.Close()
	gocv.CvtColor(work, &labM, gocv.ColorBGRToLab)
	ycc := gocv.NewMat()
	defer ycc.Close()
	gocv.CvtColor(work, &ycc, gocv.ColorBGRToYCrCb)

	// One label image: later fills overwrite earlier ones. The face is cut
	// into rings by the oval scaled about its centroid (ringScales), so a
	// blend seam shows up as a step in the radial colour profile.
	labels := gocv.NewMatWithSize(ws.Y, ws.X, gocv.MatTypeCV8U)
	defer labels.Close()
	labels.SetTo(gocv.NewScalar(float64(lblSurround), 0, 0, 0))
	org := cropR.Min
	c := fp.Centroid
	region.Fill(&labels, region.Scaled(fp.Oval, c, 1.30), org, scale, lblNeck)
	region.Fill(&labels, region.Scaled(fp.Oval, c, 1.04), org, scale, lblNone)
	for k, s := range ringScales {
		region.Fill(&labels, region.Scaled(fp.Oval, c, s), org, scale, lblRing0+uint8(k))
	}
	for _, poly := range fp.Features {
		region.Fill(&labels, region.Scaled(poly, region.Centroid(poly), 1.3), org, scale, lblNone)
	}

	ld, err1 := labels.DataPtrUint8()
	cd, err2 := labM.DataPtrUint8()
	yd, err3 := ycc.DataPtrUint8()
	if err1 != nil || err2 != nil || err3 != nil {
		return sample{}, false
	}
	// The neck/jaw band only counts below the face centre (the sides of the
	// jaw and under the chin), where hair is rarer.
	midY := int((c.Y - float64(org.Y)) * scale)
	var hist [lblCount]colourHist
	for i, lb := range ld {
		if lb == lblNone {
			continue
		}
		switch {
		case lb == lblNeck:
			if !isSkin(yd[3*i], yd[3*i+1], yd[3*i+2]) {
				continue
			}
		case lb != lblSurround:
			// The face rings lie inside the fitted outline, so they need
			// no skin test, only one that drops hair, glasses and shadow:
			// the skin box would discard a face pasted in an unnatural
			// tone, the very thing to measure.
			if !isFaceColour(yd[3*i], yd[3*i+1], yd[3*i+2]) {
				continue
			}
		}
		if lb == lblNeck && i/ws.X < midY {
			continue
		}
		hist[lb].add(cd[3*i], cd[3*i+1], cd[3*i+2])
	}
	var innerH colourHist
	for lb := lblRing0 + innerFrom; lb < lblRing0+uint8(len(ringScales)); lb++ {
		innerH.merge(&hist[lb])
	}
	inner, ok := innerH.median()
	if !ok {
		return sample{}, false
	}
	smp := sample{frame: f.Frame, t: f.Time, box: f.Box, faceWidth: ob.W, inner: inner, chroma: math.NaN(), border: math.NaN()}
	if smp.box.Area() == 0 {
		smp.box = ob
	}
	if neck, ok := hist[lblNeck].median(); ok {
		smp.chroma = chromaDist(inner, neck)
	}
	// border: the largest chroma step between rings two apart (0.1 of the
	// oval's size) from the outline inwards.
	for k := 0; k+2 <= int(innerFrom); k++ {
		a, ok1 := hist[lblRing0+uint8(k)].median()
		b, ok2 := hist[lblRing0+uint8(k+2)].median()
		if ok1 && ok2 {
			d := chromaDist(a, b)
			if math.IsNaN(smp.border) || d > smp.border {
				smp.border = d
			}
		}
	}
	// The surround is not skin-filtered and its mean follows the scene's
	// lighting better than a median would.
	smp.surround, smp.hasSur = hist[lblSurround].mean()
	smp.score = frameScore(smp.chroma, smp.border)
	return smp, true
}

// ringScales are the oval scales that bound the face rings, outermost
// first; rings from innerFrom inwards (scale < 0.8) make up the inner face.
var ringScales = []float64{1.00, 0.95, 0.90, 0.85, 0.80, 0.70, 0.55}

const innerFrom = 4

// colourHist holds 8-bit Lab histograms of a region.
type colourHist struct {
	l, a, b [256]int32
	sum     [3]float64
	n       int
}

func (h *colourHist) add(l, a, b uint8) {
	h.l[l]++
	h.a[a]++
	h.b[b]++
	h.sum[0] += float64(l)
	h.sum[1] += float64(a)
	h.sum[2] += float64(b)
	h.n++
}

func (h *colourHist) merge(o *colourHist) {
	for i := range h.l {
		h.l[i] += o.l[i]
		h.a[i] += o.a[i]
		h.b[i] += o.b[i]
	}
	for k := range h.sum {
		h.sum[k] += o.sum[k]
	}
	h.n += o.n
}

// median returns the per-channel median colour, robust to the background
// or hair pixels that pass the skin test; ok is false below minPixels.
func (h *colourHist) median() (lab, bool) {
	if h.n < minPixels {
		return lab{}, false
	}
	med := func(hist *[256]int32) float64 {
		// Interpolate inside the median bin so that small shifts register.
		half := float64(h.n) / 2
		var cum float64
		for v, c := range hist {
			if c > 0 && cum+float64(c) >= half {
				return float64(v) - 0.5 + (half-cum)/float64(c)
			}
			cum += float64(c)
		}
		return 255
	}
	return fromLab8(med(&h.l), med(&h.a), med(&h.b)), true
}

func (h *colourHist) mean() (lab, bool) {
	if h.n < minPixels {
		return lab{}, false
	}
	n := float64(h.n)
	return fromLab8(h.sum[0]/n, h.sum[1]/n, h.sum[2]/n), true
}

// fromLab8 converts OpenCV's 8-bit Lab (L = L*·255/100, a = a*+128,
// b = b*+128).
func fromLab8(l, a, b float64) lab { return lab{L: l * 100 / 255, A: a - 128, B: b - 128} }

// Region labels.
const (
	lblNone uint8 = iota
	lblNeck
	lblSurround
	lblRing0 // ringScales[k] is filled with lblRing0+k
	lblCount = lblRing0 + 7
)

// isSkin is a loose skin-likelihood test in 8-bit YCrCb (the classic
// Cr 133–173, Cb 77–127 box), also rejecting very dark pixels.
func isSkin(y, cr, cb uint8) bool {
	return y > 40 && cr >= 133 && cr <= 173 && cb >= 77 && cb <= 127
}

// isFaceColour is the test for pixels inside the face outline: not very
// dark, not grey (CrCb at least 6 from neutral) and on the red side of
// neutral (Cr > 128), which any skin tone is and blue or green is not, but
// with no bounds on how saturated or how yellow.
func isFaceColour(y, cr, cb uint8) bool {
	return y > 40 && cr > 128 && math.Hypot(float64(cr)-128, float64(cb)-128) >= 6
}

func frameScore(chroma, border float64) float64 {
	return 1 - (1-chromaWeight*region.Ramp(chroma, chromaLo, chromaHi))*(1-borderWeight*region.Ramp(border, borderLo, borderHi))
}

// flicker returns the frame-to-frame jitter of the face's colour relative to
// its surroundings, the surroundings' own jitter, and the number of pairs
// used. Only consecutive samples at most gap apart are paired.
func flicker(samples []sample, gap time.Duration) (face, scene float64, pairs int, worst int) {
	vec := func(c lab) [3]float64 {
		a, b := c.norm()
		return [3]float64{lumWeight * math.Log(c.L+16), a, b}
	}
	worst = -1
	best := -1.0
	for i := 1; i < len(samples); i++ {
		p, q := samples[i-1], samples[i]
		if !p.hasSur || !q.hasSur || q.t-p.t > gap || q.t < p.t {
			continue
		}
		fp, fq, sp, sq := vec(p.inner), vec(q.inner), vec(p.surround), vec(q.surround)
		var df, ds float64
		for k := 0; k < 3; k++ {
			d := (fq[k] - fp[k]) - (sq[k] - sp[k])
			df += d * d
			ds += (sq[k] - sp[k]) * (sq[k] - sp[k])
		}
		face += df
		scene += ds
		pairs++
		if df > best {
			best, worst = df, i
		}
	}
	if pairs == 0 {
		return math.NaN(), math.NaN(), 0, -1
	}
	return math.Sqrt(face / float64(pairs)), math.Sqrt(scene / float64(pairs)), pairs, worst
}

// Result summarises the track.
func (t *trackDetector) Result(ctx context.Context, info detectors.TrackInfo) (detectors.Result, error) {
	if err := ctx.Err(); err != nil {
		return detectors.Result{}, err
	}
	res := detectors.Result{
		Detector:     Name,
		Measurements: map[string]float64{"frames_used": float64(len(t.samples)), "frames_skipped": float64(t.s.Skipped)},
	}
	if len(t.samples) == 0 {
		res.Score, res.Confidence = 0.5, 0
		res.Explanation = "No usable face frames: no opinion on skin-tone consistency."
		return res, nil
	}
	var chroma, border, widths []float64
	for _, s := range t.samples {
		if !math.IsNaN(s.chroma) {
			chroma = append(chroma, s.chroma)
		}
		if !math.IsNaN(s.border) {
			border = append(border, s.border)
		}
		widths = append(widths, s.faceWidth)
	}
	mChroma, mBorder := region.Median(chroma), region.Median(border)
	faceJ, sceneJ, pairs, worst := flicker(t.samples, 3*t.opts.Interval)
	ratio := math.NaN()
	if pairs >= minPairs {
		ratio = faceJ / (sceneJ + flickerFloor)
	}
	sc, sb, sf := region.Ramp(mChroma, chromaLo, chromaHi), region.Ramp(mBorder, borderLo, borderHi), region.Ramp(ratio, flickerLo, flickerHi)
	res.Score = detectors.Clamp01(1 - (1-chromaWeight*sc)*(1-borderWeight*sb)*(1-flickerWeight*sf))

	n := float64(len(t.samples))
	neckFrac := float64(len(chroma)) / n
	res.Confidence = detectors.Clamp01(math.Min(1, n/10) *
		(0.4 + 0.6*region.Ramp(region.Median(widths), t.opts.MinFaceWidth, 3*t.opts.MinFaceWidth)) *
		(0.4 + 0.6*neckFrac))

	m := res.Measurements
	put := func(k string, v float64) {
		if !math.IsNaN(v) {
			m[k] = v
		}
	}
	put("chroma_delta_e", mChroma)
	put("border_delta_e", mBorder)
	put("flicker_ratio", ratio)
	put("face_jitter", faceJ)
	put("scene_jitter", sceneJ)
	m["flicker_pairs"] = float64(pairs)
	m["neck_frames"] = float64(len(chroma))

	res.Explanation = explain(res.Score, mChroma, mBorder, ratio)
	res.Evidence = t.evidence(worst, sf)
	return res, nil
}

func explain(score, chroma, border, ratio float64) string {
	parts := fmt.Sprintf("face vs neck chroma ΔE %s, face vs border ΔE %s, colour flicker %s× the scene's",
		fmtNum(chroma), fmtNum(border), fmtNum(ratio))
	switch {
	case score >= 0.5:
		return "Face colour is inconsistent with the surrounding skin (" + parts + ")."
	case score >= 0.2:
		return "Face colour differs somewhat from the surrounding skin (" + parts + ")."
	}
	return "Face colour is consistent with the surrounding skin (" + parts + ")."
}

func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", v)
}

// evidence returns the (up to) three frames with the largest inconsistency
// and, when flicker counts, the pair of frames with the largest jump.
func (t *trackDetector) evidence(worstPair int, flickerScore float64) []detectors.Evidence {
	idx := make([]int, len(t.samples))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return t.samples[idx[a]].score > t.samples[idx[b]].score })
	var ev []detectors.Evidence
	for _, i := range idx[:min(3, len(idx))] {
		s := t.samples[i]
		box := s.box
		ev = append(ev, detectors.Evidence{
			Kind: "frame", Start: s.t.Seconds(), End: s.t.Seconds(), Frame: s.frame, Region: &box,
			Score: s.score,
			Note:  fmt.Sprintf("chroma ΔE face vs neck %s, face vs border %s", fmtNum(s.chroma), fmtNum(s.border)),
		})
	}
	if worstPair > 0 && flickerScore > 0 {
		p, q := t.samples[worstPair-1], t.samples[worstPair]
		box := q.box
		ev = append(ev, detectors.Evidence{
			Kind: "interval", Start: p.t.Seconds(), End: q.t.Seconds(), Frame: q.frame, Region: &box,
			Score: flickerScore,
			Note:  "largest change of face colour not matched by the surroundings",
		})
	}
	return ev
}
