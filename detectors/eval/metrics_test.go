package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAUC(t *testing.T) {
	for name, tc := range map[string]struct {
		pos, neg []float64
		want     float64
	}{
		"perfect":  {[]float64{0.9, 0.8}, []float64{0.1, 0.2, 0.3}, 1},
		"inverted": {[]float64{0.1, 0.2}, []float64{0.8, 0.9}, 0},
		"all tied": {[]float64{0.5, 0.5}, []float64{0.5, 0.5, 0.5}, 0.5},
		// Pairs (p, n): 0.8 beats 0.3 and 0.6; 0.4 beats 0.3 only; 0.6 ties
		// 0.6 (half) and beats 0.3: (2 + 1 + 1.5) / 6.
		"mixed with a tie": {[]float64{0.8, 0.4, 0.6}, []float64{0.3, 0.6}, 4.5 / 6},
		// NaN counts as no opinion, 0.5.
		"NaN is 0.5": {[]float64{math.NaN()}, []float64{0.4, 0.6}, 0.5},
	} {
		t.Run(name, func(t *testing.T) {
			if got := AUC(tc.pos, tc.neg); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("AUC = %v, want %v", got, tc.want)
			}
		})
	}
	if !math.IsNaN(AUC(nil, []float64{1})) || !math.IsNaN(AUC([]float64{1}, nil)) {
		t.Fatal("AUC without one side must be NaN")
	}
}

func TestAUCMatchesPairCount(t *testing.T) {
	pos := []float64{0.91, 0.4, 0.4, 0.77, 0.12, 0.55, 0.55}
	neg := []float64{0.3, 0.4, 0.55, 0.2, 0.8, 0.05}
	var wins float64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				wins++
			case p == n:
				wins += 0.5
			}
		}
	}
	want := wins / float64(len(pos)*len(neg))
	if got := AUC(pos, neg); math.Abs(got-want) > 1e-12 {
		t.Fatalf("AUC = %v, pair count gives %v", got, want)
	}
}

func TestEER(t *testing.T) {
	// Perfectly separated: no error at the right threshold.
	if got := EER([]float64{0.9, 0.8}, []float64{0.1, 0.2}); got != 0 {
		t.Fatalf("separated EER = %v, want 0", got)
	}
	// Inverted: every threshold errs on one side or the other fully.
	if got := EER([]float64{0.1, 0.2}, []float64{0.8, 0.9}); got != 1 {
		t.Fatalf("inverted EER = %v, want 1", got)
	}
	// Four each, one of each on the wrong side: 25%.
	if got := EER([]float64{0.9, 0.8, 0.7, 0.3}, []float64{0.1, 0.2, 0.4, 0.85}); math.Abs(got-0.25) > 1e-9 {
		t.Fatalf("EER = %v, want 0.25", got)
	}
}

func TestAt(t *testing.T) {
	c := At([]float64{0.9, 0.6, 0.3}, []float64{0.1, 0.7}, 0.5)
	if c.TP != 2 || c.FN != 1 || c.FP != 1 || c.TN != 1 {
		t.Fatalf("counts %+v", c)
	}
	if math.Abs(c.Precision-2.0/3) > 1e-12 || math.Abs(c.Recall-2.0/3) > 1e-12 || c.FPR != 0.5 || c.Accuracy != 0.6 {
		t.Fatalf("rates %+v", c)
	}
	if c := At(nil, []float64{0.1}, 0.5); c.Precision != 0 || c.FPR != 0 {
		t.Fatalf("nothing called fake: %+v", c)
	}
}

func TestROCRunsCornerToCorner(t *testing.T) {
	roc := ROC([]float64{0.9, 0.4}, []float64{0.5, 0.1})
	first, last := roc[0], roc[len(roc)-1]
	if first.FPR != 0 || first.TPR != 0 || last.FPR != 1 || last.TPR != 1 {
		t.Fatalf("ROC %+v", roc)
	}
	if _, err := json.Marshal(roc); err != nil {
		t.Fatalf("the +Inf first threshold must marshal: %v", err)
	}
}

