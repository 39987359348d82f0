package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/models"
)

// TestModelsPromote measures children of the fusion against it on a folder
// of real GRID clips and self-blended copies of others: a child that
// cannot tell them apart (it weighs only a detector the scan does not run)
// is refused, and kept out of the registry; a child as good as its parent
// is added with the comparison in its entry, and activated.
func TestModelsPromote(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	clips := t.TempDir()
	realDir, fakeDir := filepath.Join(clips, "real"), filepath.Join(clips, "fake", "selfblend")
	os.MkdirAll(realDir, 0o755)
	os.MkdirAll(fakeDir, 0o755)
	testutil.InitORT(t)
	fm := videofix.LoadFaceModels(t, filepath.Join(testutil.DepsDir(t), "models"))
	for _, name := range []string{"bbaf2n.mpg", "lbax4n.mpg", "sbwe5n.mpg"} {
		data, err := os.ReadFile(filepath.Join(grid, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(realDir, name), data, 0o644)
	}
	for _, name := range []string{"brbk7n.mpg", "lrwp9a.mpg", "swiz3n.mpg"} {
		out := filepath.Join(fakeDir, strings.TrimSuffix(name, ".mpg")+".mp4")
		videofix.Transcode(t, filepath.Join(grid, name), out, videofix.Options{Edit: fm.SelfBlend(t, nil, 0, time.Hour, nil)})
	}

	parent, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	writeFusion := func(version string, edit func(*models.Fusion)) string {
		f := *parent
		f.Version = version
		f.Detectors = map[string]models.FusionDetector{}
		for k, v := range parent.Detectors {
			f.Detectors[k] = v
		}
		if edit != nil {
			edit(&f)
		}
		raw, _ := json.Marshal(f)
		path := filepath.Join(t.TempDir(), "fusion.json")
		os.WriteFile(path, raw, 0o644)
		return path
	}
	data, cache := t.TempDir(), t.TempDir()
	promote := func(path string, extra ...string) result {
		args := append([]string{"models", "promote", "--data", data, "--cache", cache}, extra...)
		return trueframe(t, append(args, path, clips)...)
	}

	blind := writeFusion("fusion-test-blind", func(f *models.Fusion) {
		for k, d := range f.Detectors {
			d.Weight = 0
			f.Detectors[k] = d
		}
		f.Detectors["resolution"] = models.FusionDetector{Weight: 1}
	})
	r := promote(blind)
	if r.code != 1 || !strings.Contains(r.stderr, "refused") || !strings.Contains(r.stdout, "worse") {
		t.Fatalf("a blind fusion: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := trueframe(t, "models", "show", "--data", data, "fusion-test-blind"); r.code == 0 {
		t.Error("the refused version is in the registry")
	}

	// --test-figures measures the admitted child once on the dev test
	// split (here a stand-in dev set of the same six clips) for its entry.
	shared := t.TempDir()
	dev := filepath.Join(shared, "data", "videos", "dev")
	var manifest strings.Builder
	manifest.WriteString("label\tmethod\tsplit\tfile\n")
	for _, label := range []string{"real", "fake"} {
		files, _ := filepath.Glob(filepath.Join(clips, label, "*"))
		if label == "fake" {
			files, _ = filepath.Glob(filepath.Join(fakeDir, "*"))
		}
		for _, f := range files {
			dst := filepath.Join(dev, label, filepath.Base(f))
			os.MkdirAll(filepath.Dir(dst), 0o755)
			os.Link(f, dst)
			fmt.Fprintf(&manifest, "%s\t%s\ttest\t%s/%s\n", label, map[string]string{"real": "real-grid", "fake": "selfblend"}[label], label, filepath.Base(f))
		}
	}
	os.WriteFile(filepath.Join(dev, "manifest.tsv"), []byte(manifest.String()), 0o644)
	t.Setenv("TRUEFRAME_SHARED", shared)

	same := writeFusion("fusion-test-same", nil)
	r = promote(same, "--activate", "--test-figures")
	if r.code != 0 {
		t.Fatalf("an equal fusion: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	t.Logf("promote:\n%s", r.stdout)
	r = trueframe(t, "models", "show", "--data", data, "fusion-test-same")
	var e struct {
		Parent string
		Gate   gateReport
	}
	defer func() {
		if e.Gate.Test == nil || e.Gate.Test.AUC != e.Gate.Child.AUC || e.Gate.Test.Methods["selfblend"] != e.Gate.Child.Methods["selfblend"] {
			t.Errorf("dev test figures %+v, want those of the same six clips %+v", e.Gate.Test, e.Gate.Child)
		}
	}()
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &e) != nil {
		t.Fatalf("show: exit %d %s", r.code, r.stdout)
	}
	if e.Parent != parent.Version || e.Gate.Clips != 6 || len(e.Gate.Regressions) != 0 || e.Gate.Parent.AUC != e.Gate.Child.AUC {
		t.Errorf("entry %+v", e)
	}
	// The blind child is refused because the parent separates these clips.
	if e.Gate.Parent.AUC < 0.75 {
		t.Errorf("the parent's AUC on the self-blends is %.2f: the refusal above proves nothing", e.Gate.Parent.AUC)
	}
	active := false
	for _, line := range strings.Split(trueframe(t, "models", "list", "--data", data).stdout, "\n") {
		f := strings.Fields(line)
		active = active || len(f) > 2 && f[0] == "*" && f[1] == "fusion" && f[2] == "fusion-test-same"
	}
	if !active {
		t.Error("fusion-test-same is not the active fusion")
	}
	// Forced, a worse child is added, and the entry says why.
	if r := promote(blind, "--force", "kept to compare"); r.code != 0 {
		t.Errorf("forced: exit %d: %s", r.code, r.stderr)
	}
}

// TestHeldApart: a fusion fitted on the permissively licensed clips of a
// manifest's train split is compared on that split's other clips; one
// fitted on all of it cannot be compared there; another source is kept.
func TestHeldApart(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifest.tsv")
	other := filepath.Join(dir, "other.json")
	clips := []eval.Clip{{Path: "a", Licence: "MIT"}, {Path: "b", Licence: "CC BY-NC 4.0"}, {Path: "c", Licence: "research only"}, {Path: "d", Licence: ""}}
	fusionWith := func(fit map[string]any) string {
		f, err := models.DefaultFusion()
		if err != nil {
			t.Fatal(err)
		}
		f.Fit, _ = json.Marshal(fit)
		raw, _ := json.Marshal(f)
		p := filepath.Join(t.TempDir(), "f.json")
		os.WriteFile(p, raw, 0o644)
		return p
	}
	permissive := fusionWith(map[string]any{"sources": []string{manifest}, "split": "train", "permissive_only": true})
	got, left, err := heldApart(permissive, manifest, "train", clips)
	if err != nil || left != 2 || len(got) != 2 || got[0].Path != "b" || got[1].Path != "c" {
		t.Errorf("permissive fit: %v left %d, %v", got, left, err)
	}
	if got, left, err := heldApart(permissive, other, "train", clips); err != nil || left != 0 || len(got) != 4 {
		t.Errorf("another source: %v left %d, %v", got, left, err)
	}
	if got, left, err := heldApart(permissive, manifest, "test", clips); err != nil || left != 0 || len(got) != 4 {
		t.Errorf("another split: %v left %d, %v", got, left, err)
	}
	all := fusionWith(map[string]any{"sources": []string{manifest}, "split": "train"})
	if _, _, err := heldApart(all, manifest, "train", clips); err == nil {
		t.Error("a fusion fitted on every clip was compared on them")
	}
}
