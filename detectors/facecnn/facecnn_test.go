package facecnn

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

func TestFrameLogitIsASoftMaximum(t *testing.T) {
	flat := make([]float64, GridSize*GridSize)
	for i := range flat {
		flat[i] = -2
	}
	if got := FrameLogit(flat); math.Abs(got+2) > 1e-12 {
		t.Fatalf("all patches −2: %v", got)
	}
	// One patch much higher lifts the frame far above the mean but not to
	// the maximum: log((e^8 + 195·e^−2)/196).
	flat[17] = 8
	want := math.Log((math.Exp(8) + 195*math.Exp(-2)) / 196)
	if got := FrameLogit(flat); math.Abs(got-want) > 1e-9 || got < 2 {
		t.Fatalf("one seam patch: %v, want %v", got, want)
	}
	// No overflow on large logits.
	flat[17] = 1000
	if got := FrameLogit(flat); math.IsInf(got, 0) || math.IsNaN(got) {
		t.Fatalf("large logit: %v", got)
	}
}

func TestPlanEndsInThePatchGrid(t *testing.T) {
	for _, cut := range []string{"stride8", "stride16"} {
		c := Config{Cut: cut}.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		plan := c.Plan()
		last := plan[len(plan)-1]
		if last.Out != 1 || last.K != 1 {
			t.Fatalf("%s: last layer %+v", cut, last)
		}
	}
	if err := (Config{Cut: "stride4", Width: 8}).Validate(); err == nil {
		t.Fatal("unknown cut accepted")
	}
}

// TestBackboneFeatures cuts the installed MobileNetV2 and runs it: the
// features come out finite, of the cut's shape, and differ between faces.
func TestBackboneFeatures(t *testing.T) {
	testutil.InitORT(t)
	data, err := os.ReadFile(testutil.ModelPath(t, BackboneFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"stride8", "stride16"} {
		cut, _ := CutNamed(name)
		bb, err := NewBackbone(data, cut, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		faces := [][]float32{make([]float32, 3*InputSize*InputSize), make([]float32, 3*InputSize*InputSize)}
		for i := range faces[1] {
			faces[1][i] = rng.Float32()
		}
		out := make([]float32, 2*cut.C*cut.H*cut.W)
		if err := bb.Features(faces, out); err != nil {
			t.Fatal(err)
		}
		n := cut.C * cut.H * cut.W
		var diff float64
		for i := range n {
			if math.IsNaN(float64(out[i])) || math.IsInf(float64(out[i]), 0) {
				t.Fatalf("%s: feature %d is %v", name, i, out[i])
			}
			diff += math.Abs(float64(out[i] - out[n+i]))
		}
		if diff == 0 {
			t.Fatalf("%s: a grey face and noise give the same features", name)
		}
		if err := bb.Features(make([][]float32, 3), out); err == nil {
			t.Fatalf("%s: more faces than the batch accepted", name)
		}
		bb.Close()
	}
	if _, err := TruncateBackbone(data, Cut{Tensor: "no_such_quantized"}); err == nil {
		t.Fatal("a missing cut tensor accepted")
	}
	if _, err := TruncateBackbone([]byte("not onnx"), Cut{Tensor: "365_quantized"}); err == nil {
		t.Fatal("garbage accepted as a backbone")
	}
}

// TestPhaseOffsets: the phases are evenly spaced over one pixel, centred
// on the fitted alignment; one phase is the alignment itself.
func TestPhaseOffsets(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []float64
	}{
		{1, []float64{0}},
		{2, []float64{-0.25, 0.25}},
		{3, []float64{-1.0 / 3, 0, 1.0 / 3}},
	} {
		got := phaseOffsets(c.n)
		if len(got) != len(c.want) {
			t.Fatalf("%d: %v, want %v", c.n, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Fatalf("%d: %v, want %v", c.n, got, c.want)
			}
		}
	}
}

func TestPhasesMustMakeASquareGrid(t *testing.T) {
	for _, n := range []int{2, 3, 5, 16, -1} {
		_, err := New(Options{Backbone: []byte{1}, Head: []byte{1}, Version: "v", Phases: n})
		if err == nil || !strings.Contains(err.Error(), "phases") {
			t.Errorf("%d phases: %v", n, err)
		}
	}
}

// TestTunedPlan: Config.Tune puts that many backbone blocks, each an
// inverted residual trained at TunedRate, before the head, and moves the
// frozen backbone's end back to the first one's input, of the cut's shape.
func TestTunedPlan(t *testing.T) {
	for _, c := range []struct {
		cut  string
		tune int
		from string
	}{{"stride8", 0, "365_quantized"}, {"stride8", 1, "356_quantized"}, {"stride8", 2, "507_quantized"}, {"stride16", 2, "382_quantized"}} {
		cfg := Config{Cut: c.cut, Tune: c.tune}
		fc, err := cfg.FeatureCut()
		if err != nil {
			t.Fatal(err)
		}
		cut, _ := CutNamed(c.cut)
		if fc.Tensor != c.from || fc.C != cut.C || fc.H != cut.H {
			t.Errorf("%s, %d tuned: frozen part ends at %s %dx%dx%d, want %s of the cut's shape", c.cut, c.tune, fc.Tensor, fc.C, fc.H, fc.W, c.from)
		}
		plan := cfg.Plan()
		head := Config{Cut: c.cut}.Plan()
		if len(plan) != len(head)+5*c.tune {
			t.Fatalf("%s, %d tuned: %d layers, the head alone %d", c.cut, c.tune, len(plan), len(head))
		}
		for i, l := range plan[:5*c.tune] {
			if l.Name != "" && l.Rate != TunedRate {
				t.Errorf("%s: layer %s trains at rate %v", c.cut, l.Name, l.Rate)
			}
			if i%5 == 2 && (l.In != 6*cut.C || l.K != 3) {
				t.Errorf("%s: block layer %d is %+v, want the 3×3 depthwise of %d channels", c.cut, i, l, 6*cut.C)
			}
		}
	}
	for _, bad := range []int{-1, MaxTune + 1} {
		if _, err := (Config{Tune: bad}).FeatureCut(); err == nil {
			t.Errorf("%d tuned blocks accepted", bad)
		}
	}
}
