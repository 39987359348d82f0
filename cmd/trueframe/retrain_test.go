package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// TestRetrainingRound goes from footage to a detector the scans use, with
// the figures that admit it: a generator dataset of two shared clips →
// a fusion fitted to it → measured against the active fusion on a dataset
// held apart (three other clips) → added and activated → the next scan
// names it. A child fitted to the same clips with their labels swapped is
// refused.
func TestRetrainingRound(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	work, data, cache := t.TempDir(), t.TempDir(), t.TempDir()
	dataset := func(name string, clips ...string) string {
		t.Helper()
		real := filepath.Join(work, name, "real")
		os.MkdirAll(real, 0o755)
		for _, c := range clips {
			b, err := os.ReadFile(filepath.Join(grid, c))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(real, c), b, 0o644)
		}
		out := filepath.Join(work, name, "gen")
		if r := trueframe(t, "generate", "dataset", "--real", real, "--out", out); r.code != 0 {
			t.Fatalf("generate dataset: exit %d: %s", r.code, r.stderr)
		}
		return filepath.Join(out, "manifest.json")
	}
	train := dataset("train", "bbaf2n.mpg", "lbax4n.mpg")
	held := dataset("held", "brbk7n.mpg", "lrwp9a.mpg", "swiz3n.mpg")

	child := filepath.Join(work, "child.json")
	if r := trueframe(t, "detectors", "train", "fusion", "--cache", cache, "--out", child, "--version", "fusion-ci-child", train); r.code != 0 {
		t.Fatalf("train fusion: exit %d: %s", r.code, r.stderr)
	}
	// Fitted on four clips, the child may well be worse than the shipped
	// fusion: then it is refused, and added only when forced, which its
	// entry records.
	r := trueframe(t, "models", "promote", "--data", data, "--cache", cache, "--activate", child, held)
	t.Logf("promote:\n%s", r.stdout)
	forced := r.code == 1 && strings.Contains(r.stderr, "refused")
	if forced {
		r = trueframe(t, "models", "promote", "--data", data, "--cache", cache, "--activate", "--force", "a CI child fitted on four clips", child, held)
	}
	if r.code != 0 {
		t.Fatalf("promote the child: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var e struct {
		Forced string
		Gate   gateReport
	}
	if r := trueframe(t, "models", "show", "--data", data, "fusion-ci-child"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &e) != nil {
		t.Fatalf("show: exit %d %s", r.code, r.stdout)
	}
	if e.Gate.Clips != 6 || e.Gate.Child.AUC < 0.75 {
		t.Fatalf("gate %+v: want 6 held-apart clips and a child AUC of 0.75 or more", e.Gate)
	}
	if forced != (e.Forced != "") || forced != (len(e.Gate.Regressions) > 0) {
		t.Errorf("forced %v, entry's reason %q, regressions %v", forced, e.Forced, e.Gate.Regressions)
	}

	r = trueframe(t, "scan", "--json", "--data", data, "--evidence-dir", t.TempDir(), filepath.Join(grid, "sbia1a.mpg"))
	var rep struct {
		Models struct {
			FusionVersion string `json:"fusion_version"`
		} `json:"models"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Models.FusionVersion != "fusion-ci-child" {
		t.Fatalf("scan after activation: exit %d, fusion %q; want fusion-ci-child\n%s", r.code, rep.Models.FusionVersion, r.stderr)
	}

	// Refitting the active fusion on new clips adds the clips it was
	// fitted on.
	grand := filepath.Join(work, "grand.json")
	if r := trueframe(t, "detectors", "train", "fusion", "--from", "active", "--data", data, "--cache", cache, "--out", grand,
		"--version", "fusion-ci-grandchild", held); r.code != 0 {
		t.Fatalf("refit from the active fusion: exit %d: %s", r.code, r.stderr)
	}
	var fitted struct {
		Fit struct {
			Parent  string   `json:"parent"`
			Sources []string `json:"sources"`
		} `json:"fit"`
	}
	raw, _ := os.ReadFile(grand)
	if err := json.Unmarshal(raw, &fitted); err != nil || fitted.Fit.Parent != "fusion-ci-child" ||
		!slices.Equal(fitted.Fit.Sources, []string{held, train}) {
		t.Errorf("refit: %v, fit %+v; want parent fusion-ci-child and sources %s, %s", err, fitted.Fit, held, train)
	}

	// The same clips with real and fake swapped.
	swapped := filepath.Join(work, "swapped")
	os.MkdirAll(filepath.Join(swapped, "real"), 0o755)
	os.MkdirAll(filepath.Join(swapped, "fake", "relabelled"), 0o755)
	blends, _ := filepath.Glob(filepath.Join(filepath.Dir(train), "*.mp4"))
	originals, _ := filepath.Glob(filepath.Join(work, "train", "real", "*"))
	if len(blends) != 2 || len(originals) != 2 {
		t.Fatalf("dataset files: %v %v", blends, originals)
	}
	for _, b := range blends {
		os.Link(b, filepath.Join(swapped, "real", filepath.Base(b)))
	}
	for _, o := range originals {
		os.Link(o, filepath.Join(swapped, "fake", "relabelled", filepath.Base(o)))
	}
	worse := filepath.Join(work, "worse.json")
	if r := trueframe(t, "detectors", "train", "fusion", "--cache", cache, "--out", worse, "--version", "fusion-ci-swapped", swapped); r.code != 0 {
		t.Fatalf("train the swapped fusion: exit %d: %s", r.code, r.stderr)
	}
	r = trueframe(t, "models", "promote", "--data", data, "--cache", cache, worse, held)
	t.Logf("promote the swapped child:\n%s", r.stdout)
	if r.code != 1 || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("promote the swapped child: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := trueframe(t, "models", "show", "--data", data, "fusion-ci-swapped"); r.code == 0 {
		t.Error("the refused child is in the registry")
	}
}
