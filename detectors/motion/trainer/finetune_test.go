package trainer

import (
	"context"
	"math"
	"testing"

	"github.com/trueframe/trueframe/detectors/motion"
	"github.com/trueframe/trueframe/models/nn"
)

// TestFineTuneStartsFromParent: a network trained on from a parent's
// exported weights, with its input scaling, starts where the parent is.
// With no step it gives the parent's outputs on fixed windows, through
// ONNX Runtime; a few steps move them, less far than a fresh network's.
func TestFineTuneStartsFromParent(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	set, clips := portraitSequences(t, 6)
	be := onnxBackend(t)
	ctx := context.Background()
	opts := Options{Width: 8, Steps: 30, BatchSize: 16, Seed: 3, ValidationShare: 0.4}
	parent, err := Train(ctx, be, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	parentONNX, err := ONNX(parent, "parent")
	if err != nil {
		t.Fatal(err)
	}
	from, err := nn.ReadONNXMembers(parentONNX, parent.Config.Plan())
	if err != nil {
		t.Fatal(err)
	}
	fixed := firstWindows(set)
	if len(fixed) < 3 {
		t.Fatalf("%d windows from %d clips", len(fixed), len(clips))
	}
	want := windowLogits(t, parent, fixed)

	child := func(steps int, from []map[string]nn.Tensor) *Result {
		t.Helper()
		o := opts
		o.Steps, o.Seed, o.From, o.Norm = steps, 4, from, parent.Config.Norm
		res, err := Train(ctx, be, set, o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	same := child(-1, from)
	if same.Config.Norm != parent.Config.Norm {
		t.Error("the child's input scaling is not its parent's")
	}
	if same.Steps != 0 || same.Before == nil {
		t.Errorf("no step: %d steps, before %+v", same.Steps, same.Before)
	}
	for i, z := range windowLogits(t, same, fixed) {
		if math.Abs(z-want[i]) > 1e-5 {
			t.Fatalf("window %d: a child of no step gives %.6f, its parent %.6f", i, z, want[i])
		}
	}
	distance := func(res *Result) float64 {
		var d float64
		for i, z := range windowLogits(t, res, fixed) {
			d += math.Abs(z - want[i])
		}
		return d
	}
	tuned, fresh := distance(child(5, from)), distance(child(5, nil))
	t.Logf("after 5 steps, summed distance from the parent's logits: fine-tuned %.4f, fresh %.4f", tuned, fresh)
	if tuned < 1e-3 {
		t.Errorf("5 steps of fine-tuning moved the logits by %.2g in all", tuned)
	}
	if tuned >= fresh {
		t.Errorf("fine-tuned network is %.3f from its parent, a fresh one %.3f", tuned, fresh)
	}
}

func windowLogits(t *testing.T, res *Result, ws [][][motion.NumChannels]float64) []float64 {
	t.Helper()
	data, err := ONNX(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	d, err := motion.New(motion.Options{Model: data, Config: res.Config, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []float64
	for _, w := range ws {
		z, err := d.Logit(w)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, z)
	}
	return out
}

// TestEnsemble: an ensemble's exported model gives, through ONNX Runtime,
// the mean of its networks' logits; its first network is the single
// network of the same seed; and it reads back as its members, from which
// fine-tuning starts.
func TestEnsemble(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	set, _ := portraitSequences(t, 6)
	be := onnxBackend(t)
	ctx := context.Background()
	opts := Options{Width: 8, Steps: 20, BatchSize: 16, Seed: 5, ValidationShare: 0.4}
	single, err := Train(ctx, be, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Members = 3
	ens, err := Train(ctx, be, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ens.Members) != 3 || len(single.Members) != 1 {
		t.Fatalf("%d and %d members", len(ens.Members), len(single.Members))
	}
	fixed := firstWindows(set)
	one := func(k int) *Result {
		return &Result{Config: ens.Config, Members: ens.Members[k : k+1]}
	}
	got := windowLogits(t, ens, fixed)
	members := [][]float64{windowLogits(t, one(0), fixed), windowLogits(t, one(1), fixed), windowLogits(t, one(2), fixed)}
	for i, z := range got {
		mean := (members[0][i] + members[1][i] + members[2][i]) / 3
		if math.Abs(z-mean) > 1e-4 {
			t.Fatalf("window %d: the ensemble gives %.5f, its members' mean is %.5f", i, z, mean)
		}
	}
	if d := math.Abs(members[0][0] - members[1][0]); d < 1e-4 {
		t.Errorf("members 0 and 1 agree to %.2g: they were not trained apart", d)
	}
	for i, z := range windowLogits(t, single, fixed) {
		if math.Abs(z-members[0][i]) > 1e-4 {
			t.Fatalf("window %d: member 0 gives %.5f, the single network of its seed %.5f", i, members[0][i], z)
		}
	}
	data, err := ONNX(ens, "ensemble")
	if err != nil {
		t.Fatal(err)
	}
	back, err := nn.ReadONNXMembers(data, ens.Config.Plan())
	if err != nil || len(back) != 3 {
		t.Fatalf("read back %d members: %v", len(back), err)
	}
	if _, err := nn.ReadONNX(data, ens.Config.Plan()); err == nil {
		t.Error("ReadONNX took an ensemble for one network")
	}
	o := opts
	o.Steps, o.From, o.Norm = -1, back, ens.Config.Norm
	same, err := Train(ctx, be, set, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, z := range windowLogits(t, same, fixed) {
		if math.Abs(z-got[i]) > 1e-4 {
			t.Fatalf("window %d: the ensemble read back gives %.5f, written %.5f", i, z, got[i])
		}
	}
}

// firstWindows is the first window of each run of set's sequences.
func firstWindows(set *Set) [][][motion.NumChannels]float64 {
	var out [][][motion.NumChannels]float64
	for _, s := range set.Sequences {
		for _, run := range motion.Resample(s.Frames) {
			if len(run.Samples) >= motion.WindowLen {
				out = append(out, run.Samples[:motion.WindowLen])
			}
		}
	}
	return out
}
