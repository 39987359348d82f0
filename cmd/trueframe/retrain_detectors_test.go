package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/detectors/motion"
	motiontrainer "github.com/trueframe/trueframe/detectors/motion/trainer"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/nn"
)

// linkClips links the named shared clips of dir into a new folder.
func linkClips(t *testing.T, dir string, names ...string) string {
	t.Helper()
	out := t.TempDir()
	for _, n := range names {
		if err := os.Symlink(filepath.Join(dir, n), filepath.Join(out, n)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tinyGenerator trains a (very) small face-swap generator between the
// faces of two clips and returns its model directory.
func tinyGenerator(t *testing.T, a, b string) string {
	t.Helper()
	dir := t.TempDir()
	for id, clip := range map[string]string{"a": a, "b": b} {
		if r := trueframe(t, "generate", "extract", "--out", filepath.Join(dir, id), clip); r.code != 0 {
			t.Fatalf("generate extract %s: exit %d: %s", id, r.code, r.stderr)
		}
	}
	model := filepath.Join(dir, "model")
	if r := trueframe(t, "generate", "train", "--a", filepath.Join(dir, "a"), "--b", filepath.Join(dir, "b"), "--out", model,
		"--batch", "2", "--preview-every", "0", "--holdout", "0", "--steps", "3", "--width", "4", "--latent", "16"); r.code != 0 {
		t.Fatalf("generate train: exit %d: %s", r.code, r.stderr)
	}
	return model
}

// TestRetrainFaceCNNRound goes from footage to a fine-tuned face_cnn the
// scans use: a generator trained on two shared clips makes swaps of them,
// which join crops of those clips and of photos as new data; the active
// (shipped) face_cnn is fine-tuned on it from its own weights; promote
// measures parent and child on held-apart clips (inside the active fusion,
// or on their own when it gives face_cnn no weight, as the shipped one does),
// adds and activates the child; the next scan names it. A child of no step
// has its parent's weights and inherits its sets; data gone missing stops
// a fine-tune; a child trained on inverted labels is refused.
func TestRetrainFaceCNNRound(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	faces := testutil.SharedDir(t, "data", "train", "real_faces", "fairface")
	work, data, cache := t.TempDir(), t.TempDir(), t.TempDir()
	run := func(what string, args ...string) result {
		t.Helper()
		r := trueframe(t, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", what, r.code, r.stdout, r.stderr)
		}
		return r
	}

	two := linkClips(t, grid, "bbaf2n.mpg", "lbax4n.mpg")
	gen := tinyGenerator(t, filepath.Join(grid, "bbaf2n.mpg"), filepath.Join(grid, "lbax4n.mpg"))
	ents, err := os.ReadDir(faces)
	if err != nil {
		t.Fatal(err)
	}
	var photos []string
	for _, e := range ents[:48] {
		photos = append(photos, e.Name())
	}
	people := linkClips(t, faces, photos...)
	newCrops := filepath.Join(work, "new.crops")
	run("crops", "detectors", "crops", "--out", newCrops, "real:"+people, "real:"+two)

	// Tiny sizes: the samples go through the shipped stride-8 backbone once.
	tiny := []string{"--samples", "192", "--batch", "16", "--eval-every", "1000", "--lr", "3e-4"}
	childDir := filepath.Join(work, "child")
	r := run("train the child", append([]string{"detectors", "train", "face_cnn", "--data", data, "--from", "active",
		"--skip-missing-parent-data", "--crops", newCrops, "--generator-model", gen, "--generator-real", two,
		"--generator-max-frames", "40", "--out", childDir, "--version", "face_cnn-ci-child", "--steps", "8", "--seed", "3"}, tiny...)...)
	t.Logf("train the child:\n%s", r.stdout)
	shipped, _, err := models.Trained(facecnn.Name)
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := models.LoadCard(filepath.Join(childDir, "face_cnn.json"))
	if err != nil {
		t.Fatal(err)
	}
	origins := map[string]int{}
	for _, s := range card.Sets {
		origins[s.Origin]++
	}
	var tr struct {
		Steps            int             `json:"steps"`
		Validation       json.RawMessage `json:"validation"`
		ParentValidation json.RawMessage `json:"parent_validation"`
	}
	json.Unmarshal(card.Training, &tr)
	switch {
	case card.Parent != shipped.Version:
		t.Errorf("the child's parent is %q, want the shipped %s", card.Parent, shipped.Version)
	case origins[models.SetNew] != 1 || origins[models.SetGenerator] != 1 || origins[models.SetParent] != 0:
		t.Errorf("sets %+v: want one new, one of the generator's", card.Sets)
	case len(card.ParentDataMissing) != len(shipped.Data):
		t.Errorf("parent data missing %v: want the shipped card's %d descriptions", card.ParentDataMissing, len(shipped.Data))
	case card.Generator == nil || card.Generator.ID == "" || len(card.Generator.SHA256) != 64 || card.Generator.Swaps != 2:
		t.Errorf("generator record %+v: want the model's id, its hash and two swaps", card.Generator)
	case card.Seed != 3 || !strings.Contains(card.Command, "--from active") || tr.Steps != 8 || tr.Validation == nil || tr.ParentValidation == nil:
		t.Errorf("card: seed %d, command %q, training %+v", card.Seed, card.Command, tr)
	}
	if !slices.ContainsFunc(card.Data, func(d models.CardSource) bool {
		return d.Origin == models.SetGenerator && strings.HasPrefix(d.Spec, "fake:"+methodGeneratorSwap+":") && d.Items > 0
	}) {
		t.Errorf("no crops of generator swaps in the card's data: %+v", card.Data)
	}

	// The child against the shipped face_cnn inside the active fusion, on
	// three other speakers and self-blends of them.
	held := filepath.Join(work, "held")
	run("held-apart dataset", "generate", "dataset", "--real", linkClips(t, grid, "brbk7n.mpg", "lrwp9a.mpg", "swiz3n.mpg"), "--out", held)
	heldManifest := filepath.Join(held, "manifest.json")
	promote := func(cardPath string, extra ...string) result {
		return trueframe(t, append(append([]string{"models", "promote", "--data", data, "--cache", cache}, extra...), cardPath, heldManifest)...)
	}
	r = promote(filepath.Join(childDir, "face_cnn.json"), "--activate")
	t.Logf("promote the child:\n%s%s", r.stdout, r.stderr)
	forced := r.code == 1 && strings.Contains(r.stderr, "refused")
	if forced {
		// Eight steps at a small rate hardly move the head; should they
		// move it the wrong way on six clips, it goes in only when forced.
		r = promote(filepath.Join(childDir, "face_cnn.json"), "--activate", "--force", "a CI child of eight steps")
	}
	if r.code != 0 {
		t.Fatalf("promote the child: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var e struct {
		Kind, Parent, Forced string
		Gate                 gateReport
	}
	if r := run("show", "models", "show", "--data", data, "face_cnn-ci-child"); json.Unmarshal([]byte(r.stdout), &e) != nil {
		t.Fatalf("show: %s", r.stdout)
	}
	if e.Kind != facecnn.Name || e.Parent != shipped.Version || e.Gate.Clips != 6 || e.Gate.Parent.AUC < 0.75 || forced != (e.Forced != "") {
		t.Errorf("entry %+v: want a face_cnn child of %s measured on 6 clips, the parent's AUC ≥ 0.75", e, shipped.Version)
	}
	// Inside a fusion that gives face_cnn no weight every child would tie
	// its parent; the gate then compares face_cnn's own scores.
	shippedFusion, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	if wantAlone := shippedFusion.Detectors[facecnn.Name].Weight == 0; wantAlone != (e.Gate.Alone == facecnn.Name) {
		t.Errorf("gate measured alone: %q; the shipped fusion weighs face_cnn %v", e.Gate.Alone, shippedFusion.Detectors[facecnn.Name].Weight)
	}
	r = run("scan", "scan", "--json", "--data", data, "--evidence-dir", t.TempDir(), filepath.Join(grid, "sbia1a.mpg"))
	var rep struct {
		Models struct{ Detectors map[string]string } `json:"models"`
	}
	if json.Unmarshal([]byte(r.stdout), &rep) != nil || !strings.HasPrefix(rep.Models.Detectors[facecnn.Name], "face_cnn-ci-child+") {
		t.Fatalf("scan after activation runs face_cnn %q, want face_cnn-ci-child", rep.Models.Detectors[facecnn.Name])
	}

	// The fusion takes the generator's swaps as one more source of fakes,
	// and records the model that made them.
	fusionOut := filepath.Join(work, "fusion.json")
	run("train fusion with the generator", "detectors", "train", "fusion", "--cache", cache, "--generator-model", gen,
		"--generator-real", two, "--generator-max-frames", "40", "--out", fusionOut, "--version", "fusion-ci-gen", heldManifest)
	var fitted struct {
		Fit struct {
			Sources   []string              `json:"sources"`
			Generator *models.CardGenerator `json:"generator_model"`
		} `json:"fit"`
	}
	raw, _ := os.ReadFile(fusionOut)
	if err := json.Unmarshal(raw, &fitted); err != nil || fitted.Fit.Generator == nil || fitted.Fit.Generator.SHA256 != card.Generator.SHA256 ||
		len(fitted.Fit.Sources) != 2 || !strings.HasSuffix(fitted.Fit.Sources[1], "."+methodGeneratorSwap) {
		t.Errorf("fusion fit: %v, sources %v, generator %+v", err, fitted.Fit.Sources, fitted.Fit.Generator)
	} else if swaps, _ := filepath.Glob(filepath.Join(fitted.Fit.Sources[1], "fake", methodGeneratorSwap, "*.mp4")); len(swaps) != 2 {
		t.Errorf("%d swaps in the fusion's generator source, want 2", len(swaps))
	}

	// A child of the active child with no step and no new data: its
	// parent's weights, trained on its parent's sets.
	same := filepath.Join(work, "same")
	run("a child of no step", append([]string{"detectors", "train", "face_cnn", "--data", data, "--from", "active",
		"--out", same, "--version", "face_cnn-ci-same", "--steps", "0"}, tiny...)...)
	sameCard, sameModel, err := models.LoadCard(filepath.Join(same, "face_cnn.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, childModel, _ := models.LoadCard(filepath.Join(childDir, "face_cnn.json"))
	plan := facecnn.DefaultConfig().Plan()
	wChild, err1 := nn.ReadONNX(childModel, plan)
	wSame, err2 := nn.ReadONNX(sameModel, plan)
	if err1 != nil || err2 != nil || !sameWeights(wChild, wSame) {
		t.Errorf("a child of no step has other weights than its parent (%v, %v)", err1, err2)
	}
	paths := func(c *models.Card) []string {
		var out []string
		for _, s := range c.Sets {
			out = append(out, s.Path)
		}
		sort.Strings(out)
		return out
	}
	if sameCard.Parent != "face_cnn-ci-child" || !slices.Equal(paths(sameCard), paths(card)) ||
		slices.ContainsFunc(sameCard.Sets, func(s models.CardSet) bool { return s.Origin != models.SetParent }) {
		t.Errorf("the grandchild's parent %q and sets %+v; want face_cnn-ci-child's sets %v, inherited", sameCard.Parent, sameCard.Sets, paths(card))
	}

	// A set of the parent gone: a clear error, unless told to go without.
	moved := newCrops + ".moved"
	os.Rename(newCrops, moved)
	r = trueframe(t, append([]string{"detectors", "train", "face_cnn", "--data", data, "--from", "active", "--out", filepath.Join(work, "none"), "--steps", "1"}, tiny...)...)
	if r.code == 0 || !strings.Contains(r.stderr, newCrops) || !strings.Contains(r.stderr, "--skip-missing-parent-data") {
		t.Errorf("fine-tune without the parent's set: exit %d, stderr %s", r.code, r.stderr)
	}
	os.Rename(moved, newCrops)

	// Inverted labels: self-blends and swaps of seven speakers called
	// real, the faces of those clips and of the photos fake; every fake is
	// such a face (no self-blends are made). Its parent is the shipped
	// model, so none of the child's correctly labelled sets come along.
	seven := linkClips(t, grid, "bbaf2n.mpg", "lbax4n.mpg", "id2_vcd_swwp2s.mpg", "lbbc2a.mpg", "lwbsza.mpg", "pwij3p.mpg", "sbwe5n.mpg")
	fakes := filepath.Join(work, "fakes")
	run("blends and swaps of seven clips", "generate", "dataset", "--real", seven, "--model", gen, "--out", fakes, "--max-frames", "40")
	inverted := filepath.Join(work, "inverted.crops")
	run("inverted crops", "detectors", "crops", "--out", inverted, "real:"+fakes, "fake:relabelled:"+people, "fake:relabelled:"+seven)
	bad := filepath.Join(work, "bad")
	r = run("train the inverted child", "detectors", "train", "face_cnn", "--data", data, "--from", shipped.Version, "--crops", inverted,
		"--skip-missing-parent-data", "--out", bad, "--version", "face_cnn-ci-inverted", "--steps", "80", "--lr", "3e-3",
		"--fake-crop-share", "1", "--samples", "256", "--batch", "16", "--eval-every", "1000")
	t.Logf("train the inverted child:\n%s", r.stdout)
	r = promote(filepath.Join(bad, "face_cnn.json"))
	t.Logf("promote the inverted child:\n%s%s", r.stdout, r.stderr)
	if r.code != 1 || !strings.Contains(r.stderr, "refused") {
		t.Fatalf("promote the inverted child: exit %d", r.code)
	}
	if r := trueframe(t, "models", "show", "--data", data, "face_cnn-ci-inverted"); r.code == 0 {
		t.Error("the refused child is in the registry")
	}
}

func sameWeights(a, b map[string]nn.Tensor) bool {
	return maps.EqualFunc(a, b, func(x, y nn.Tensor) bool { return slices.Equal(x.Dims, y.Dims) && slices.Equal(x.Data, y.Data) })
}

// TestTrainMotionFrom fine-tunes the shipped motion network on sequences
// of shared clips: with no step it keeps its parent's weights and input
// scaling, a few steps move them, and the card names the parent, the data
// and the parent's figures on the child's held-out clips.
func TestTrainMotionFrom(t *testing.T) {
	portrait := testutil.SharedDir(t, "data", "videos", "real", "portrait")
	work, data := t.TempDir(), t.TempDir()
	seqs := filepath.Join(work, "new.seqs")
	if r := trueframe(t, "detectors", "sequences", "--out", seqs, "real:"+linkClips(t, portrait, "d0.mp4", "d10.mp4", "d11.mp4", "d12.mp4", "d13.mp4")); r.code != 0 {
		t.Fatalf("sequences: exit %d: %s", r.code, r.stderr)
	}
	shipped, shippedModel, err := models.Trained("motion")
	if err != nil {
		t.Fatal(err)
	}
	train := func(name string, steps string) (*models.Card, []byte) {
		t.Helper()
		out := filepath.Join(work, name)
		r := trueframe(t, "detectors", "train", "motion", "--data", data, "--from", "active", "--skip-missing-parent-data",
			"--sequences", seqs, "--out", out, "--version", "motion-ci-"+name, "--steps", steps, "--seed", "2")
		if r.code != 0 {
			t.Fatalf("train motion --steps %s: exit %d\n%s%s", steps, r.code, r.stdout, r.stderr)
		}
		t.Logf("train motion --steps %s:\n%s", steps, r.stdout)
		card, model, err := models.LoadCard(filepath.Join(out, "motion.json"))
		if err != nil {
			t.Fatal(err)
		}
		return card, model
	}
	var cfg struct {
		Width int
		Norm  json.RawMessage
	}
	json.Unmarshal(shipped.Config, &cfg)
	plan := func(c *models.Card) []nn.Layer {
		var mc struct{ Width int }
		json.Unmarshal(c.Config, &mc)
		if mc.Width != cfg.Width {
			t.Fatalf("the child's width is %d, its parent's %d", mc.Width, cfg.Width)
		}
		return motionPlan(t, c)
	}
	sameCard, sameModel := train("same", "0")
	parentW, err1 := nn.ReadONNX(shippedModel, plan(shipped))
	sameW, err2 := nn.ReadONNX(sameModel, plan(sameCard))
	if err1 != nil || err2 != nil || !sameWeights(parentW, sameW) {
		t.Errorf("a child of no step has other weights than its parent (%v, %v)", err1, err2)
	}
	var childCfg struct{ Norm json.RawMessage }
	json.Unmarshal(sameCard.Config, &childCfg)
	if string(childCfg.Norm) != string(cfg.Norm) {
		t.Error("the child's input scaling is not its parent's")
	}
	tunedCard, tunedModel := train("tuned", "5")
	tunedW, err := nn.ReadONNX(tunedModel, plan(tunedCard))
	if err != nil || sameWeights(parentW, tunedW) {
		t.Errorf("5 steps left the weights as they were (%v)", err)
	}
	var tr struct {
		ParentValidation *struct{ AUC map[string]float64 } `json:"parent_validation"`
	}
	json.Unmarshal(tunedCard.Training, &tr)
	if tunedCard.Parent != shipped.Version || len(tunedCard.Sets) != 1 || tunedCard.Sets[0].Origin != models.SetNew ||
		len(tunedCard.ParentDataMissing) == 0 || tr.ParentValidation == nil || len(tr.ParentValidation.AUC) == 0 {
		t.Errorf("card: parent %q, sets %+v, missing %v, parent figures %+v", tunedCard.Parent, tunedCard.Sets, tunedCard.ParentDataMissing, tr.ParentValidation)
	}
	scoreMotionTellsFrozenFaces(t, seqs, filepath.Join(work, "tuned", "motion.json"), shipped.Version)
}

// scoreMotionTellsFrozenFaces runs detectors score-motion on the clips'
// sequences beside copies of them whose eyes and brows are held still (a
// face animated from one photo, which the motion network learnt): the
// network in use and the fine-tuned child both rank the copies above the
// clips, and the figures name each network's version.
func scoreMotionTellsFrozenFaces(t *testing.T, seqs, childCard, inUse string) {
	t.Helper()
	set, err := motiontrainer.LoadSet(seqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range set.Sequences {
		frozen := motiontrainer.Sequence{Frames: slices.Clone(s.Frames), Fake: true, Method: "frozen", Source: s.Source + "#frozen"}
		for _, k := range []int{motion.EyeRight, motion.EyeLeft, motion.BrowRight, motion.BrowLeft} {
			var mean float64
			for _, f := range s.Frames {
				mean += f.V[k] / float64(len(s.Frames))
			}
			for i := range frozen.Frames {
				frozen.Frames[i].V[k] = mean
			}
		}
		set.Sequences = append(set.Sequences, frozen)
	}
	labelled := filepath.Join(t.TempDir(), "labelled.seqs")
	if err := set.Save(labelled); err != nil {
		t.Fatal(err)
	}
	if r := trueframe(t, "detectors", "score-motion"); r.code != 2 {
		t.Errorf("score-motion without --sequences: exit %d, want 2", r.code)
	}
	r := trueframe(t, "detectors", "score-motion", "--json", "--sequences", labelled, childCard)
	if r.code != 0 {
		t.Fatalf("score-motion: exit %d: %s", r.code, r.stderr)
	}
	var child []motionScore
	if err := json.Unmarshal([]byte(r.stdout), &child); err != nil || len(child) != 1 {
		t.Fatalf("score-motion --json: %v\n%s", err, r.stdout)
	}
	r = trueframe(t, "detectors", "score-motion", "--sequences", labelled)
	t.Logf("score-motion, the network in use:\n%s", r.stdout)
	if r.code != 0 || !strings.Contains(r.stdout, inUse) {
		t.Fatalf("score-motion with the network in use: exit %d, its version %s not printed: %s", r.code, inUse, r.stderr)
	}
	c := child[0]
	t.Logf("child: %+v", c)
	if c.Version != "motion-ci-tuned" || c.Fakes == 0 || c.Fakes != c.Reals || float64(c.AUC) < 0.8 || float64(c.Methods["frozen"]) != float64(c.AUC) {
		t.Errorf("the child's figures: version %s, %d fakes, %d reals, AUC %v, methods %v; want its version, as many fakes as reals, AUC ≥ 0.8",
			c.Version, c.Fakes, c.Reals, c.AUC, c.Methods)
	}
}

func motionPlan(t *testing.T, c *models.Card) []nn.Layer {
	t.Helper()
	var mc motion.Config
	if err := json.Unmarshal(c.Config, &mc); err != nil {
		t.Fatal(err)
	}
	return mc.WithDefaults().Plan()
}
