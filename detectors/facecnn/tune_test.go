package facecnn

import (
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models/nn"
)

// TestTunedBlocksStartAsTheBackbone: the blocks a Config tunes start from
// the backbone's own weights, dequantised. Run in float on the features
// where the frozen part now ends, they give the features the int8
// backbone gives at the cut, up to its quantisation, on two real faces
// and for both cuts: a transposed kernel, a wrong scale or zero point, a
// bias read at the wrong scale or the residual dropped would not.
func TestTunedBlocksStartAsTheBackbone(t *testing.T) {
	testutil.InitORT(t)
	data, err := os.ReadFile(testutil.ModelPath(t, BackboneFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.SharedDir(t, "data", "images", "faces")
	var faces [][]float32
	for _, name := range []string{"grace_hopper_512x512.jpg", "face.jpg"} {
		faces = append(faces, loadFace(t, dir+"/"+name))
	}
	be, err := nn.NewBackend(nn.BackendGo)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	for _, cutName := range []string{"stride8", "stride16"} {
		for tune := 1; tune <= MaxTune; tune++ {
			cfg := Config{Cut: cutName, Width: 8, Tune: tune}
			start, err := cfg.FeatureCut()
			if err != nil {
				t.Fatal(err)
			}
			end, _ := CutNamed(cutName)
			in := features(t, data, start, faces)
			want := features(t, data, end, faces)
			weights, err := TunedWeights(data, cfg)
			if err != nil {
				t.Fatal(err)
			}
			blocks := cfg.Plan()[:5*tune]
			store := mlmodel.NewStore()
			if err := nn.SetWeights(store, blocks, weights); err != nil {
				t.Fatal(err)
			}
			exec, err := mlmodel.NewExec(be, store, func(scope *mlmodel.Scope, x *graph.Node) *graph.Node {
				return nn.Apply(scope, blocks, x)
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Exec(tensors.FromFlatDataAndDimensions(in, len(faces), start.H, start.W, start.C))
			exec.Finalize()
			if err != nil {
				t.Fatal(err)
			}
			got, err := tensors.CopyFlatData[float32](out[0])
			if err != nil {
				t.Fatal(err)
			}
			r := correlation(got, want)
			// The same features, were the blocks frozen: their own input.
			unchanged := correlation(in, want)
			t.Logf("%s, %d tuned: correlation with the int8 backbone's features %.4f (the blocks' input: %.4f)", cutName, tune, r, unchanged)
			if r < 0.98 || r < unchanged+0.05 {
				t.Errorf("%s, %d tuned blocks: their output correlates %.4f with the backbone's (their input %.4f)", cutName, tune, r, unchanged)
			}
		}
	}
	if _, err := TunedWeights(data, Config{Tune: MaxTune + 1}); err == nil {
		t.Error("more tuned blocks than the cut has accepted")
	}
	if w, err := TunedWeights(data, Config{}); err != nil || len(w) != 0 {
		t.Errorf("no tuned block: %d tensors, %v", len(w), err)
	}
}

// features runs the int8 backbone cut at cut on faces.
func features(t *testing.T, model []byte, cut Cut, faces [][]float32) []float32 {
	t.Helper()
	bb, err := NewBackbone(model, cut, len(faces), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	out := make([]float32, len(faces)*cut.C*cut.H*cut.W)
	if err := bb.Features(faces, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// loadFace reads a picture as InputSize² RGB in [0,1], sampled from its
// centre square.
func loadFace(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	out := make([]float32, 3*InputSize*InputSize)
	for y := range InputSize {
		for x := range InputSize {
			r, g, bl, _ := img.At(x0+x*side/InputSize, y0+y*side/InputSize).RGBA()
			p := 3 * (y*InputSize + x)
			out[p], out[p+1], out[p+2] = float32(r)/65535, float32(g)/65535, float32(bl)/65535
		}
	}
	return out
}

func correlation(a, b []float32) float64 {
	var sa, sb, saa, sbb, sab float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		sa, sb, saa, sbb, sab = sa+x, sb+y, saa+x*x, sbb+y*y, sab+x*y
	}
	n := float64(len(a))
	return (sab - sa*sb/n) / math.Sqrt((saa-sa*sa/n)*(sbb-sb*sb/n))
}
