package dataset

import (
	"context"
	"encoding/json"
	"gocv.io/x/gocv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/generator/onnxexport"
	"github.com/trueframe/trueframe/generator/swap"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/media/blend"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/facepair"
	"github.com/trueframe/trueframe/media/video"
)

// fakeModelDir writes a model directory holding an untrained decoder B.
func fakeModelDir(tb testing.TB) string {
	tb.Helper()
	cfg := model.Config{Size: 64, Width: 4, Latent: 16}
	rng := rand.New(rand.NewPCG(1, 2))
	w := map[string]model.Tensor{}
	for _, l := range cfg.Plan(model.B) {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		for name, dims := range map[string][]int{"/weights": wd, "/biases": bd} {
			n := 1
			for _, d := range dims {
				n *= d
			}
			t := model.Tensor{Dims: dims, Data: make([]float32, n)}
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * 0.2)
			}
			w[l.Name+name] = t
		}
	}
	dir := tb.TempDir()
	f, err := os.Create(filepath.Join(dir, "decoder_b.onnx"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := onnxexport.Write(f, cfg.Plan(model.B), w, cfg.Size, onnxexport.Options{}); err != nil {
		tb.Fatal(err)
	}
	_ = f.Close()
	meta, _ := json.Marshal(model.Meta{ID: "test-model", Config: cfg, Identities: [2]string{"x", "y"}})
	if err := os.WriteFile(filepath.Join(dir, model.MetaFile), meta, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func TestBuildDataset(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	testutil.InitORT(t)
	real := t.TempDir()
	for _, name := range []string{"bbaf2n.mpg", "swiz3n.mpg"} {
		if err := os.Symlink(filepath.Join(grid, name), filepath.Join(real, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(real, "notes.txt"), []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	const frames = 20
	man, err := Build(context.Background(), Options{Real: real, Out: out, ModelDir: fakeModelDir(t),
		FaceModels: filepath.Join(testutil.DepsDir(t), "models"), MaxFrames: frames, MouthRetime: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Failed) != 0 {
		t.Errorf("failed: %v", man.Failed)
	}
	methods := map[string]int{}
	for _, it := range man.Items {
		methods[it.Method]++
		if it.Label != "fake" || it.Parent == "" || it.Frames != frames || it.FramesTouched < frames*9/10 {
			t.Errorf("item %+v", it)
		}
		sum, err := video.Probe(filepath.Join(out, it.File), nil)
		if err != nil || sum.Frames != frames {
			t.Errorf("%s: %d frames, %v", it.File, sum.Frames, err)
		}
		var sc swap.Sidecar
		b, err := os.ReadFile(SidecarPath(filepath.Join(out, it.File)))
		if err != nil || json.Unmarshal(b, &sc) != nil || sc.Label != "fake" || sc.Method != it.Method {
			t.Errorf("%s: sidecar %s %v", it.File, b, err)
		}
		if d := meanDiff(t, it.Parent, filepath.Join(out, it.File)); d < 0.5 {
			t.Errorf("%s: mean difference to its parent %.2f: nothing was changed", it.File, d)
		}
	}
	if methods[MethodSelfBlend] != 2 || methods[MethodMouthRetime] != 2 || methods[MethodAESwap] != 2 {
		t.Errorf("methods %v, want 2 of each", methods)
	}
	var back Manifest
	b, err := os.ReadFile(filepath.Join(out, ManifestFile))
	if err != nil || json.Unmarshal(b, &back) != nil || len(back.Items) != len(man.Items) {
		t.Fatalf("manifest: %v", err)
	}
}

// meanDiff is the mean absolute difference of the first frames of a and b.
func meanDiff(tb testing.TB, a, b string) float64 {
	da, err := video.Open(a, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer da.Close()
	db, err := video.Open(b, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var sum, n float64
	for i := 0; i < 5 && da.Next() && db.Next(); i++ {
		ia, ib := da.Frame().Image, db.Frame().Image
		pa, _ := ia.DataPtrUint8()
		pb, _ := ib.DataPtrUint8()
		for j := range pa {
			sum += math.Abs(float64(pa[j]) - float64(pb[j]))
			n++
		}
	}
	return sum / n
}

// A clip where no face is ever found still gets its (untouched) self-blend
// output, and no crash: frames without a face once reached gocv with a
// zero Mat, which segfaults.
func TestBuildClipWithoutFaces(t *testing.T) {
	testutil.InitORT(t)
	real, out := t.TempDir(), t.TempDir()
	clip := filepath.Join(real, "blank.mp4")
	videofix.WriteSynthetic(t, clip, videofix.Synthetic{Frames: 12, Background: gocv.NewScalar(90, 120, 150, 0)})
	man, err := Build(context.Background(), Options{Real: real, Out: out,
		FaceModels: filepath.Join(testutil.DepsDir(t), "models")})
	if err != nil {
		t.Fatalf("Build on a faceless clip: %v", err)
	}
	for _, it := range man.Items {
		if it.FramesTouched != 0 {
			t.Errorf("%s: %d frames touched in a clip without faces", it.Method, it.FramesTouched)
		}
	}
}

// A clip longer than the frames mouth_retime holds at once is retimed in
// chunks: every frame is written and nearly every one touched.
func TestMouthRetimeChunks(t *testing.T) {
	clip := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg")
	testutil.InitORT(t)
	pair, err := facepair.Open(filepath.Join(testutil.DepsDir(t), "models"), face.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	out := filepath.Join(t.TempDir(), "retimed.mp4")
	bo := blend.Options{LowerFace: true, Resample: 0.5, Feather: 2}
	it, err := mouthRetimeVideo(context.Background(), pair.Detector, pair.Mesher, clip, out, bo, 0, 30)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := video.Probe(clip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Frames <= 60 || it.Frames != sum.Frames || it.FramesTouched < it.Frames*9/10 {
		t.Fatalf("%d frames in, item %+v", sum.Frames, it)
	}
	if got, err := video.Probe(out, nil); err != nil || got.Frames != it.Frames {
		t.Fatalf("output: %d frames, %v", got.Frames, err)
	}
	if d := meanDiff(t, clip, out); d < 0.5 {
		t.Errorf("mean difference to the clip %.2f: nothing was changed", d)
	}
}
