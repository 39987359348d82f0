package edges

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/internal/region"
	"github.com/trueframe/trueframe/media"
)

// Name is the detector name reported in results.
const Name = "edges"

// Options tunes the detector. The zero value of a field means its default.
type Options struct {
	// Interval is the least time between analysed frames (default 200 ms,
	// i.e. at most 5 frames per second).
	Interval time.Duration
	// FrameStride is the least frame gap between analysed frames when the
	// timestamps do not advance (default 5).
	FrameStride int
	// WorkWidth caps the face-oval width in pixels the crop is analysed at
	// (default 192); larger faces are shrunk, smaller ones are not enlarged.
	WorkWidth int
	// MinFaceWidth is the narrowest face oval, in image pixels, analysed
	// (default 48).
	MinFaceWidth float64
	// BandFrac is the half-width of the band around the outline as a
	// fraction of the face width (default 0.05).
	BandFrac float64
}

// DefaultOptions returns the defaults described on Options.
func DefaultOptions() Options {
	return Options{Interval: 200 * time.Millisecond, FrameStride: 5, WorkWidth: 192, MinFaceWidth: 48, BandFrac: 0.05}
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
	if o.BandFrac > 0 {
		d.BandFrac = o.BandFrac
	}
	return d
}

// Score mapping: each measure is ramped linearly onto [0,1] between lo and
// hi and the parts are combined as a noisy OR with these weights. Real
// faces are smoother than hair or a busy background and video coding
// flattens skin, so only large departures count.
const (
	noiseLo, noiseHi = 0.405, 1.099 // |ln noise_ratio|: ratio 1.5 → 3 either way
	sharpLo, sharpHi = 1.609, 3.219 // -ln sharpness_ratio: inside 5× → 25× smoother
	seamLo, seamHi   = 1.5, 3.0     // seam_strength
	noiseWeight      = 0.25
	sharpWeight      = 0.1
	seamWeight       = 0.2
	ridgeLo, ridgeHi = 1.5, 2.5
	ridgeWeight      = 0.9
	// The path search finds some closed skin-to-skin edge on any face (real
	// portraits and GRID clips: up to 1.9), a pasted face's seam at 2.4–3.9.
	pathLo, pathHi = 2.1, 3.1
	pathWeight     = 0.9

	// minPixels is the least number of working pixels per region.
	minPixels = 80
	// noiseEps (grey levels) keeps the log of a local noise level finite on
	// perfectly flat (synthetic or heavily compressed) areas.
	noiseEps = 0.5
)

// Detector looks for a blending boundary along the face outline. It is safe
// for concurrent use; its TrackDetectors are not.
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

// Name returns "edges".
func (d *Detector) Name() string { return Name }

// NewTrack returns an analyser for one face track.
func (d *Detector) NewTrack(track int) detectors.TrackDetector {
	return &trackDetector{opts: d.opts, track: track, s: region.Sampler{Interval: d.opts.Interval, Stride: d.opts.FrameStride}, best: -1}
}

// sample is what one analysed frame leaves behind.
type sample struct {
	frame     int
	t         time.Duration
	faceWidth float64
	coverage  float64 // share of the oval's box inside the frame
	noise     float64 // noise_ratio inside/outside
	sharp     float64 // sharpness_ratio inside/outside
	seam      float64 // seam_strength
	ridge     float64 // seam_ridge
	ridgeAt   float64 // seam_scale
	path      float64 // seam_path
	score     float64
}

type trackDetector struct {
	opts    Options
	track   int
	s       region.Sampler
	samples []sample

	// The heatmap of the highest-scoring frame so far, PNG-encoded.
	best       float64
	bestFrame  int
	bestTime   time.Duration
	bestRegion media.Rect
	heatmap    []byte
}

// Observe analyses f if it is due. Unusable frames (empty image, bad
// landmarks, a face off the image or too small) are counted and skipped,
// not reported as errors.
func (t *trackDetector) Observe(ctx context.Context, f *detectors.FaceFrame) error {
	return t.s.Observe(ctx, f, t.analyse)
}

// Region labels of the working crop.
const (
	rNone = iota
	rInside
	rBand
	rOutside
	rCount
)