func TestSummarizeByMethodAndKind(t *testing.T) {
	mk := func(label, method string, score float64, dets map[string]float64) Scored {
		return Scored{Clip: Clip{Path: method + label, Label: label, Method: method}, Score: score, Detectors: dets}
	}
	scored := []Scored{
		mk(Real, "real-a", 0.1, map[string]float64{"x": 0.2}),
		mk(Real, "real-b", 0.5, map[string]float64{"x": 0.9}),
		mk(Fake, "roop-inswapper", 0.9, map[string]float64{"x": 0.1}),
		mk(Fake, "HyperLips", 0.3, map[string]float64{"x": 0.95}),
		mk(Fake, "HyperLips", 0.6, nil),
		{Clip: Clip{Path: "broken", Label: Fake, Method: "HyperLips"}, Err: "worker crashed"},
	}
	s := Summarize(scored, Thresholds{Suspicious: 0.4, LikelyManipulated: 0.7})
	if s.Clips != 6 || s.Failed != 1 || s.Reals != 2 || s.Fakes != 3 {
		t.Fatalf("counts %+v", s)
	}
	byMethod := map[string]MethodFigures{}
	for _, m := range s.Methods {
		byMethod[m.Method] = m
	}
	if got := byMethod["roop-inswapper"]; got.AUC != 1 || got.Kind != KindFaceSwap || got.Manipulated != 1 {
		t.Fatalf("roop %+v", got)
	}
	// HyperLips 0.3 and 0.6 against reals 0.1 and 0.5: 3 of 4 pairs.
	if got := byMethod["HyperLips"]; got.AUC != 0.75 || got.Kind != KindLipSync || got.N != 2 {
		t.Fatalf("HyperLips %+v", got)
	}
	if got := byMethod["real-b"]; got.Called != 1 || got.Manipulated != 0 {
		t.Fatalf("real-b false positives %+v", got)
	}
	if s.WorstMethod != "HyperLips" || s.WorstMethodAUC != 0.75 {
		t.Fatalf("worst %s %v", s.WorstMethod, s.WorstMethodAUC)
	}
	// Detector x: a missing score counts as 0.5 and is counted missing.
	if len(s.Detectors) != 1 || s.Detectors[0].Missing != 1 {
		t.Fatalf("detectors %+v", s.Detectors)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("summary must marshal (NaN figures as null): %v", err)
	}
}

