package landmark

import (
	"fmt"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

// Bars for the normalised mean error against the dlib 68-point annotations,
// divided by the outer-eye-corner distance (points 36 and 45). The bar that
// matters is the inner 51 points: the Face Mesh oval and the 300-W jaw are
// different curves on turned faces (see IBUG68).
const (
	maxNME51     = 0.08
	maxNME68     = 0.10
	maxFaceNME51 = 0.20 // no single face may be far off
)

func TestFitLandmarks68(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "landmarks68")
	m := newTestMesher(t)
	var faces []annotated
	for _, set := range []string{"training", "testing"} {
		faces = append(faces, readImglab(t, filepath.Join(dir, set+"_with_face_landmarks.xml"))...)
	}
	if len(faces) != 43 {
		t.Fatalf("parsed %d annotated faces, want 43", len(faces))
	}
	var sum51, sum68, sumOne51 float64
	for k, a := range faces {
		img := readImage(t, filepath.Join(dir, a.File))
		// One pass from the ground-truth box, for the record.
		one, err := m.Fit(img, ROIFromBox(a.Box, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		f := fitTwice(t, m, img, a.Box)
		got := pick(f.Points, IBUG68[:])
		iod := a.Points[36].Dist(a.Points[45])
		nme68 := meanDist(got, a.Points) / iod
		nme51 := meanDist(got[17:], a.Points[17:]) / iod
		sumOne51 += meanDist(pick(one.Points, IBUG68[17:]), a.Points[17:]) / iod
		sum51 += nme51
		sum68 += nme68
		t.Logf("%s face %d (box %.0f px): NME inner-51 %.4f, all-68 %.4f, presence %.3f", a.File, k, a.Box.W, nme51, nme68, f.Presence)
		if nme51 > maxFaceNME51 {
			t.Errorf("%s face %d: NME inner-51 %.4f > %.2f", a.File, k, nme51, maxFaceNME51)
		}
		if f.Presence < 0.5 {
			t.Errorf("%s face %d: presence %.3f on a real face", a.File, k, f.Presence)
		}
		drawComparison(t, fmt.Sprintf("lm68_%02d.png", k), img, a, f)
		img.Close()
	}
	n := float64(len(faces))
	t.Logf("%d faces: NME inner-51 %.4f, all-68 %.4f (single pass from the box: inner-51 %.4f)", len(faces), sum51/n, sum68/n, sumOne51/n)
	if sum51/n > maxNME51 {
		t.Errorf("mean NME inner-51 %.4f > %.2f", sum51/n, maxNME51)
	}
	if sum68/n > maxNME68 {
		t.Errorf("mean NME all-68 %.4f > %.2f", sum68/n, maxNME68)
	}
}

// drawComparison writes (with -landmark.viz) the face enlarged, the mesh
// in green, the annotations in red and a white line from each annotation to
// its IBUG68 mesh point.
func drawComparison(tb testing.TB, name string, img gocv.Mat, a annotated, f Face) {
	tb.Helper()
	if *vizDir == "" {
		return
	}
	const zoom = 8
	r := a.Box.Grow(1.8).Image(image0(img))
	sub := img.Region(r)
	defer sub.Close()
	big := gocv.NewMat()
	defer big.Close()
	gocv.Resize(sub, &big, pt(media.Point{X: float64(r.Dx() * zoom), Y: float64(r.Dy() * zoom)}), 0, 0, gocv.InterpolationCubic)
	off := media.Point{X: float64(r.Min.X), Y: float64(r.Min.Y)}
	at := func(p media.Point) media.Point { return p.Sub(off).Add(media.Point{X: 0.5, Y: 0.5}).Scale(zoom) }
	for _, p := range f.Points {
		gocv.Circle(&big, pt(at(p)), 1, colGreen, -1)
	}
	for i, p := range a.Points {
		gocv.Circle(&big, pt(at(p)), 3, colRed, -1)
		gocv.Line(&big, pt(at(p)), pt(at(f.Points[IBUG68[i]])), colWhite, 1)
	}
	writeViz(tb, name, big)
}