// frameMaps holds one frame's working images; Close frees them.
type frameMaps struct {
	work   gocv.Mat // BGR crop at working scale
	gray   []uint8
	med    []uint8 // 3×3 median of gray
	w, h   int
	region []uint8   // r* label per pixel
	dist   []float32 // signed distance to the outline, negative inside
	logSig []float32 // ln(local noise RMS + noiseEps)
	band   float64   // band half-width in working pixels
	oval   []image.Point
}

func (m *frameMaps) Close() { m.work.Close() }

// analyse measures one frame and reports whether it was usable.
func (t *trackDetector) analyse(f *detectors.FaceFrame) bool {
	if media.CheckBGR(f.Image) != nil {
		return false
	}
	fp, ok := region.ReadPolys(f.Landmarks)
	if !ok {
		return false
	}
	ob := media.BoundingRect(fp.Oval)
	if ob.W < t.opts.MinFaceWidth || ob.H < t.opts.MinFaceWidth {
		return false
	}
	bounds := image.Rect(0, 0, f.Image.Cols(), f.Image.Rows())
	coverage := ob.Intersect(media.Rect{W: float64(bounds.Dx()), H: float64(bounds.Dy())}).Area() / ob.Area()
	if coverage < 0.6 {
		return false
	}
	cropR := media.Rect{X: ob.X - 0.3*ob.W, Y: ob.Y - 0.3*ob.H, W: 1.6 * ob.W, H: 1.6 * ob.H}.Image(bounds)
	scale := math.Min(1, float64(t.opts.WorkWidth)/ob.W)
	m, ok := buildMaps(f.Image, cropR, fp, scale, t.opts.BandFrac*ob.W*scale)
	if !ok {
		return false
	}
	defer m.Close()
	st, ok := m.stats()
	if !ok {
		return false
	}
	sr, ok := findSeam(f.Image, cropR, fp.Oval, ob.W)
	if !ok {
		return false
	}
	smp := sample{frame: f.Frame, t: f.Time, faceWidth: ob.W, coverage: coverage,
		noise: st.noiseRatio, sharp: st.sharpRatio, seam: st.seam, ridge: sr.ridge, ridgeAt: sr.scale, path: sr.path}
	smp.score = score(smp.noise, smp.sharp, smp.seam, smp.ridge, smp.path)
	t.samples = append(t.samples, smp)
	if smp.score > t.best {
		// Encoding only when the best frame improves keeps one image, not one
		// per frame.
		if png, err := m.heatmapPNG(st.refLogSig, sr, scale); err == nil {
			t.best, t.heatmap = smp.score, png
			t.bestFrame, t.bestTime = f.Frame, f.Time
			t.bestRegion = media.Rect{X: float64(cropR.Min.X), Y: float64(cropR.Min.Y), W: float64(cropR.Dx()), H: float64(cropR.Dy())}
		}
	}
	return true
}

