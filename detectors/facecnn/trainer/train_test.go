package trainer

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gomlx/compute"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models/nn"
)

// tinyCrops extracts crops from the first n FairFace photos of the shared
// training faces.
func tinyCrops(t *testing.T, n int) *Set {
	t.Helper()
	dir := testutil.SharedDir(t, "data", "train", "real_faces", "fairface")
	testutil.InitORT(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	tmp := t.TempDir()
	for _, name := range names[:n] {
		if err := os.Symlink(filepath.Join(dir, name), filepath.Join(tmp, name)); err != nil {
			t.Fatal(err)
		}
	}
	e, err := NewExtractor(filepath.Join(testutil.DepsDir(t), "models"), ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	set, err := e.Extract(context.Background(), []Source{{Path: tmp, Method: "real"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Crops) < n*8/10 {
		t.Fatalf("only %d faces from %d photos", len(set.Crops), n)
	}
	return set
}

// TestTinyDetectorLearnsSelfBlends trains a small head on a small set of
// generated fakes and checks it tells held-out photos' self-blends from
// the photos themselves: the whole learned path (crops, self-blending,
// frozen backbone in ONNX Runtime, GoMLX training, ONNX export, the
// detector's inference) working end to end.
func TestTinyDetectorLearnsSelfBlends(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network")
	}
	set := tinyCrops(t, 240)
	cfg := facecnn.Config{Cut: "stride16", Width: 32}
	backbone, bb, be := trainingEngines(t, cfg)
	res, err := Train(context.Background(), be, bb, set, Options{Config: cfg, Samples: 3000, Steps: 500, BatchSize: 32, LearningRate: 2e-3,
		ValidationShare: 0.15, EvalEvery: 500, Regions: []Region{WholeFace}, Clean: true, Strong: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Validation
	t.Logf("held-out: %d real crops, self-blend AUC %.3f %v (training: %+v, %.0f s)", v.Reals, v.SelfBlend, v.ByRegion, res.Train, res.Seconds)
	if v.Reals < 15 {
		t.Fatalf("only %d held-out crops", v.Reals)
	}
	if v.ByRegion["whole_face"] < 0.8 {
		t.Fatalf("held-out whole-face self-blend AUC %.3f, want ≥ 0.8", v.ByRegion["whole_face"])
	}

	// The exported head, run by the detector's own code through ONNX
	// Runtime, scores as the GoMLX graph did: blends above their reals.
	head, err := ONNX(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	d, err := facecnn.New(facecnn.Options{Backbone: backbone, Head: head, Config: cfg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	higher, n := blendsAbove(t, d, set.Crops[:40])
	if higher < n*7/10 {
		t.Fatalf("the exported detector ranks a blend above its real face in %d of %d pairs", higher, n)
	}
}

// blendsAbove scores each crop and a strong whole-face self-blend of it
// with the detector, as a scan would, and counts the pairs where the
// blend scores higher.
func blendsAbove(t *testing.T, d *facecnn.Detector, crops []Crop) (higher, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	for _, c := range crops {
		real, err := d.ScoreRGB(centre(fromBytes(c.Pixels, facecnn.Canvas, facecnn.Canvas)).Pix)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := SelfBlend(rng, c, WholeFace, true)
		fake, err := d.ScoreRGB(centre(b).Pix)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if fake.Logit > real.Logit {
			higher++
		}
	}
	return higher, n
}

// trainingEngines returns the backbone file's bytes, the backbone cut at
// cut (batches of 16) and GoMLX's ONNX Runtime backend, all closed when
// the test ends.
func trainingEngines(t *testing.T, cfg facecnn.Config) ([]byte, *facecnn.Backbone, compute.Backend) {
	t.Helper()
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", filepath.Join(testutil.DepsDir(t), "lib", "libonnxruntime.so.1.30.0"))
	backbone, err := os.ReadFile(testutil.ModelPath(t, facecnn.BackboneFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.FeatureCut()
	if err != nil {
		t.Fatal(err)
	}
	bb, err := facecnn.NewBackbone(backbone, c, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })
	be, err := nn.NewBackend(nn.BackendONNX)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return backbone, bb, be
}
