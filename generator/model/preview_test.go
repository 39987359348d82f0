package model

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// untrainedModel is a tiny model fresh from initialisation: Preview and
// PSNR only need its decoders to answer.
func untrainedModel(t *testing.T, a, b [][]float32) *Trainer {
	t.Helper()
	tr, err := NewTrainer(goBackend(t), a, b, TrainOptions{Config: tinyConfig, BatchSize: 4, LearningRate: 3e-3,
		Warp: WarpOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func pixel(f []float32, size, x, y int) color.RGBA {
	p := (y*size + x) * 3
	return color.RGBA{toByte(f[p]), toByte(f[p+1]), toByte(f[p+2]), 255}
}

// The grid has a column per face (up to six, picked evenly) and six rows:
// A, A rebuilt, A as B, B, B rebuilt, B as A. Cells past the end of the
// shorter set stay empty.
func TestPreviewLayout(t *testing.T) {
	size := tinyConfig.Size
	a := synthFaces(10, size, [3]float32{0.85, 0.65, 0.55}, 1)
	b := synthFaces(3, size, [3]float32{0.45, 0.35, 0.75}, 2)
	tr := untrainedModel(t, a, b)
	img, err := tr.Preview(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.Bounds(), image.Rect(0, 0, 6*size, 6*size); got != want {
		t.Fatalf("bounds %v, want %v", got, want)
	}
	rebuiltA, err := tr.Predict(A, a[:1])
	if err != nil {
		t.Fatal(err)
	}
	swappedB, err := tr.Predict(A, b[:1])
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]struct {
		row, col int
		face     []float32 // nil: empty
	}{
		"first face of A":    {0, 0, a[0]},
		"spread through A":   {0, 5, a[8]},
		"A rebuilt":          {1, 0, rebuiltA[0]},
		"first face of B":    {3, 0, b[0]},
		"last face of B":     {3, 2, b[2]},
		"past the end of B":  {3, 3, nil},
		"B decoded as A":     {5, 0, swappedB[0]},
		"past the end again": {5, 5, nil},
	}
	for name, c := range cells {
		for _, xy := range [][2]int{{0, 0}, {size / 2, size / 2}, {size - 1, size - 3}} {
			got := img.RGBAAt(c.col*size+xy[0], c.row*size+xy[1])
			want := color.RGBA{}
			if c.face != nil {
				want = pixel(c.face, size, xy[0], xy[1])
			}
			if got != want {
				t.Errorf("%s at %v: %v, want %v", name, xy, got, want)
			}
		}
	}

	path := filepath.Join(t.TempDir(), PreviewFile)
	if err := tr.WritePreview(path, a, b); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	written, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if written.Bounds() != img.Bounds() {
		t.Fatalf("written preview is %v, want %v", written.Bounds(), img.Bounds())
	}
	for _, xy := range [][2]int{{size / 2, size / 2}, {size + 3, 4*size + 5}} {
		if got, want := color.RGBAModel.Convert(written.At(xy[0], xy[1])), img.At(xy[0], xy[1]); got != want {
			t.Errorf("written preview at %v: %v, want %v", xy, got, want)
		}
	}
	if err := tr.WritePreview(filepath.Join(t.TempDir(), "missing", PreviewFile), a, b); err == nil {
		t.Error("WritePreview into a missing directory: no error")
	}
}

func TestHoldOut(t *testing.T) {
	faces := func(n int) [][]float32 { return make([][]float32, n) }
	cases := map[string]struct {
		n          int
		frac       float64
		train, hel int
	}{
		"a tenth":            {20, 0.1, 18, 2},
		"rounds":             {10, 0.15, 8, 2},
		"at least one held":  {5, 0.01, 4, 1},
		"at least one kept":  {5, 0.99, 1, 4},
		"none asked":         {5, 0, 5, 0},
		"one face":           {1, 0.5, 1, 0},
		"no faces":           {0, 0.5, 0, 0},
		"the end is held":    {3, 0.34, 2, 1},
		"negative is none":   {4, -1, 4, 0},
		"everything is half": {4, 0.5, 2, 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			all := faces(c.n)
			for i := range all {
				all[i] = []float32{float32(i)}
			}
			train, held := HoldOut(all, c.frac)
			if len(train) != c.train || len(held) != c.hel {
				t.Fatalf("%d trained, %d held; want %d, %d", len(train), len(held), c.train, c.hel)
			}
			if len(held) > 0 && held[len(held)-1][0] != float32(c.n-1) {
				t.Errorf("the held-out faces are not the last ones")
			}
		})
	}
}

func TestPSNR(t *testing.T) {
	flat := func(v float32) []float32 { return []float32{v, v, v, v} }
	cases := map[string]struct {
		want, got []float32
		db        float64
	}{
		"identical is capped":   {flat(0.5), flat(0.5), maxPSNR},
		"off by a tenth":        {flat(0.5), flat(0.6), 20},
		"off by a hundredth":    {flat(0.2), flat(0.19), 40},
		"black against white":   {flat(0), flat(1), 0},
		"one pixel in four off": {[]float32{0, 0, 0, 0}, []float32{0, 0, 0, 1}, 10 * math.Log10(4)},
	}
	for name, c := range cases {
		if got := psnr(c.want, c.got); math.Abs(got-c.db) > 1e-4 {
			t.Errorf("%s: %.5f dB, want %.5f", name, got, c.db)
		}
	}

	// Through the model: more faces than one batch, and training raises it.
	size := tinyConfig.Size
	a := synthFaces(20, size, [3]float32{0.85, 0.65, 0.55}, 1)
	b := synthFaces(20, size, [3]float32{0.45, 0.35, 0.75}, 2)
	tr := untrainedModel(t, a, b)
	if db, err := tr.PSNR(A, nil); err != nil || db != 0 {
		t.Errorf("PSNR of no faces: %v, %v", db, err)
	}
	before, err := tr.PSNR(A, a)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := tr.PSNR(A, a[:psnrBatch])
	rest, _ := tr.PSNR(A, a[psnrBatch:])
	if mean := (first*psnrBatch + rest*float64(len(a)-psnrBatch)) / float64(len(a)); math.Abs(mean-before) > 1e-9 {
		t.Errorf("PSNR of %d faces %.6f dB, the mean of its batches %.6f", len(a), before, mean)
	}
	if err := tr.Train(context.Background(), 20, nil); err != nil {
		t.Fatal(err)
	}
	after, err := tr.PSNR(A, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PSNR of A before training %.2f dB, after 20 steps %.2f dB", before, after)
	if !(after > before+1) {
		t.Errorf("PSNR did not rise with training: %.2f → %.2f dB", before, after)
	}
}