// buildMaps cuts and scales the crop and computes the per-pixel maps.
func buildMaps(img gocv.Mat, cropR image.Rectangle, fp region.Polys, scale, band float64) (*frameMaps, bool) {
	ws := image.Pt(int(float64(cropR.Dx())*scale), int(float64(cropR.Dy())*scale))
	if ws.X < 16 || ws.Y < 16 {
		return nil, false
	}
	m := &frameMaps{work: gocv.NewMat(), band: math.Max(2, band)}
	crop := img.Region(cropR)
	defer crop.Close()
	if scale < 1 {
		gocv.Resize(crop, &m.work, ws, 0, 0, gocv.InterpolationArea)
	} else {
		crop.CopyTo(&m.work)
	}
	m.w, m.h = m.work.Cols(), m.work.Rows()
	grayM := gocv.NewMat()
	defer grayM.Close()
	gocv.CvtColor(m.work, &grayM, gocv.ColorBGRToGray)
	med := gocv.NewMat()
	defer med.Close()
	gocv.MedianBlur(grayM, &med, 3)

	inMask := gocv.NewMatWithSize(m.h, m.w, gocv.MatTypeCV8U)
	defer inMask.Close()
	inMask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	m.oval = toCrop(fp.Oval, cropR.Min, scale)
	fillPts(&inMask, m.oval, 255)
	outMask := gocv.NewMat()
	defer outMask.Close()
	gocv.BitwiseNot(inMask, &outMask)
	featMask := gocv.NewMatWithSize(m.h, m.w, gocv.MatTypeCV8U)
	defer featMask.Close()
	featMask.SetTo(gocv.NewScalar(0, 0, 0, 0))
	for _, poly := range fp.Features {
		fillPts(&featMask, toCrop(region.Scaled(poly, region.Centroid(poly), 1.3), cropR.Min, scale), 255)
	}
	dIn, dOut, labels := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer dIn.Close()
	defer dOut.Close()
	defer labels.Close()
	gocv.DistanceTransform(inMask, &dIn, &labels, gocv.DistL2, gocv.DistanceTransformMasks(3), gocv.DistanceLabelCComp)
	gocv.DistanceTransform(outMask, &dOut, &labels, gocv.DistL2, gocv.DistanceTransformMasks(3), gocv.DistanceLabelCComp)

	g, err1 := grayM.DataPtrUint8()
	md, err2 := med.DataPtrUint8()
	in, err3 := inMask.DataPtrUint8()
	fm, err4 := featMask.DataPtrUint8()
	di, err5 := dIn.DataPtrFloat32()
	do, err6 := dOut.DataPtrFloat32()
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if err != nil {
			m.Close()
			return nil, false
		}
	}
	n := m.w * m.h
	m.gray = append([]uint8(nil), g...)
	m.med = append([]uint8(nil), md...)
	m.region = make([]uint8, n)
	m.dist = make([]float32, n)
	sq := make([]float32, n)
	w := float32(m.band)
	for i := 0; i < n; i++ {
		d := do[i]
		if in[i] != 0 {
			d = -di[i]
		}
		m.dist[i] = d
		r := float32(g[i]) - float32(md[i])
		sq[i] = r * r
		switch {
		case d >= -w && d <= w:
			m.region[i] = rBand
		case d < -w && d >= -3*w && fm[i] == 0:
			m.region[i] = rInside
		case d > w && d <= 3*w:
			m.region[i] = rOutside
		}
	}
	// Local noise: RMS of the median residual over 5×5.
	box := boxMean(sq, m.w, m.h, 2)
	m.logSig = make([]float32, n)
	for i, v := range box {
		m.logSig[i] = float32(math.Log(math.Sqrt(float64(v)) + noiseEps))
	}
	return m, true
}

func toCrop(poly []media.Point, org image.Point, scale float64) []image.Point {
	pts := make([]image.Point, len(poly))
	for i, p := range poly {
		pts[i] = image.Pt(int(math.Round((p.X-float64(org.X))*scale)), int(math.Round((p.Y-float64(org.Y))*scale)))
	}
	return pts
}

func fillPts(dst *gocv.Mat, pts []image.Point, v uint8) {
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.FillPoly(dst, pv, color.RGBA{R: v, G: v, B: v, A: 255})
}

// boxMean returns the mean of v over the (2r+1)² window around each pixel,
// with the window clipped at the borders.
func boxMean(v []float32, w, h, r int) []float32 {
	tmp := make([]float32, len(v))
	out := make([]float32, len(v))
	for y := 0; y < h; y++ {
		row := v[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s float32
			x0, x1 := max(0, x-r), min(w-1, x+r)
			for k := x0; k <= x1; k++ {
				s += row[k]
			}
			tmp[y*w+x] = s / float32(x1-x0+1)
		}
	}
	for y := 0; y < h; y++ {
		y0, y1 := max(0, y-r), min(h-1, y+r)
		for x := 0; x < w; x++ {
			var s float32
			for k := y0; k <= y1; k++ {
				s += tmp[k*w+x]
			}
			out[y*w+x] = s / float32(y1-y0+1)
		}
	}
	return out
}

// frameStats are one frame's region comparisons.
type frameStats struct {
	noiseRatio, sharpRatio, seam float64
	refLogSig                    float64 // mean log local noise outside
}

