package landmark

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

func TestFitSimilarityRecoversTransform(t *testing.T) {
	want := media.Affine{A: 1.2 * math.Cos(0.3), B: -1.2 * math.Sin(0.3), C: 15, D: 1.2 * math.Sin(0.3), E: 1.2 * math.Cos(0.3), F: -7}
	src := []media.Point{{X: 10, Y: 20}, {X: 50, Y: 22}, {X: 31, Y: 45}, {X: 18, Y: 60}, {X: 44, Y: 61}}
	dst := make([]media.Point, len(src))
	for i, p := range src {
		dst[i] = want.Apply(p)
	}
	got, ok := fitSimilarity(src, dst, []float64{1, 1, 0.1, 0.1, 0.1})
	if !ok {
		t.Fatal("fit failed")
	}
	for _, p := range []media.Point{{}, {X: 100, Y: -40}} {
		if d := got.Apply(p).Dist(want.Apply(p)); d > 1e-9 {
			t.Errorf("fitted map is off by %v at %v", d, p)
		}
	}
	if _, ok := fitSimilarity([]media.Point{{X: 1, Y: 1}, {X: 1, Y: 1}}, dst[:2], []float64{1, 1}); ok {
		t.Error("fit of coincident points succeeded")
	}
}

// TestAlignPortraits aligns real faces and checks that the eyes land on
// their canonical positions, level, in the returned crop.
func TestAlignPortraits(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "faces")
	m := newTestMesher(t)
	for _, p := range portraits {
		img := readImage(t, filepath.Join(dir, p.file))
		f := fitTwice(t, m, img, p.box)
		for _, size := range []int{112, 256} {
			crop, tr, err := Align(img, f, size)
			if err != nil {
				t.Fatal(err)
			}
			if crop.Cols() != size || crop.Rows() != size {
				t.Errorf("%s: crop %dx%d, want %d square", p.file, crop.Cols(), crop.Rows(), size)
			}
			r, l := tr.Apply(f.RightEyeCenter()), tr.Apply(f.LeftEyeCenter())
			dr, dl := r.Dist(CanonicalRightEye(size)), l.Dist(CanonicalLeftEye(size))
			t.Logf("%s size %d: eyes %.2f and %.2f px from canonical", p.file, size, dr, dl)
			if dr > 2 || dl > 2 {
				t.Errorf("%s size %d: eyes %.2f and %.2f px from canonical, want ≤ 2", p.file, size, dr, dl)
			}
			// Refit the mesh on the aligned crop: its eyes must be there too,
			// which checks the warp, not just the transform.
			rf, err := m.Fit(crop, media.ROI{Center: media.Point{X: float64(size) / 2, Y: float64(size) / 2}, Size: float64(size)})
			if err != nil {
				t.Fatal(err)
			}
			d := math.Max(rf.RightEyeCenter().Dist(CanonicalRightEye(size)), rf.LeftEyeCenter().Dist(CanonicalLeftEye(size)))
			if d > 0.03*float64(size) {
				t.Errorf("%s size %d: refitted eyes %.2f px from canonical", p.file, size, d)
			}
			if size == 256 {
				writeViz(t, "aligned_"+p.file+".png", crop)
			}
			crop.Close()
		}
		img.Close()
	}
}
