package landmark

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

var guess68 = [68]int{162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
	70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
	168, 197, 5, 4, 75, 97, 2, 326, 305,
	33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
	61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
	78, 82, 13, 312, 308, 317, 14, 87}

func TestExplore68(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "landmarks68")
	m := newTestMesher(t)
	for _, scale := range []float64{1.0} {
		for _, set := range []string{"training", "testing"} {
			faces := readImglab(t, filepath.Join(dir, set+"_with_face_landmarks.xml"))
			// best index search
			sum := make([][]float64, 68)
			for i := range sum {
				sum[i] = make([]float64, NumPoints)
			}
			var tot, totIn float64
			for k, a := range faces {
				img := readImage(t, filepath.Join(dir, a.File))
				roi := ROIFromBox(a.Box, nil, nil)
				roi.Size *= scale
				f, err := m.Fit(img, roi)
				if err != nil {
					t.Fatal(err)
				}
				// second pass via NextROI
				f, _ = m.Fit(img, f.NextROI())
				iod := a.Points[36].Dist(a.Points[45])
				var e, ein float64
				for i := 0; i < 68; i++ {
					d := f.Points[guess68[i]].Dist(a.Points[i]) / iod
					e += d
					if i >= 17 {
						ein += d
					}
					for j := 0; j < NumPoints; j++ {
						sum[i][j] += f.Points[j].Dist(a.Points[i]) / iod
					}
				}
				tot += e / 68
				totIn += ein / 51
				if *vizDir != "" && scale == 1.0 {
					roiB := a.Box.Grow(1.8)
					r := roiB.Image(image0(img))
					sub := img.Region(r)
					big := gocv.NewMat()
					gocv.Resize(sub, &big, pt(media.Point{X: float64(r.Dx() * 8), Y: float64(r.Dy() * 8)}), 0, 0, gocv.InterpolationCubic)
					off := media.Point{X: float64(r.Min.X), Y: float64(r.Min.Y)}
					for j, p := range f.Points {
						q := p.Sub(off).Scale(8)
						gocv.Circle(&big, pt(q), 1, colGreen, -1)
						_ = j
					}
					for i := 0; i < 68; i++ {
						q := a.Points[i].Sub(off).Scale(8)
						gocv.Circle(&big, pt(q), 3, colRed, -1)
						q2 := f.Points[guess68[i]].Sub(off).Scale(8)
						gocv.Line(&big, pt(q), pt(q2), colWhite, 1)
					}
					writeViz(t, fmt.Sprintf("%s_%02d.png", set, k), big)
					big.Close()
					sub.Close()
				}
				t.Logf("%s %d %s box %.0f: nme68 %.4f nme51 %.4f presence %.3f", set, k, a.File, a.Box.W, e/68, ein/51, f.Presence)
				img.Close()
			}
			t.Logf("scale %.2f %s: NME68 %.4f NME51 %.4f", scale, set, tot/float64(len(faces)), totIn/float64(len(faces)))
			for i := 0; i < 68; i++ {
				type c struct {
					j int
					v float64
				}
				var cs []c
				for j := 0; j < NumPoints; j++ {
					cs = append(cs, c{j, sum[i][j] / float64(len(faces))})
				}
				sort.Slice(cs, func(a, b int) bool { return cs[a].v < cs[b].v })
				t.Logf("%s pt %d guess %d err %.4f best %v", set, i, guess68[i], sum[i][guess68[i]]/float64(len(faces)), cs[:4])
			}
		}
	}
	_ = math.Abs
}
