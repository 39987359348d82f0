package landmark

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

func TestExploreIris(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "faces")
	m := newTestMesher(t)
	for _, c := range []struct {
		f   string
		box media.Rect
	}{{"obama.jpg", media.Rect{X: 362, Y: 128, W: 256, H: 256}}, {"grace_hopper_512x512.jpg", media.Rect{X: 170, Y: 115, W: 190, H: 190}}} {
		img := readImage(t, filepath.Join(dir, c.f))
		f, err := m.Fit(img, ROIFromBox(c.box, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		f, _ = m.Fit(img, f.NextROI())
		t.Logf("%s presence %.3f roi %+v", c.f, f.Presence, f.ROI)
		for _, eye := range []struct {
			name         string
			a, b         int // image-left corner, image-right corner
			contour      []int
		}{{"right", RightEyeOuter, RightEyeInner, RightEyeContour}, {"left", LeftEyeInner, LeftEyeOuter, LeftEyeContour}} {
			pa, pb := f.Points[eye.a], f.Points[eye.b]
			roi := media.ROI{Center: media.Mid(pa, pb), Size: 2.3 * pa.Dist(pb), Angle: eyeAngle(pa, pb)}
			crop, toCrop, err := media.CropROI(img, roi, 64)
			if err != nil {
				t.Fatal(err)
			}
			inv, _ := toCrop.Invert()
			for _, flip := range []bool{false, true} {
				in := crop
				if flip {
					in = gocv.NewMat()
					gocv.Flip(crop, &in, 1)
				}
				for _, norm := range []struct {
					n string
					v media.Normalization
				}{{"sym", media.SymmetricRange}, {"unit", media.UnitRange}} {
					media.FillCHW(m.iris.Input(0), in, norm.v)
					m.iris.Run()
					out := m.iris.Output(0)
					pts := make([]media.Point, 71)
					for i := range pts {
						x := float64(out[3*i])
						if flip {
							x = 64 - x
						}
						pts[i] = inv.Apply(media.Point{X: x, Y: float64(out[3*i+1])})
					}
					var e float64
					for i := 0; i < 16; i++ {
						e += pts[i].Dist(f.Points[eye.contour[i]])
					}
					// also best offset mapping of order reversed
					irisOut := m.iris.Output(1)
					ix := float64(irisOut[0])
					if flip {
						ix = 64 - ix
					}
					ic := inv.Apply(media.Point{X: ix, Y: float64(irisOut[1])})
					t.Logf("%s %s eye flip=%v norm=%s: mean contour dist %.2f px (corner dist %.1f) iris %.1f,%.1f ear %.3f", c.f, eye.name, flip, norm.n, e/16, pa.Dist(pb), ic.X, ic.Y, earOf(pts))
					if *vizDir != "" && norm.n == "sym" {
						big := gocv.NewMat()
						gocv.Resize(crop, &big, image.Pt(640, 640), 0, 0, gocv.InterpolationCubic)
						for i, p := range pts {
							q := toCrop.Apply(p).Scale(10)
							col := colGreen
							if i >= 16 {
								col = colBlue
							}
							gocv.Circle(&big, pt(q), 3, col, -1)
							gocv.PutText(&big, fmt.Sprint(i), pt(q), gocv.FontHersheyPlain, 0.8, colWhite, 1)
						}
						for _, j := range eye.contour {
							q := toCrop.Apply(f.Points[j]).Scale(10)
							gocv.Circle(&big, pt(q), 5, colRed, 1)
						}
						writeViz(t, fmt.Sprintf("iris_%s_%s_%v.png", c.f, eye.name, flip), big)
						big.Close()
					}
				}
				if flip {
					in.Close()
				}
			}
			crop.Close()
		}
		img.Close()
	}
	_ = math.Abs
}

func earOf(p []media.Point) float64 {
	return (p[13].Dist(p[3]) + p[11].Dist(p[5])) / (2 * p[0].Dist(p[8]))
}