// stats compares the inside, band and outside regions.
func (m *frameMaps) stats() (frameStats, bool) {
	var (
		absHist [rCount][256]int
		lapSum  [rCount]float64
		lapSq   [rCount]float64
		cnt     [rCount]float64
		gradSum [rCount]float64
		logSum  [rCount]float64
	)
	w, h := m.w, m.h
	for y := 2; y < h-2; y++ {
		for x := 2; x < w-2; x++ {
			i := y*w + x
			rg := m.region[i]
			if rg == rNone {
				continue
			}
			g := m.gray
			lap := 4*float64(g[i]) - float64(g[i-1]) - float64(g[i+1]) - float64(g[i-w]) - float64(g[i+w])
			lapSum[rg] += lap
			lapSq[rg] += lap * lap
			cnt[rg]++
			// The median residual: noise and fine texture, little of edges.
			res := math.Abs(float64(g[i]) - float64(m.med[i]))
			absHist[rg][min(255, int(res+0.5))]++
			gx := float64(m.logSig[i+2]-m.logSig[i-2]) / 4
			gy := float64(m.logSig[i+2*w]-m.logSig[i-2*w]) / 4
			gradSum[rg] += math.Hypot(gx, gy)
			logSum[rg] += float64(m.logSig[i])
		}
	}
	for _, rg := range []int{rInside, rBand, rOutside} {
		if cnt[rg] < minPixels {
			return frameStats{}, false
		}
	}
	noise := func(rg int) float64 { return trimmedMean(&absHist[rg], 0.9) }
	lapVar := func(rg int) float64 {
		mu := lapSum[rg] / cnt[rg]
		return lapSq[rg]/cnt[rg] - mu*mu
	}
	var st frameStats
	st.noiseRatio = (noise(rInside) + 0.1) / (noise(rOutside) + 0.1)
	st.sharpRatio = (lapVar(rInside) + 1) / (lapVar(rOutside) + 1)
	ref := (gradSum[rInside] + gradSum[rOutside]) / (cnt[rInside] + cnt[rOutside])
	st.seam = (gradSum[rBand] / cnt[rBand]) / (ref + 1e-3)
	st.refLogSig = logSum[rOutside] / cnt[rOutside]
	return st, true
}

// trimmedMean returns the mean of the lowest keep share of a histogram:
// dropping the top tail keeps edges and specular highlights out of a noise
// estimate.
func trimmedMean(hist *[256]int, keep float64) float64 {
	total := 0
	for _, c := range hist {
		total += c
	}
	limit := keep * float64(total)
	var n, s float64
	for v, c := range hist {
		take := math.Min(float64(c), limit-n)
		if take <= 0 {
			break
		}
		n += take
		s += take * float64(v)
	}
	if n == 0 {
		return 0
	}
	return s / n
}

func score(noise, sharp, seam, ridge, path float64) float64 {
	sn := region.Ramp(math.Abs(math.Log(noise)), noiseLo, noiseHi)
	ss := region.Ramp(-math.Log(sharp), sharpLo, sharpHi)
	sm := region.Ramp(seam, seamLo, seamHi)
	return 1 - (1-noiseWeight*sn)*(1-sharpWeight*ss)*(1-seamWeight*sm)*
		(1-ridgeWeight*region.Ramp(ridge, ridgeLo, ridgeHi))*(1-pathWeight*region.Ramp(path, pathLo, pathHi))
}

