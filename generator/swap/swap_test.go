package swap

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/generator/onnxexport"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/video"
)

// randomModel writes an untrained (randomly initialised) autoencoder as ONNX:
// its output is not a face, which makes the swapped region easy to measure.
func randomModel(tb testing.TB, cfg model.Config) string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	w := map[string]model.Tensor{}
	for _, l := range cfg.Plan(model.B) {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		fan := float64(wd[len(wd)-2])
		if l.Kind == model.Conv {
			fan *= float64(l.K * l.K)
		}
		mk := func(dims []int, sd float64) model.Tensor {
			t := model.Tensor{Dims: dims, Data: make([]float32, prod(dims))}
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * sd)
			}
			return t
		}
		w[l.Name+"/weights"] = mk(wd, math.Sqrt(2/fan))
		w[l.Name+"/biases"] = mk(bd, 0.1)
	}
	path := filepath.Join(tb.TempDir(), "decoder_b.onnx")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := onnxexport.Write(f, cfg.Plan(model.B), w, cfg.Size, onnxexport.Options{}); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func prod(d []int) int {
	p := 1
	for _, v := range d {
		p *= v
	}
	return p
}

// TestSwapVideo converts a real clip and measures the result: playable, same
// frame count and size, the face region changed and the background not.
func TestSwapVideo(t *testing.T) {
	target := testutil.SharedDir(t, "data", "videos", "real", "grid", "lbax4n.mpg")
	testutil.InitORT(t)
	cfg := model.Config{Size: 64, Width: 4, Latent: 16}
	conv, err := NewConverter(randomModel(t, cfg), cfg.Size)
	if err != nil {
		t.Fatal(err)
	}
	defer conv.Close()
	sw, err := New(conv, Options{FaceModels: filepath.Join(testutil.DepsDir(t), "models")})
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	out := filepath.Join(t.TempDir(), "fake.mp4")
	res, err := sw.Video(context.Background(), target, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames (%d with a face) in %v: %.1f frames/s", res.Frames, res.FramesTouched, res.Elapsed,
		float64(res.Frames)/res.Elapsed.Seconds())
	if res.FramesTouched < res.Frames*9/10 {
		t.Errorf("only %d of %d frames had their face swapped", res.FramesTouched, res.Frames)
	}

	sum, err := video.Probe(target, nil)
	if err != nil {
		t.Fatal(err)
	}
	outSum, err := video.Probe(out, nil)
	if err != nil {
		t.Fatalf("output not playable: %v", err)
	}
	if outSum.Frames != sum.Frames || outSum.Width != sum.Width || outSum.Height != sum.Height ||
		math.Abs(outSum.FPS-sum.FPS) > 0.01 {
		t.Fatalf("output %dx%d %d frames %.2f fps, target %dx%d %d frames %.2f fps",
			outSum.Width, outSum.Height, outSum.Frames, outSum.FPS, sum.Width, sum.Height, sum.Frames, sum.FPS)
	}

	// Compare frame by frame: inside the face box and well outside it.
	boxes := map[int]media.Rect{}
	for _, f := range res.Faces {
		boxes[f.Frame] = f.Box
	}
	din, err := video.Open(target, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer din.Close()
	dout, err := video.Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dout.Close()
	var faceDiff, bgDiff, faceN, bgN float64
	for din.Next() && dout.Next() {
		a, b := din.Frame(), dout.Frame()
		box, ok := boxes[a.Index]
		if !ok {
			continue
		}
		inner := box.Grow(0.5)
		outer := box.Grow(1.6)
		pa, _ := a.Image.DataPtrUint8()
		pb, _ := b.Image.DataPtrUint8()
		w := a.Image.Cols()
		for i := 0; i < len(pa); i += 3 {
			x, y := float64((i/3)%w), float64((i/3)/w)
			var d float64
			for c := range 3 {
				d += math.Abs(float64(pa[i+c]) - float64(pb[i+c]))
			}
			d /= 3
			switch {
			case inside(inner, x, y):
				faceDiff += d
				faceN++
			case !inside(outer, x, y):
				bgDiff += d
				bgN++
			}
		}
	}
	faceDiff /= faceN
	bgDiff /= bgN
	t.Logf("mean |output - target|: face centre %.1f, background %.2f grey levels", faceDiff, bgDiff)
	if faceDiff < 15 {
		t.Errorf("face region barely changed: %.1f", faceDiff)
	}
	if bgDiff > 3 {
		t.Errorf("background changed: %.2f", bgDiff)
	}

	sc := filepath.Join(t.TempDir(), "fake.json")
	if err := WriteSidecar(sc, Sidecar{Label: "fake", Method: "autoencoder_swap", Target: target, Output: out,
		Frames: res.Frames, FramesTouched: res.FramesTouched}); err != nil {
		t.Fatal(err)
	}
	var back Sidecar
	b, _ := os.ReadFile(sc)
	if err := json.Unmarshal(b, &back); err != nil || back.Label != "fake" || back.Frames != res.Frames {
		t.Errorf("sidecar %s: %v", b, err)
	}
}

func inside(r media.Rect, x, y float64) bool {
	return x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H
}

func TestConvexHull(t *testing.T) {
	pts := []media.Point{{X: 0, Y: 0}, {X: 2, Y: 0}, {X: 2, Y: 2}, {X: 0, Y: 2}, {X: 1, Y: 1}, {X: 1, Y: 0}}
	h := convexHull(pts)
	if len(h) != 4 {
		t.Errorf("hull %v, want the 4 corners", h)
	}
}
