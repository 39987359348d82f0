package landmark

import (
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

var table2 = [68]int{127, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 356,
	70, 63, 105, 66, 55, 285, 296, 334, 293, 300,
	6, 197, 5, 4, 75, 97, 2, 326, 305,
	33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
	61, 40, 37, 0, 267, 270, 291, 405, 314, 17, 84, 181,
	78, 82, 13, 312, 308, 317, 14, 87}

func TestExplore68b(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "landmarks68")
	m := newTestMesher(t)
	for _, tab := range []struct {
		n string
		t [68]int
	}{{"guess", guess68}, {"table2", table2}} {
		for _, passes := range []int{1, 2, 3} {
			for _, scale := range []float64{0.9, 1.0, 1.1, 1.25} {
				for _, set := range []string{"training", "testing"} {
					faces := readImglab(t, filepath.Join(dir, set+"_with_face_landmarks.xml"))
					var tot, totIn float64
					for _, a := range faces {
						img := readImage(t, filepath.Join(dir, a.File))
						roi := ROIFromBox(a.Box, nil, nil)
						roi.Size *= scale
						f, _ := m.Fit(img, roi)
						for p := 1; p < passes; p++ {
							f, _ = m.Fit(img, f.NextROI())
						}
						iod := a.Points[36].Dist(a.Points[45])
						var e, ein float64
						for i := 0; i < 68; i++ {
							d := f.Points[tab.t[i]].Dist(a.Points[i]) / iod
							e += d
							if i >= 17 {
								ein += d
							}
						}
						tot += e / 68
						totIn += ein / 51
						img.Close()
					}
					t.Logf("%s passes %d scale %.2f %s: NME68 %.4f NME51 %.4f", tab.n, passes, scale, set, tot/float64(len(faces)), totIn/float64(len(faces)))
				}
			}
		}
	}
}
