package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/blend"
	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// landmarkedFrame is a decoded frame with the landmarks of its main face
// (nil when no face was tracked).
type landmarkedFrame struct {
	img gocv.Mat
	lms []media.Point
	fps float64
}

// readLandmarked decodes up to max frames of path and tracks its faces with
// the Analyzer's own models.
func readLandmarked(t *testing.T, a *Analyzer, path string, max int) []landmarkedFrame {
	t.Helper()
	dec, err := video.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	tr := track.New(a.finder, a.mesher, &track.Options{DetectEvery: 5})
	var out []landmarkedFrame
	for dec.Next() && len(out) < max {
		frame := dec.Frame()
		img := frame.Image.Clone()
		obs, err := tr.Update(img)
		if err != nil {
			t.Fatal(err)
		}
		lf := landmarkedFrame{img: img, fps: dec.Config().FPS}
		if len(obs) > 0 {
			lf.lms = obs[0].Face.Points
		}
		out = append(out, lf)
	}
	if err := dec.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, f := range out {
			f.img.Close()
		}
	})
	return out
}

// writeClip writes frames as a high-quality MJPG clip, so the original and
// its fake go through the same compression.
func writeClip(t *testing.T, path string, frames []gocv.Mat, fps float64) {
	t.Helper()
	videofix.WriteSynthetic(t, path, videofix.Synthetic{FourCC: "MJPG", FPS: fps, Width: frames[0].Cols(), Height: frames[0].Rows(),
		Frames: len(frames), Draw: func(i int, img *gocv.Mat) { frames[i].CopyTo(img) }})
}

// Fakes made from real clips — another person's face pasted in with a seam
// and a colour shift, and a face blended back onto itself — must score higher
// on the edge and skin-tone detectors than their originals.
func TestSelfMadeFakesScoreHigherThanOriginals(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	portrait := testutil.SharedDir(t, "data", "videos", "real", "portrait")
	a := newAnalyzer(t, Options{})
	swap := blend.Options{HueShift: 5, Gain: [3]float64{0.9, 1.0, 1.1}, Resample: 0.6, Shrink: 0.95, Feather: 1}
	self := blend.DefaultOptions()
	// A self-blend pastes the face back onto itself with a fixed colour
	// shift, which may move a face towards or away from its neck's colour
	// (real faces already differ from their necks under studio light): only
	// its seam is certain, so only the seam-driven scores are required to
	// rise for it.
	//
	// The portrait swaps paste a donor face from another pose whose outline
	// lies well inside the target's and at no single scale of it (the seam
	// at 0.6–0.95 of the fitted oval): the edge detector's path search
	// (seam.go) is what finds them.
	both, seamOnly := []string{"edges", "skin_tone"}, []string{"edges"}
	for _, tc := range []struct {
		name, target, donor string
		opts                blend.Options
		higher              []string
	}{
		{"swap grid", filepath.Join(grid, "bbaf2n.mpg"), filepath.Join(grid, "lwbsza.mpg"), swap, both},
		{"swap grid 2", filepath.Join(grid, "pwij3p.mpg"), filepath.Join(grid, "brbk7n.mpg"), swap, both},
		{"swap portrait", filepath.Join(portrait, "d20.mp4"), filepath.Join(portrait, "d12.mp4"), swap, both},
		{"swap portrait 2", filepath.Join(portrait, "d9.mp4"), filepath.Join(portrait, "d10.mp4"), swap, both},
		{"self-blend grid", filepath.Join(grid, "sbia1a.mpg"), "", self, seamOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := readLandmarked(t, a, tc.target, 150)
			donor := target
			if tc.donor != "" {
				donor = readLandmarked(t, a, tc.donor, 150)
			}
			var orig, fake []gocv.Mat
			touched := 0
			for i, f := range target {
				orig = append(orig, f.img)
				d := donor[i%len(donor)]
				if f.lms == nil || d.lms == nil {
					fake = append(fake, f.img.Clone())
					continue
				}
				out, err := blend.SwapFace(f.img, d.img, f.lms, d.lms, &tc.opts)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				fake = append(fake, out)
				touched++
			}
			defer func() {
				for _, m := range fake {
					m.Close()
				}
			}()
			if touched < len(target)*3/4 {
				t.Fatalf("only %d of %d frames had a face to swap", touched, len(target))
			}
			dir := t.TempDir()
			origPath, fakePath := filepath.Join(dir, "orig.avi"), filepath.Join(dir, "fake.avi")
			if dump := os.Getenv("TRUEFRAME_DUMP_FAKES"); dump != "" {
				n := len(fake) / 2
				gocv.IMWrite(filepath.Join(dump, strings.ReplaceAll(tc.name, " ", "_")+"_fake.png"), fake[n])
				gocv.IMWrite(filepath.Join(dump, strings.ReplaceAll(tc.name, " ", "_")+"_orig.png"), orig[n])
			}
			writeClip(t, origPath, orig, target[0].fps)
			writeClip(t, fakePath, fake, target[0].fps)
			if dump := os.Getenv("TRUEFRAME_DUMP_FAKES"); dump != "" {
				data, _ := os.ReadFile(fakePath)
				os.WriteFile(filepath.Join(dump, strings.ReplaceAll(tc.name, " ", "_")+"_fake.avi"), data, 0o644)
			}

			ro, err := a.Analyze(t.Context(), origPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			rf, err := a.Analyze(t.Context(), fakePath, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("original: score %.3f %s  edges %.3f  skin %.3f", ro.Score, ro.Verdict, ro.Detectors["edges"].Score, ro.Detectors["skin_tone"].Score)
			t.Logf("fake:     score %.3f %s  edges %.3f  skin %.3f", rf.Score, rf.Verdict, rf.Detectors["edges"].Score, rf.Detectors["skin_tone"].Score)
			for _, name := range []string{"edges", "skin_tone"} {
				t.Logf("%s measurements\n  original %v\n  fake     %v", name, ro.Detectors[name].Measurements, rf.Detectors[name].Measurements)
			}
			for _, name := range tc.higher {
				if o, f := ro.Detectors[name].Score, rf.Detectors[name].Score; !(f > o+0.05) {
					t.Errorf("%s: fake scored %.3f, original %.3f: want the fake clearly higher", name, f, o)
				}
			}
			if !(rf.Score > ro.Score) {
				t.Errorf("fused score: fake %.3f not above original %.3f", rf.Score, ro.Score)
			}
		})
	}
}
