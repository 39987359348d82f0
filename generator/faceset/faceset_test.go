package faceset

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

func newExtractor(tb testing.TB, opts Options) *Extractor {
	tb.Helper()
	testutil.InitORT(tb)
	opts.ModelDir = filepath.Join(testutil.DepsDir(tb), "models")
	e, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

// TestExtractAlignsEyes extracts faces from a real GRID clip and a portrait
// clip and checks, by fitting landmarks again on each written crop, that the
// eyes sit where alignment promises.
func TestExtractAlignsEyes(t *testing.T) {
	clips := []string{
		testutil.SharedDir(t, "data", "videos", "real", "grid", "bbaf2n.mpg"),
		testutil.SharedDir(t, "data", "videos", "real", "portrait", "d3.mp4"),
	}
	const size = 128
	e := newExtractor(t, Options{Size: size, Stride: 6, MaxPerSource: 8})
	dir := t.TempDir()
	idx, err := e.Extract(context.Background(), clips, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Entries) < 10 {
		t.Fatalf("%d crops from two clips, want at least 10 (skipped %+v)", len(idx.Entries), idx.Skipped)
	}
	back, err := ReadIndex(dir)
	if err != nil || len(back.Entries) != len(idx.Entries) || back.Size != size {
		t.Fatalf("index read back: %v, %d entries", err, len(back.Entries))
	}
	wantR, wantL := landmark.CanonicalRightEye(size), landmark.CanonicalLeftEye(size)
	var worst, sum float64
	for _, ent := range idx.Entries {
		if ent.Sharpness <= 0 || ent.EyeOpenness[0] <= 0 || ent.FaceWidth < 40 || ent.Source == "" {
			t.Errorf("%s: incomplete entry %+v", ent.File, ent)
		}
		img := gocv.IMRead(filepath.Join(dir, ent.File), gocv.IMReadColor)
		if img.Cols() != size || img.Rows() != size {
			t.Fatalf("%s: %dx%d crop", ent.File, img.Cols(), img.Rows())
		}
		c := float64(size-1) / 2
		f, err := e.mesher.Fit(img, media.ROI{Center: media.Point{X: c, Y: c}, Size: size})
		if err == nil {
			f, err = e.mesher.Fit(img, f.NextROI())
		}
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		d := math.Max(f.RightEyeCenter().Dist(wantR), f.LeftEyeCenter().Dist(wantL))
		worst = math.Max(worst, d)
		sum += d
	}
	mean := sum / float64(len(idx.Entries))
	t.Logf("%d crops at %d px: eye position error mean %.2f px, worst %.2f px", len(idx.Entries), size, mean, worst)
	if mean > 3 || worst > 6 {
		t.Errorf("eyes off their canonical positions: mean %.2f px, worst %.2f px (size %d)", mean, worst, size)
	}
	faces, err := Load(dir, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != len(idx.Entries) || len(faces[0]) != 64*64*3 {
		t.Fatalf("Load: %d faces of %d values", len(faces), len(faces[0]))
	}
}

func TestExtractSkipsSmallFaces(t *testing.T) {
	clip := testutil.SharedDir(t, "data", "videos", "real", "grid", "bbaf2n.mpg")
	e := newExtractor(t, Options{MinFaceSize: 300, Stride: 25})
	dir := t.TempDir()
	idx, err := e.Extract(context.Background(), []string{clip}, dir)
	if !errors.Is(err, ErrNoFaces) {
		t.Fatalf("err %v, want ErrNoFaces", err)
	}
	if idx.Skipped.TooSmall == 0 {
		t.Errorf("no frame counted as too small: %+v", idx.Skipped)
	}
}

func TestSharpnessFallsWithBlur(t *testing.T) {
	m := gocv.NewMatWithSize(64, 64, gocv.MatTypeCV8UC3)
	defer m.Close()
	for y := range 64 {
		for x := range 64 {
			v := uint8(((x/4)+(y/4))%2) * 200
			for c := range 3 {
				m.SetUCharAt(y, x*3+c, v)
			}
		}
	}
	sharp, err := sharpness(m)
	if err != nil {
		t.Fatal(err)
	}
	bl := gocv.NewMat()
	defer bl.Close()
	gocv.GaussianBlur(m, &bl, image.Pt(0, 0), 3, 3, gocv.BorderDefault)
	blurred, err := sharpness(bl)
	if err != nil {
		t.Fatal(err)
	}
	if !(blurred < sharp/10) || blurred >= (Options{}).withDefaults().MinSharpness {
		t.Errorf("sharpness %.1f, blurred %.1f", sharp, blurred)
	}
}

func TestFloatRoundTrip(t *testing.T) {
	f := make([]float32, 8*8*3)
	for i := range f {
		f[i] = float32(i%256) / 255
	}
	m, err := FromFloat(f, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	g, err := ToFloat(m, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f {
		if math.Abs(float64(f[i]-g[i])) > 1e-6 {
			t.Fatalf("value %d: %v -> %v", i, f[i], g[i])
		}
	}
	if _, err := ToFloat(gocv.NewMat(), 8); !errors.Is(err, media.ErrBadImage) {
		t.Errorf("empty Mat: %v", err)
	}
}

// TestExtractKeepsClosedEyes extracts every frame of a GRID clip in which the
// speaker blinks: the closed-eye frames must be in the set (a model trained
// without them cannot blink), with their openness recorded.
func TestExtractKeepsClosedEyes(t *testing.T) {
	clip := testutil.SharedDir(t, "data", "videos", "real", "grid", "bbaf2n.mpg")
	e := newExtractor(t, Options{})
	idx, err := e.Extract(context.Background(), []string{clip}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	open, closed := 0, 0
	for _, ent := range idx.Entries {
		switch m := math.Min(ent.EyeOpenness[0], ent.EyeOpenness[1]); {
		case m < 0.12:
			closed++
		case m > 0.2:
			open++
		}
	}
	t.Logf("%d crops: %d with an eye closed, %d open", len(idx.Entries), closed, open)
	if len(idx.Entries) < 70 || closed == 0 || open < 50 {
		t.Errorf("%d crops, %d closed-eye, %d open: want the blink kept among ~75 frames", len(idx.Entries), closed, open)
	}
}

// An unreadable source among good ones is listed and skipped; the others
// are still extracted.
func TestExtractSkipsUnreadableSources(t *testing.T) {
	src := t.TempDir()
	clip := testutil.SharedDir(t, "data", "videos", "real", "grid", "bbaf2n.mpg")
	if err := os.Symlink(clip, filepath.Join(src, "a.mpg")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "broken.png"), []byte("\x89PNG not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newExtractor(t, Options{Stride: 10, MaxPerSource: 3})
	idx, err := e.Extract(context.Background(), []string{src}, t.TempDir())
	if err != nil {
		t.Fatalf("one unreadable source failed the extraction: %v", err)
	}
	if len(idx.Entries) == 0 || len(idx.Skipped.Failed) != 1 || filepath.Base(idx.Skipped.Failed[0].Source) != "broken.png" {
		t.Errorf("entries %d, failed %+v", len(idx.Entries), idx.Skipped.Failed)
	}
}
