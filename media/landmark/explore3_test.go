package landmark

import (
	"image"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
)

func TestExploreConvert(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "faces")
	for _, f := range []string{"grace_hopper_512x512.jpg", "obama.jpg", "face.jpg", "pexels-sam-lion-5709614.jpg", "sample1.jpg", "two_people.jpg"} {
		img := readImage(t, filepath.Join(dir, f))
		s := 800.0 / float64(max(img.Cols(), img.Rows()))
		if s > 1 {
			s = 1
		}
		dst := gocv.NewMat()
		gocv.Resize(img, &dst, image.Pt(int(float64(img.Cols())*s), int(float64(img.Rows())*s)), 0, 0, gocv.InterpolationArea)
		for x := 0; x < dst.Cols(); x += 100 {
			gocv.Line(&dst, image.Pt(x, 0), image.Pt(x, dst.Rows()), colGreen, 1)
		}
		for y := 0; y < dst.Rows(); y += 100 {
			gocv.Line(&dst, image.Pt(0, y), image.Pt(dst.Cols(), y), colGreen, 1)
		}
		t.Logf("%s scale %.4f", f, s)
		gocv.IMWrite("/tmp/lmviz/"+strings.TrimSuffix(f, ".jpg")+".png", dst)
		dst.Close()
		img.Close()
	}
}