func TestParseDevManifest(t *testing.T) {
	const header = "label\tmethod\tsplit\tfile\tbytes\n"
	good := header + "real\treal-vox\ttrain\treal/a.mp4\t1\nfake\tWav2Lip\ttest\tfake/W/b.mp4\t2\n"
	clips, err := parseDevManifest(strings.NewReader(good), "/d/manifest.tsv", "test")
	if err != nil || len(clips) != 1 || clips[0].Path != "/d/fake/W/b.mp4" || !clips[0].IsFake() || clips[0].Method != "Wav2Lip" {
		t.Fatalf("test split: %+v, %v", clips, err)
	}
	if clips, err := parseDevManifest(strings.NewReader(good), "/d/manifest.tsv", "all"); err != nil || len(clips) != 2 {
		t.Fatalf("all: %d, %v", len(clips), err)
	}
	// heldout: train clips a --permissive fit never sees — not the
	// permissive ones, and never a test clip, whatever its licence.
	licensed := "label\tmethod\tsplit\tfile\tlicence\n" +
		"real\tr\ttrain\treal/mit.mp4\tMIT (LICENSE)\n" +
		"fake\tW\ttrain\tfake/nolicence.mp4\tnone found\n" +
		"fake\tF\ttrain\tfake/nc.mp4\tCC BY-NC 4.0\n" +
		"real\tr\ttest\treal/t.mp4\tnone found\n"
	clips, err = parseDevManifest(strings.NewReader(licensed), "/d/manifest.tsv", SplitHeldOut)
	var got []string
	for _, c := range clips {
		got = append(got, c.Path)
	}
	if err != nil || strings.Join(got, " ") != "/d/fake/nolicence.mp4 /d/fake/nc.mp4" {
		t.Fatalf("heldout: %v, %v", got, err)
	}
	for name, tc := range map[string]struct{ text, want string }{
		"no header column": {"label\tmethod\tfile\n", `no "split" column`},
		"bad label":        {header + "maybe\tx\ttest\ta.mp4\t1\n", "neither"},
		"escapes folder":   {header + "real\tx\ttest\t../../etc/passwd\t1\n", "not inside"},
		"absolute path":    {header + "real\tx\ttest\t/etc/passwd\t1\n", "not inside"},
		"empty":            {"", "empty manifest"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseDevManifest(strings.NewReader(tc.text), "m.tsv", "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseDevManifest(f *testing.F) {
	f.Add("label\tmethod\tsplit\tfile\nreal\tr\ttest\ta.mp4\n")
	f.Add("label\tmethod\tsplit\tfile\nfake\tm\ttrain\t../x\n")
	f.Add("label\tmethod\tsplit\tfile\nfake\t0\t\t.\n") // the folder itself
	f.Fuzz(func(t *testing.T, text string) {
		clips, err := parseDevManifest(strings.NewReader(text), "/d/m.tsv", "")
		if err != nil {
			return
		}
		for _, c := range clips {
			if !strings.HasPrefix(c.Path, "/d/") || (c.Label != Real && c.Label != Fake) {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}

func FuzzParseWildReals(f *testing.F) {
	f.Add("label\tfile\tlicence\nreal\tkeep/a.mp4\tS-Lab\n")
	f.Add("label\tfile\tlicence\nreal\t../x\tnone\n")
	f.Add("label\tfile\tlicence\nreal\trerender/b.mp4\tPexels License\n")
	f.Fuzz(func(t *testing.T, text string) {
		clips, err := parseWildReals(strings.NewReader(text), "/d/m.tsv")
		if err != nil {
			return
		}
		for _, c := range clips {
			if !strings.HasPrefix(c.Path, "/d/") || c.Label != Real || !strings.HasPrefix(c.Method, "wild-") {
				t.Fatalf("accepted %+v", c)
			}
		}
	})
}

func TestPermissive(t *testing.T) {
	for lic, want := range map[string]bool{
		"":                                     true, // made by the project
		"MIT (LICENSE)":                        true,
		"Apache-2.0 (LICENSE.txt)":             true,
		"CC0-1.0 (LICENSE)":                    true,
		"CC BY-NC 4.0 (LICENSE.md)":            false,
		"none found (no LICENSE file in repo)": false,
		"Apache-2.0 (LICENSE); FF++ content under FaceForensics terms of use":                               false,
		"MIT (perturbation/LICENSE.md) for code; dataset under DeeperForensics-1.0 Terms of Use (research)": false,
	} {
		if got := (Clip{Licence: lic}).Permissive(); got != want {
			t.Errorf("%q: %v, want %v", lic, got, want)
		}
	}
}

func TestAUCInterval(t *testing.T) {
	mixed := struct{ pos, neg []float64 }{
		[]float64{0.91, 0.4, 0.77, 0.12, 0.55, 0.62, 0.7, 0.35},
		[]float64{0.3, 0.45, 0.5, 0.2, 0.8, 0.05, 0.6, 0.25, 0.38},
	}
	for name, tc := range map[string]struct {
		pos, neg []float64
		check    func(lo, hi, auc float64) bool
	}{
		// Separated scores stay separated in every resample.
		"separated": {[]float64{0.9, 0.8, 0.7}, []float64{0.1, 0.2, 0.3}, func(lo, hi, _ float64) bool { return lo == 1 && hi == 1 }},
		// Overlapping scores: the interval is proper and holds the figure.
		"overlapping": {mixed.pos, mixed.neg, func(lo, hi, auc float64) bool { return lo < auc && auc < hi && hi-lo > 0.2 }},
		// One fake between the reals: only the reals vary, and the interval
		// is still wide.
		"one fake": {[]float64{0.5}, []float64{0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9}, func(lo, hi, _ float64) bool { return lo <= 0.25 && hi >= 0.75 }},
	} {
		t.Run(name, func(t *testing.T) {
			ci := AUCInterval(tc.pos, tc.neg)
			lo, hi, auc := float64(ci.Lo), float64(ci.Hi), AUC(tc.pos, tc.neg)
			if !(lo <= hi) || !tc.check(lo, hi, auc) {
				t.Fatalf("interval [%v, %v] around AUC %v", lo, hi, auc)
			}
			if again := AUCInterval(tc.pos, tc.neg); again != ci {
				t.Fatalf("not repeatable: %v then %v", ci, again)
			}
		})
	}
	// Four times the clips, same spread of scores: a narrower interval.
	var pos4, neg4 []float64
	for range 4 {
		pos4 = append(pos4, mixed.pos...)
		neg4 = append(neg4, mixed.neg...)
	}
	small, large := AUCInterval(mixed.pos, mixed.neg), AUCInterval(pos4, neg4)
	if !(large.Hi-large.Lo < 0.7*(small.Hi-small.Lo)) {
		t.Fatalf("4× the clips: interval %v, vs %v", large, small)
	}
	if ci := AUCInterval(nil, []float64{1}); !math.IsNaN(float64(ci.Lo)) || !math.IsNaN(float64(ci.Hi)) {
		t.Fatalf("no fakes: %v, want NaN", ci)
	}
}

// TestHeldOutAddsWildReals: the held-out split of a dev manifest takes the
// wild real clips beside it that no model learned from (all but the Pexels
// clips the project trains on), named by folder; the other splits do not;
// a dev manifest without wild reals beside it is measured alone; a
// malformed wild manifest is an error, not ignored.
func TestHeldOutAddsWildReals(t *testing.T) {
	root := t.TempDir()
	dev := filepath.Join(root, "data", "videos", "dev", "manifest.tsv")
	wild := filepath.Join(root, "data", "train", "real_videos", "manifest.tsv")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dev, "label\tmethod\tsplit\tfile\tlicence\n"+
		"fake\tW\ttrain\tfake/w.mp4\tnone found\n"+
		"real\tr\ttest\treal/t.mp4\tnone found\n")
	names := func(clips []Clip) string {
		var s []string
		for _, c := range clips {
			rel, _ := filepath.Rel(root, c.Path)
			s = append(s, c.Label+":"+c.Method+":"+filepath.ToSlash(rel))
		}
		return strings.Join(s, " ")
	}
	clips, err := Load(dev, SplitHeldOut)
	if want := "fake:W:data/videos/dev/fake/w.mp4"; err != nil || names(clips) != want {
		t.Fatalf("without wild reals: %q, %v; want %q", names(clips), err, want)
	}
	write(wild, "label\tfile\tbytes\tlicence\n"+
		"real\tlrs3/a.mp4\t1\tLRS3 (TED/TEDx; research terms)\n"+
		"real\tkeep/b.mp4\t1\tS-Lab License 1.0 (repo, non-commercial)\n"+
		"real\trerender/c.mp4\t1\tPexels License (stock); repo S-Lab License 1.0\n"+
		"real\tsmirk/d.mp4\t1\tMIT (repo)\n")
	clips, err = Load(dev, SplitHeldOut)
	want := "fake:W:data/videos/dev/fake/w.mp4 real:wild-lrs3:data/train/real_videos/lrs3/a.mp4 real:wild-keep:data/train/real_videos/keep/b.mp4 real:wild-smirk:data/train/real_videos/smirk/d.mp4"
	if err != nil || names(clips) != want {
		t.Fatalf("heldout: %q, %v; want %q", names(clips), err, want)
	}
	if clips, err := Load(dev, "test"); err != nil || names(clips) != "real:r:data/videos/dev/real/t.mp4" {
		t.Fatalf("test split: %q, %v", names(clips), err)
	}
	write(wild, "label\tfile\tlicence\nfake\tx/e.mp4\tnone\n")
	if _, err := Load(dev, SplitHeldOut); err == nil || !strings.Contains(err.Error(), "want a real clip") {
		t.Fatalf("a fake in the wild reals: %v", err)
	}
}
