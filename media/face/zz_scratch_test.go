package face

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

func scratchDir(t *testing.T) string { return testutil.SharedDir(t, "data", "images") }

func TestScratchNorm(t *testing.T) {
	testutil.InitORT(t)
	dir := scratchDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "faces", "*.jpg"))
	for _, norm := range []media.Normalization{media.SymmetricRange, media.UnitRange} {
		blazeNorm = norm
		for _, mf := range []int{1000000} {
			d, err := New(Options{ModelDir: testutil.DepsDir(t) + "/models", MinFaceSize: mf, MinScore: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			var s string
			for _, f := range files {
				img := gocv.IMRead(f, gocv.IMReadColor)
				dets, err := d.Detect(img)
				img.Close()
				if err != nil {
					t.Fatal(err)
				}
				total += len(dets)
				s += fmt.Sprintf(" %s:%d", filepath.Base(f)[:6], len(dets))
				for _, dd := range dets {
					s += fmt.Sprintf("/%.2f", dd.Score)
				}
			}
			t.Logf("norm %v: total %d %s", norm, total, s)
			d.Close()
		}
	}
	blazeNorm = media.SymmetricRange
}

// Shrink a face-only crop to sizes and report the best score.
func TestScratchMinFace(t *testing.T) {
	testutil.InitORT(t)
	dir := scratchDir(t)
	img := gocv.IMRead(filepath.Join(dir, "faces", "grace_hopper_512x512.jpg"), gocv.IMReadColor)
	defer img.Close()
	b, err := newBlazeFace(filepath.Join(testutil.DepsDir(t), "models", blazeFaceBackFile))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := newUltraFace(filepath.Join(testutil.DepsDir(t), "models", ultraFaceFile))
	for _, m := range []model{b, u} {
		in := m.inputSize()
		// find face at full
		big := gocv.NewMat()
		gocv.Resize(img, &big, in, 0, 0, gocv.InterpolationArea)
		dets, _ := m.infer(big, 0.5, nil)
		dets = weightedNMS(dets, 0.3)
		big.Close()
		if len(dets) == 0 {
			t.Fatal("none")
		}
		full := dets[0].Box
		t.Logf("full-size box in %v input: %+v score %.3f", in, full, dets[0].Score)
		for _, fw := range []float64{8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 64, 96, 128, 160, 200, 240} {
			f := fw / full.W
			sw, sh := int(float64(in.X)*f), int(float64(in.Y)*f)
			small := gocv.NewMat()
			gocv.Resize(img, &small, image.Pt(sw, sh), 0, 0, gocv.InterpolationArea)
			canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 120, 120, 0), in.Y, in.X, gocv.MatTypeCV8UC3)
			x0, y0 := (in.X-sw)/2, (in.Y-sh)/2
			if sw > in.X || sh > in.Y {
				// crop center
				r := image.Rect((sw-in.X)/2, (sh-in.Y)/2, (sw-in.X)/2+in.X, (sh-in.Y)/2+in.Y)
				reg := small.Region(r)
				reg.CopyTo(&canvas)
				reg.Close()
			} else {
				reg := canvas.Region(image.Rect(x0, y0, x0+sw, y0+sh))
				small.CopyTo(&reg)
				reg.Close()
			}
			dets, _ := m.infer(canvas, 0.05, nil)
			best := 0.0
			var bb media.Rect
			for _, d := range dets {
				if d.Score > best {
					best, bb = d.Score, d.Box
				}
			}
			t.Logf("%T face %3.0f px: best %.3f box %.0f", m, fw, best, bb)
			small.Close()
			canvas.Close()
		}
		m.close()
	}
}

func drawDets(img *gocv.Mat, dets []Detection, c color.RGBA) {
	for i, d := range dets {
		r := d.Box.Image(image.Rect(0, 0, img.Cols(), img.Rows()))
		gocv.Rectangle(img, r, c, 2)
		gocv.PutText(img, fmt.Sprintf("%d:%.2f", i, d.Score), image.Pt(r.Min.X, r.Min.Y-4), gocv.FontHersheySimplex, 0.6, c, 2)
		for _, p := range d.Keypoints {
			gocv.Circle(img, image.Pt(int(p.X), int(p.Y)), 2, color.RGBA{255, 0, 0, 255}, -1)
		}
	}
}

func TestScratchDraw(t *testing.T) {
	testutil.InitORT(t)
	dir := scratchDir(t)
	out := "/tmp/facedraw"
	os.MkdirAll(out, 0o755)
	files, _ := filepath.Glob(filepath.Join(dir, "faces", "*.jpg"))
	files2, _ := filepath.Glob(filepath.Join(dir, "noface", "*.jpg"))
	files3, _ := filepath.Glob(filepath.Join(dir, "landmarks68", "*.jpg"))
	files = append(append(files, files2...), files3...)
	model := os.Getenv("FM")
	d, err := New(Options{Model: model, ModelDir: testutil.DepsDir(t) + "/models"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, f := range files {
		img := gocv.IMRead(f, gocv.IMReadColor)
		dets, err := d.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		var s string
		for i, dd := range dets {
			s += fmt.Sprintf(" [%d %.0f %.0f %.0f %.0f %.2f]", i, dd.Box.X, dd.Box.Y, dd.Box.W, dd.Box.H, dd.Score)
		}
		t.Logf("%s %dx%d plan=%d: %s", filepath.Base(f), img.Cols(), img.Rows(), len(planTiles(img.Cols(), img.Rows(), d.(*tiled).net.inputSize(), d.(*tiled).net.minFace(), d.(*tiled).net.maxFace(), 40, 64)), s)
		drawDets(&img, dets, color.RGBA{0, 255, 0, 255})
		gocv.IMWrite(filepath.Join(out, model+filepath.Base(f)), img)
		img.Close()
	}
}
