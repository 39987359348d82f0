package trainer

import (
	"context"
	"math"
	"testing"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/models/nn"
)

// TestFineTuneStartsFromParent: a head trained on from a parent's exported
// weights starts where the parent is. With no step it gives the parent's
// outputs on fixed faces, through ONNX Runtime, and its "before" figures
// are its figures; a few steps move them.
func TestFineTuneStartsFromParent(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	set := tinyCrops(t, 60)
	cfg := facecnn.Config{Cut: "stride16", Width: 16}
	backbone, bb, be := trainingEngines(t, cfg)
	ctx := context.Background()
	opts := Options{Config: cfg, Samples: 128, Steps: 20, BatchSize: 16, LearningRate: 3e-3, ValidationShare: 0.2, Clean: true, Seed: 5}
	parent, err := Train(ctx, be, bb, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	parentONNX, err := ONNX(parent, "parent")
	if err != nil {
		t.Fatal(err)
	}
	from, err := nn.ReadONNX(parentONNX, cfg.Plan())
	if err != nil {
		t.Fatal(err)
	}
	// Another seed: the samples and the split of the child's run differ
	// from the parent's, as a child's data does.
	child := func(steps int) (*Result, []float64) {
		t.Helper()
		o := opts
		o.From, o.Steps, o.Seed = from, steps, 6
		res, err := Train(ctx, be, bb, set, o)
		if err != nil {
			t.Fatal(err)
		}
		return res, logits(t, backbone, cfg, res, set)
	}
	want := logits(t, backbone, cfg, parent, set)

	same, sameOut := child(-1)
	if same.Steps != 0 || same.Before == nil || same.Before.SelfBlend != same.Validation.SelfBlend {
		t.Errorf("no step: %d steps, before %+v, after %+v", same.Steps, same.Before, same.Validation)
	}
	for i := range want {
		if math.Abs(sameOut[i]-want[i]) > 1e-5 {
			t.Fatalf("face %d: a child of no step scores %.6f, its parent %.6f", i, sameOut[i], want[i])
		}
	}

	tuned, tunedOut := child(5)
	moved := 0.0
	for i := range want {
		moved = math.Max(moved, math.Abs(tunedOut[i]-want[i]))
	}
	t.Logf("5 fine-tuning steps: largest change of a face's logit %.4f; self-blend AUC %.3f → %.3f",
		moved, tuned.Before.SelfBlend, tuned.Validation.SelfBlend)
	if moved < 1e-3 {
		t.Errorf("5 steps of fine-tuning changed no face's logit by more than %.2g", moved)
	}
	// Five steps from the parent stay nearer to it than a head trained
	// from scratch for as long: the start is the parent, not chance.
	scratch := opts
	scratch.Steps, scratch.Seed = 5, 6
	fresh, err := Train(ctx, be, bb, set, scratch)
	if err != nil {
		t.Fatal(err)
	}
	freshOut := logits(t, backbone, cfg, fresh, set)
	var dTuned, dFresh float64
	for i := range want {
		dTuned += math.Abs(tunedOut[i] - want[i])
		dFresh += math.Abs(freshOut[i] - want[i])
	}
	t.Logf("summed distance of the 12 faces' logits from the parent's: fine-tuned %.3f, fresh %.3f", dTuned, dFresh)
	if dTuned >= dFresh {
		t.Errorf("fine-tuned head is %.3f from its parent, a fresh one %.3f", dTuned, dFresh)
	}
}

// logits exports res and scores the first crops of set with the detector,
// as a scan would.
func logits(t *testing.T, backbone []byte, cfg facecnn.Config, res *Result, set *Set) []float64 {
	t.Helper()
	head, err := ONNX(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	d, err := facecnn.New(facecnn.Options{Backbone: backbone, Head: head, Config: cfg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []float64
	for _, c := range set.Crops[:12] {
		f, err := d.ScoreRGB(centre(fromBytes(c.Pixels, facecnn.Canvas, facecnn.Canvas)).Pix)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.Logit)
	}
	return out
}
