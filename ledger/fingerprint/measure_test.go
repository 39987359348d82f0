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

var measureNames = [NumMeasures]string{"0identity", "1eyes", "2nose", "3mouth", "4cheek", "5cheek", "6chroma", "7mouthopen", "8eyesopen", "9mouthdetail"}

// videoPath resolves a clip named as folder/name under the shared real
// clips, or dev/... under the shared videos.
func videoPath(tb testing.TB, clip string) string {
	if strings.HasPrefix(clip, "dev/") {
		return filepath.Join(testutil.SharedDir(tb, "data", "videos"), clip)
	}
	folder, name := filepath.Split(clip)
	return realClip(tb, filepath.Clean(folder), name)
}

// measureCase is one copy or manipulation of a clip, as measured.
type measureCase struct {
	clip, kind string
	path       string
	// from, to bound the manipulated span (zero for copies).
	from, to time.Duration
}

// TestMeasureFaces prints the distributions of face distances of platform
// copies (videofix.Platforms) and of manipulations (self-blend, a swap
// with another person's face, the mouth from 1.5 s later in the same clip,
// the mouth from another clip of the same person, and the generator swaps
// listed in TRUEFRAME_MEASURE_SWAPS as clip=swapped.mp4,...) of the shared
// real clips (TRUEFRAME_MEASURE_CLIPS, as folder/name; default all), and
// how many cases the current thresholds call altered. Candidates are
// fingerprinted as Verify does, at 3 times the rate. The thresholds in
// compare_faces.go were chosen from its output. It runs only with
// TRUEFRAME_MEASURE=1.
func TestMeasureFaces(t *testing.T) {
	if os.Getenv("TRUEFRAME_MEASURE") == "" {
		t.Skip("set TRUEFRAME_MEASURE=1 to measure")
	}
	m := measureModels(t)
	fm := videofix.LoadFaceModels(t, filepath.Join(testutil.DepsDir(t), "models"))
	dir := t.TempDir()
	clips := strings.Fields(os.Getenv("TRUEFRAME_MEASURE_CLIPS"))
	if len(clips) == 0 {
		for _, folder := range []string{"portrait", "grid", "multiface"} {
			ms, _ := filepath.Glob(filepath.Join(realClip(t, folder, ""), "*"))
			for _, p := range ms {
				clips = append(clips, folder+"/"+filepath.Base(p))
			}
		}
	}
	pairs := func(env string) map[string]string {
		out := map[string]string{}
		for _, kv := range strings.Split(os.Getenv(env), ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				out[k] = v
			}
		}
		return out
	}
	swaps, mouths := pairs("TRUEFRAME_MEASURE_SWAPS"), pairs("TRUEFRAME_MEASURE_MOUTHS")
	// The shared real clips have one pair of takes of one speaker.
	mouths["grid/pwij3p.mpg"] = "grid/id2_vcd_swwp2s.mpg"
	copies, manips := dists{}, dists{}
	var alarms, caught, missed []string
	for ci, clip := range clips {
		name := filepath.Base(clip)
		src := videoPath(t, clip)
		orig := computeFacesAt(t, src, m, 0)
		t.Logf("%s: %d samples, faces in %d", clip, len(orig.Frames), countFaces(orig))
		var cases []measureCase
		for _, p := range videofix.Platforms(videofix.FPS(t, src)) {
			out := filepath.Join(dir, fmt.Sprintf("c%d_%s.mp4", ci, p.Name))
			videofix.FFmpeg(t, src, out, p.Args...)
			cases = append(cases, measureCase{clip: clip, kind: p.Name, path: out})
		}
		from, to := time.Second, 4*time.Second
		donor := realClip(t, "portrait", "d9.mp4")
		if name == "d9.mp4" {
			donor = realClip(t, "portrait", "d10.mp4")
		}
		edits := []struct {
			name string
			edit videofix.Edit
		}{
			{"selfblend", fm.SelfBlend(t, nil, from, to, nil)},
			{"swap", fm.SwapFrom(t, donor, nil, from, to, nil)},
			{"mouth-shifted", fm.MouthFrom(t, src, 1500*time.Millisecond, from, to, nil)},
		}
		if other := mouths[clip]; other != "" { // another clip of the same speaker
			edits = append(edits, struct {
				name string
				edit videofix.Edit
			}{"mouth-other-clip", fm.MouthFrom(t, videoPath(t, other), 0, from, to, nil)})
		}
		if sw := swaps[clip]; sw != "" {
			edits = append(edits, struct {
				name string
				edit videofix.Edit
			}{"generator", videofix.FramesFrom(t, sw, from, to, nil)})
		}
		for _, e := range edits {
			out := filepath.Join(dir, fmt.Sprintf("m%d_%s.mp4", ci, e.name))
			videofix.Transcode(t, src, out, videofix.Options{Edit: e.edit})
			cases = append(cases, measureCase{clip: clip, kind: e.name, path: out, from: from, to: to})
		}
		for _, c := range cases {
			cand := computeFacesAt(t, c.path, m, 3*orig.SampleRate)
			mt := compare(t, orig, cand)
			manip := c.to > 0
			d := copies
			if manip {
				d = manips
			}
			var spans []string
			hit := false
			var caseTex, caseOpen []float64
			for _, f := range mt.Faces {
				// Window statistics of the mouth over the comparable samples
				// (faces 100 px or wider in both).
				big := make([]bool, len(f.Samples))
				for i, s := range f.Samples {
					of := findTrack(orig.Frames[s.J].Faces, f.OriginalTrack)
					cf := findTrack(cand.Frames[min(len(cand.Frames)-1, s.K*3+mt.phase)].Faces, f.Track)
					big[i] = of != nil && cf != nil && of.Box.rect().W*float64(orig.Width) >= 100 && cf.Box.rect().W*float64(cand.Width) >= 100
				}
				for i, s := range f.Samples {
					tt := mt.Frames[s.K].T
					if !big[i] || manip && (tt < c.from+interval || tt >= c.to-interval) {
						continue
					}
					prefix := c.kind + "/"
					if !manip {
						prefix = "copy/"
					}
					for _, w := range []int{5, 9} {
						var tex, open, combo []float64
						for n := range f.Samples {
							if !big[n] || f.Samples[n].K < s.K-w/2 || f.Samples[n].K > s.K+w/2 {
								continue
							}
							tx, op := f.Samples[n].Distances[RegionMouth], f.Samples[n].Distances[MeasureMouthOpen]
							if math.IsNaN(tx) {
								continue
							}
							tex, open, combo = append(tex, tx), append(open, op), append(combo, tx/0.25+op/20)
						}
						if len(tex) >= w/2+1 {
							d.add(fmt.Sprintf("%sw%d/mouthtex", prefix, w), median(tex))
							d.add(fmt.Sprintf("%sw%d/mouthopen", prefix, w), median(open))
							d.add(fmt.Sprintf("%sw%d/mouthcombo", prefix, w), median(combo))
							if w == 9 {
								caseTex, caseOpen = append(caseTex, median(tex)), append(caseOpen, median(open))
							}
						}
					}
				}
				for _, s := range f.Samples {
					tt := mt.Frames[s.K].T
					if manip && (tt < c.from+interval || tt >= c.to-interval) {
						continue
					}
					prefix := c.kind + "/"
					if !manip {
						prefix = "copy/"
						// Copies by the face's width in the smaller of the two frames.
						px := math.Inf(1)
						if of := findTrack(orig.Frames[s.J].Faces, f.OriginalTrack); of != nil {
							px = of.Box.rect().W * float64(orig.Width)
						}
						if cf := findTrack(cand.Frames[min(len(cand.Frames)-1, s.K*3+mt.phase)].Faces, f.Track); cf != nil {
							px = min(px, cf.Box.rect().W*float64(cand.Width))
						}
						bucket := "copy-big/"
						switch {
						case px < 100:
							bucket = "copy-small/"
						case px < 160:
							bucket = "copy-mid/"
						}
						for r := range NumMeasures {
							if !math.IsNaN(s.Medians[r]) {
								d.add(bucket+"median/"+measureNames[r], s.Medians[r])
							}
						}
					}
					for r := range NumMeasures {
						name := measureNames[r]
						if !math.IsNaN(s.Distances[r]) {
							d.add(prefix+"raw/"+name, s.Distances[r])
						}
						if !math.IsNaN(s.Medians[r]) {
							d.add(prefix+"median/"+name, s.Medians[r])
						}
					}
				}
				for _, a := range f.Altered {
					spans = append(spans, fmt.Sprintf("#%d %.2f–%.2f %s", f.Track, a.Candidate.Start.Seconds(), a.Candidate.End.Seconds(), DescribeDiffers(a.Differs)))
					if a.Candidate.Start < c.to && a.Candidate.End > c.from {
						hit = true
					}
				}
			}
			line := fmt.Sprintf("%s %s: %s matched %.2f %v", c.clip, c.kind, Classify(mt), mt.MatchedFraction, spans)
			if len(caseTex) > 0 {
				line += fmt.Sprintf(" mouth w9: tex median %.3f max %.3f, open median %.0f max %.0f",
					median(caseTex), slices.Max(caseTex), median(caseOpen), slices.Max(caseOpen))
			}
			switch {
			case !manip && len(spans) > 0:
				alarms = append(alarms, line)
			case manip && hit:
				caught = append(caught, line)
			case manip:
				missed = append(missed, line)
			}
			t.Log(line)
		}
	}
	copies.print(t, "platform copies")
	manips.print(t, "manipulations (samples inside the span)")
	t.Logf("false alarms on copies: %d\n  %s", len(alarms), strings.Join(alarms, "\n  "))
	t.Logf("manipulations caught: %d, missed: %d\n  %s", len(caught), len(missed), strings.Join(missed, "\n  "))
}

func findTrack(fs []Face, track int) *Face {
	for i := range fs {
		if fs[i].Track == track {
			return &fs[i]
		}
	}
	return nil
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
