package trainer

import (
	"context"
	"math"
	"testing"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/models/nn"
)

// TestTunedBlocksTrainWithTheHead: with Config.Tune, the backbone's last
// block trains with the head from its own weights. The block moves but
// stays near where it started (it was fine-tuned, not replaced), the
// network still learns the self-blends, and the exported file (block and
// head, behind a backbone that now stops one block earlier) runs in the
// detector and ranks blends above their faces. Without the starting
// weights, training refuses.
func TestTunedBlocksTrainWithTheHead(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	set := tinyCrops(t, 160)
	cfg := facecnn.Config{Cut: "stride16", Width: 8, Tune: 1}
	backbone, bb, be := trainingEngines(t, cfg)
	start, err := facecnn.TunedWeights(backbone, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Config: cfg, Samples: 1000, Steps: 150, BatchSize: 16, LearningRate: 3e-3, ValidationShare: 0.15,
		EvalEvery: 150, Regions: []Region{WholeFace}, Clean: true, Strong: true, Seed: 3}
	if _, err := Train(context.Background(), be, bb, set, opts); err == nil {
		t.Fatal("a tuned block without starting weights accepted")
	}
	opts.TunedStart = start
	res, err := Train(context.Background(), be, bb, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	v := res.Validation
	t.Logf("held-out: %d real crops, whole-face self-blend AUC %.3f (%.0f s)", v.Reals, v.ByRegion["whole_face"], res.Seconds)
	if v.ByRegion["whole_face"] < 0.8 {
		t.Errorf("held-out whole-face self-blend AUC %.3f, want ≥ 0.8", v.ByRegion["whole_face"])
	}
	for _, name := range []string{"backbone/tune1/expand/weights", "backbone/tune1/depthwise/weights", "backbone/tune1/project/weights"} {
		a, b := start[name].Data, res.Weights[name].Data
		var moved, d2, n2 float64
		for i := range a {
			d := float64(b[i] - a[i])
			moved = math.Max(moved, math.Abs(d))
			d2 += d * d
			n2 += float64(a[i]) * float64(a[i])
		}
		rel := math.Sqrt(d2 / n2)
		t.Logf("%s: largest change %.4f, relative change %.3f", name, moved, rel)
		if moved == 0 || rel > 0.5 {
			t.Errorf("%s: largest change %.4f, relative %.3f: want moved, but near its start", name, moved, rel)
		}
	}

	head, err := ONNX(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nn.ReadONNX(head, cfg.Plan()); err != nil {
		t.Fatalf("the exported file does not read back as the plan: %v", err)
	}
	d, err := facecnn.New(facecnn.Options{Backbone: backbone, Head: head, Config: cfg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	higher, n := blendsAbove(t, d, set.Crops[:30])
	t.Logf("the exported detector ranks a blend above its face in %d of %d pairs", higher, n)
	if higher < n*7/10 {
		t.Errorf("the exported detector ranks a blend above its real face in %d of %d pairs", higher, n)
	}
}