// heatmapPNG renders the local noise inconsistency around the outline over
// the crop: |ln σ_local − ln σ_outside| within three band widths of the
// outline, 0 → blue to ln 3 (a threefold difference) → red.
func (m *frameMaps) heatmapPNG(refLog float64, sr seamResult, scale float64) ([]byte, error) {
	heat := gocv.NewMatWithSize(m.h, m.w, gocv.MatTypeCV8U)
	defer heat.Close()
	hd, err := heat.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	lim := float32(3 * m.band)
	for i, d := range m.dist {
		if d < -lim || d > lim {
			hd[i] = 0
			continue
		}
		v := math.Abs(float64(m.logSig[i])-refLog) / math.Log(3)
		hd[i] = uint8(255 * math.Min(1, v))
	}
	gocv.GaussianBlur(heat, &heat, image.Pt(0, 0), 1.5, 1.5, gocv.BorderReplicate)
	colour := gocv.NewMat()
	defer colour.Close()
	gocv.ApplyColorMap(heat, &colour, gocv.ColormapJet)
	out := m.work.Clone()
	defer out.Close()
	od, err1 := out.DataPtrUint8()
	cd, err2 := colour.DataPtrUint8()
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("edges: heatmap buffers: %v %v", err1, err2)
	}
	for i, d := range m.dist {
		if d < -lim || d > lim {
			continue
		}
		for k := 0; k < 3; k++ {
			od[3*i+k] = uint8((int(od[3*i+k]) + int(cd[3*i+k])) / 2)
		}
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{m.oval})
	defer pv.Close()
	gocv.Polylines(&out, pv, true, color.RGBA{R: 255, G: 255, B: 255, A: 255}, 1)
	// The seam that scored higher, the outline at one scale or the free
	// path (on a tie of non-zero scores: the path, which follows the seam
	// where the ring only crosses it; with neither scoring, the ring, since
	// a path through nothing wanders), each stretch coloured by its ridge
	// ratio: green none (1), red at its score's top.
	pts, strength, top := sr.pts, sr.strength, ridgeHi
	if p := region.Ramp(sr.path, pathLo, pathHi); p > 0 && p >= region.Ramp(sr.ridge, ridgeLo, ridgeHi) {
		pts, strength, top = sr.pathPts, sr.pathStrength, pathHi
	}
	for j := range pts {
		a, b := strength[j], strength[(j+1)%len(pts)]
		if math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		v := region.Ramp((a+b)/2, 1, top)
		p, q := pts[j].Scale(scale), pts[(j+1)%len(pts)].Scale(scale)
		gocv.Line(&out, image.Pt(int(math.Round(p.X)), int(math.Round(p.Y))), image.Pt(int(math.Round(q.X)), int(math.Round(q.Y))),
			color.RGBA{R: uint8(255 * v), G: uint8(255 * (1 - v)), A: 255}, 2)
	}
	buf, err := gocv.IMEncode(gocv.PNGFileExt, out)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	png := append([]byte(nil), buf.GetBytes()...)
	if len(png) == 0 {
		return nil, fmt.Errorf("edges: PNG encoding produced no bytes")
	}
	return png, nil
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
		res.Explanation = "No usable face frames: no opinion on blending boundaries."
		return res, nil
	}
	var noise, sharp, seam, ridge, ridgeAt, paths, widths, cover []float64
	for _, s := range t.samples {
		paths = append(paths, s.path)
		ridge = append(ridge, s.ridge)
		ridgeAt = append(ridgeAt, s.ridgeAt)
		noise = append(noise, s.noise)
		sharp = append(sharp, s.sharp)
		seam = append(seam, s.seam)
		widths = append(widths, s.faceWidth)
		cover = append(cover, s.coverage)
	}
	mNoise, mSharp, mSeam, mRidge, mPath := region.Median(noise), region.Median(sharp), region.Median(seam), region.Median(ridge), region.Median(paths)
	res.Score = detectors.Clamp01(score(mNoise, mSharp, mSeam, mRidge, mPath))
	res.Measurements["seam_ridge"] = mRidge
	res.Measurements["seam_scale"] = region.Median(ridgeAt)
	res.Measurements["seam_path"] = mPath
	n := float64(len(t.samples))
	res.Confidence = detectors.Clamp01(math.Min(1, n/8) *
		(0.4 + 0.6*region.Ramp(region.Median(widths), t.opts.MinFaceWidth, 3*t.opts.MinFaceWidth)) *
		region.Median(cover))
	res.Measurements["noise_ratio"] = mNoise
	res.Measurements["sharpness_ratio"] = mSharp
	res.Measurements["seam_strength"] = mSeam
	res.Explanation = explain(res.Score, mNoise, mSharp, mSeam, mRidge, mPath)

	if t.heatmap != nil {
		name := fmt.Sprintf("edges_heatmap_track%d.png", t.track)
		res.Artifacts = map[string][]byte{name: t.heatmap}
		region := t.bestRegion
		res.Evidence = append(res.Evidence, detectors.Evidence{
			Kind: "frame", Start: t.bestTime.Seconds(), End: t.bestTime.Seconds(), Frame: t.bestFrame,
			Region: &region, Image: name, Score: t.best,
			Note: "local noise level around the face outline compared with the surroundings (red: threefold difference)",
		})
	}
	return res, nil
}

func explain(score, noise, sharp, seam, ridge, path float64) string {
	parts := fmt.Sprintf("noise inside/outside the outline %.2f, sharpness %.2f, noise seam %.2f, colour seam at one scale %.2f (counts from %.1f), along a free path %.2f (counts from %.1f)",
		noise, sharp, seam, ridge, ridgeLo, path, pathLo)
	switch {
	case score >= 0.5:
		return "The face outline looks like a blending boundary (" + parts + ")."
	case score >= 0.2:
		return "The face outline shows some signs of blending (" + parts + ")."
	}
	return "The face outline looks continuous with the frame (" + parts + ")."
}
