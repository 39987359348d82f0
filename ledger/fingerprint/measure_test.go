package fingerprint

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gocv.io/x/gocv"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
)

// dist is a set of measured distances by name.
type dists map[string][]float64

func (d dists) add(name string, v float64) { d[name] = append(d[name], v) }

func quant(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (d dists) print(t *testing.T, title string) {
	names := make([]string, 0, len(d))
	for n := range d {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", title)
	for _, n := range names {
		v := d[n]
		fmt.Fprintf(&b, "  %-22s n=%5d  p01 %6.3f p10 %6.3f p50 %6.3f p90 %6.3f p99 %6.3f max %6.3f\n", n, len(v),
			quant(v, 0.01), quant(v, 0.1), quant(v, 0.5), quant(v, 0.9), quant(v, 0.99), quant(v, 1))
	}
	t.Log(b.String())
}

// measureModels loads the face models for a measurement or test.
func measureModels(tb testing.TB) *FaceModels {
	tb.Helper()
	testutil.InitORT(tb)
	m, err := LoadFaceModels(filepath.Join(testutil.DepsDir(tb), "models"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func computeFaces(tb testing.TB, path string, m *FaceModels) *Fingerprint {
	return computeFacesAt(tb, path, m, 0)
}

func computeFacesAt(tb testing.TB, path string, m *FaceModels, rate float64) *Fingerprint {
	tb.Helper()
	fp, err := Compute(context.Background(), path, &Options{SampleRate: rate, Faces: m, keepCrops: true, noRefit: os.Getenv("NOREFIT") != ""})
	if err != nil {
		tb.Fatal(err)
	}
	return fp
}

// pairFace returns the face of fs nearest to f's position (centre within
// half a face width), or nil.
func pairFace(f Face, fs []Face) *Face {
	var best *Face
	bd := math.Inf(1)
	fr := f.Box.rect()
	for i := range fs {
		r := fs[i].Box.rect()
		d := fr.Center().Dist(r.Center())
		if d < bd && d < 0.5*max(fr.W, r.W) {
			best, bd = &fs[i], d
		}
	}
	return best
}

func regionNCC(a, b *alignedFace, r region) float64 {
	x0, y0, x1, y1 := r.pixels()
	var sa, sb, saa, sbb, sab, n float64
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			va, vb := float64(a.y[y*cropSide+x]), float64(b.y[y*cropSide+x])
			sa += va
			sb += vb
			saa += va * va
			sbb += vb * vb
			sab += va * vb
			n++
		}
	}
	cov := sab/n - sa/n*sb/n
	va, vb := saa/n-sa/n*sa/n, sbb/n-sb/n*sb/n
	if va <= 0 || vb <= 0 {
		return 0
	}
	return 1 - cov/math.Sqrt(va*vb)
}

// wcoefDist is the distance of the coefficient vectors at their own
// contrast, relative to their joint norm and a noise floor sigma.
func wcoefDist(a, b *Descriptor, r int, sigma float64) float64 {
	na, nb := math.Exp2(float64(a.Energy[r])/16), math.Exp2(float64(b.Energy[r])/16)
	if a.Energy[r] == 0 {
		na = 0
	}
	if b.Energy[r] == 0 {
		nb = 0
	}
	var s float64
	for i := range RegionCoefs {
		d := float64(a.Coefs[r][i])/127*na - float64(b.Coefs[r][i])/127*nb
		s += d * d
	}
	return math.Sqrt(s / (na*na + nb*nb + sigma*sigma))
}

func coefDist(a, b *Descriptor, r int) float64 {
	var s float64
	for i := range RegionCoefs {
		d := float64(a.Coefs[r][i]) - float64(b.Coefs[r][i])
		s += d * d
	}
	return math.Sqrt(s) / 127
}

// faceDists measures, for each candidate sample k in samples (nil: all),
// the distances of its faces to the aligned original faces (the nearest of
// the three original samples around).
var debugf func(string, ...any)

var window = 1

// fineCandidate fingerprints path at 3 times the original's rate and
// returns the phase of it that aligns best, with its offset.
func fineCandidate(tb testing.TB, orig *Fingerprint, path string, m *FaceModels) (*Fingerprint, int) {
	if os.Getenv("FINE") == "" {
		c := computeFaces(tb, path, m)
		off, _ := bestOffset(orig, c)
		return c, off
	}
	window = 0
	c := computeFacesAt(tb, path, m, 3*orig.SampleRate)
	var best *Fingerprint
	var bs offsetScore
	bo := 0
	for p := range 3 {
		d := *c
		d.SampleRate = orig.SampleRate
		d.Frames = nil
		for k := p; k < len(c.Frames); k += 3 {
			d.Frames = append(d.Frames, c.Frames[k])
		}
		off, sc := bestOffset(orig, &d)
		if best == nil || sc.less(bs) {
			best, bs, bo = &d, sc, off
		}
	}
	return best, bo
}

func faceDists(d dists, orig, cand *Fingerprint, off int, samples func(k int) bool) {
	for k, cf := range cand.Frames {
		if samples != nil && !samples(k) {
			continue
		}
		for _, f := range cf.Faces {
			best := map[string]float64{}
			found := false
			for j := k + off - window; j <= k+off+window; j++ {
				if j < 0 || j >= len(orig.Frames) {
					continue
				}
				o := pairFace(f, orig.Frames[j].Faces)
				if o == nil || o.crop == nil || f.crop == nil {
					continue
				}
				found = true
				upd := func(n string, v float64) {
					if old, ok := best[n]; !ok || v < old {
						best[n] = v
					}
				}
				for r := range NumRegions {
					if f.Inside&o.Inside&(1<<r) == 0 {
						continue
					}
					upd("coef/"+regions[r].name+fmt.Sprint(r), coefDist(&f.Desc, &o.Desc, r))
					upd("ncc/"+regions[r].name+fmt.Sprint(r), regionNCC(f.crop, o.crop, regions[r]))
					upd("energy/"+regions[r].name+fmt.Sprint(r), math.Abs(float64(f.Desc.Energy[r])-float64(o.Desc.Energy[r]))/16)
					upd("norm/"+regions[r].name+fmt.Sprint(r), math.Exp2(float64(o.Desc.Energy[r])/16))
					for _, sg := range []float64{4, 8, 16} {
						upd(fmt.Sprintf("w%02.0f/%s%d", sg, regions[r].name, r), wcoefDist(&f.Desc, &o.Desc, r, sg))
					}
				}
				upd("chroma", math.Abs(float64(f.Desc.Cr)-float64(o.Desc.Cr))+math.Abs(float64(f.Desc.Cb)-float64(o.Desc.Cb)))
			}
			if v, ok := best["w08/identity0"]; ok && v > 0.3 && debugf != nil {
				debugf("k=%d track %d box %+v (w %.3f) identity %.2f mouth %.2f", k, f.Track, f.Box.rect(), f.Box.rect().W, v, best["w08/mouth3"])
			}
			if !found {
				d.add("unpaired", 1)
				continue
			}
			d.add("unpaired", 0)
			for n, v := range best {
				d.add(n, v)
			}
		}
	}
}

// TestMeasureFaces prints the distributions of face-descriptor distances
// of platform copies and of manipulations of shared real clips, from which
// the thresholds are chosen. It runs only with TRUEFRAME_MEASURE=1.
func TestMeasureFaces(t *testing.T) {
	if os.Getenv("TRUEFRAME_MEASURE") == "" {
		t.Skip("set TRUEFRAME_MEASURE=1 to measure")
	}
	m := measureModels(t)
	fm := videofix.LoadFaceModels(t, filepath.Join(testutil.DepsDir(t), "models"))
	dir := t.TempDir()
	clips := strings.Fields(os.Getenv("TRUEFRAME_MEASURE_CLIPS"))
	if len(clips) == 0 {
		clips = []string{"portrait/d13.mp4", "portrait/d3.mp4", "grid/sbia1a.mpg"}
	}
	copies, manips := dists{}, dists{}
	for ci, clip := range clips {
		folder, name := filepath.Split(clip)
		src := realClip(t, filepath.Clean(folder), name)
		orig := computeFaces(t, src, m)
		t.Logf("%s: %d samples, faces in %d", clip, len(orig.Frames), countFaces(orig))
		for _, p := range videofix.Platforms(videofix.FPS(t, src)) {
			out := filepath.Join(dir, fmt.Sprintf("c%d_%s.mp4", ci, p.Name))
			videofix.FFmpeg(t, src, out, p.Args...)
			cand, off := fineCandidate(t, orig, out, m)
			d := dists{}
			debugf = func(f string, a ...any) { t.Logf("%s %s: "+f, append([]any{clip, p.Name}, a...)...) }
			faceDists(d, orig, cand, off, nil)
			debugf = nil
			for n, v := range d {
				copies[n] = append(copies[n], v...)
				copies[p.Name+"/"+n] = append(copies[p.Name+"/"+n], v...)
			}
		}
		// Manipulations over 1–4 s.
		from, to := time.Second, 4*time.Second
		in := func(k int) bool {
			tt := time.Duration(k) * interval
			return tt >= from+interval && tt < to-interval
		}
		donor := realClip(t, "portrait", "d9.mp4")
		if name == "d9.mp4" {
			donor = realClip(t, "portrait", "d10.mp4")
		}
		for _, mk := range []struct {
			name string
			edit videofix.Edit
		}{
			{"selfblend", fm.SelfBlend(t, nil, from, to, nil)},
			{"swap", fm.SwapFrom(t, donor, nil, from, to, nil)},
			{"mouth", fm.MouthFrom(t, src, 1500*time.Millisecond, from, to, nil)},
		} {
			out := filepath.Join(dir, fmt.Sprintf("m%d_%s.mp4", ci, mk.name))
			videofix.Transcode(t, src, out, videofix.Options{Edit: mk.edit})
			cand, off := fineCandidate(t, orig, out, m)
			d := dists{}
			faceDists(d, orig, cand, off, in)
			for n, v := range d {
				manips[mk.name+"/"+n] = append(manips[mk.name+"/"+n], v...)
			}
		}
	}
	copies.print(t, "platform copies")
	manips.print(t, "manipulations")
}

func countFaces(fp *Fingerprint) int {
	n := 0
	for _, f := range fp.Frames {
		if len(f.Faces) > 0 {
			n++
		}
	}
	return n
}

// TestDumpCrops writes the aligned crops of a clip and its CRF 23 copy
// side by side (TRUEFRAME_DUMP=clip).
func TestDumpCrops(t *testing.T) {
	clip := os.Getenv("TRUEFRAME_DUMP")
	if clip == "" {
		t.Skip("set TRUEFRAME_DUMP")
	}
	m := measureModels(t)
	folder, name := filepath.Split(clip)
	src := realClip(t, filepath.Clean(folder), name)
	out := filepath.Join(t.TempDir(), "c.mp4")
	videofix.FFmpeg(t, src, out, videofix.Platforms(25)[0].Args...)
	a, b := computeFaces(t, src, m), computeFaces(t, out, m)
	for k := range min(len(a.Frames), len(b.Frames)) {
		for _, f := range a.Frames[k].Faces {
			g := pairFace(f, b.Frames[k].Faces)
			if g == nil {
				continue
			}
			img := gocv.NewMatWithSize(cropSide, 2*cropSide, gocv.MatTypeCV8U)
			for y := range cropSide {
				for x := range cropSide {
					img.SetUCharAt(y, x, f.crop.y[y*cropSide+x])
					img.SetUCharAt(y, cropSide+x, g.crop.y[y*cropSide+x])
				}
			}
			big := gocv.NewMat()
			gocv.Resize(img, &big, image.Pt(8*cropSide, 4*cropSide), 0, 0, gocv.InterpolationNearestNeighbor)
			gocv.IMWrite(fmt.Sprintf("/tmp/dump/k%02d_t%d.png", k, f.Track), big)
			img.Close()
			big.Close()
		}
	}
}
