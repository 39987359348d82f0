package landmark

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

// auc returns the area under the ROC curve of scores where pos should score
// higher than neg: the probability that a random positive outranks a random
// negative, ties counting half.
func auc(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return 0
	}
	var s float64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				s++
			case p == n:
				s += 0.5
			}
		}
	}
	return s / float64(len(pos)*len(neg))
}

func TestAUC(t *testing.T) {
	for name, tc := range map[string]struct {
		pos, neg []float64
		want     float64
	}{
		"separated": {[]float64{3, 4}, []float64{1, 2}, 1},
		"reversed":  {[]float64{1, 2}, []float64{3, 4}, 0},
		"ties":      {[]float64{1, 1}, []float64{1, 1}, 0.5},
		"mixed":     {[]float64{2, 4}, []float64{1, 3}, 0.75},
	} {
		if got := auc(tc.pos, tc.neg); got != tc.want {
			t.Errorf("%s: auc = %v, want %v", name, got, tc.want)
		}
	}
}

const minEyeAUC = 0.90

// TestEyePatchOpennessCEW scores the CEW open and closed eye patches. Their
// side is unknown (both eyes are mixed), so every patch is scored as a right
// eye.
func TestEyePatchOpennessCEW(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "eyes")
	m := newTestMesher(t)
	score := func(class string) []float64 {
		entries, err := os.ReadDir(filepath.Join(dir, class))
		if err != nil {
			t.Fatal(err)
		}
		var out []float64
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".png") {
				continue
			}
			patch := gocv.IMRead(filepath.Join(dir, class, e.Name()), gocv.IMReadGrayScale)
			v, err := m.EyePatchOpenness(patch, false)
			patch.Close()
			if err != nil {
				t.Fatalf("%s/%s: %v", class, e.Name(), err)
			}
			out = append(out, v)
		}
		return out
	}
	open, closed := score("open"), score("closed")
	if len(open) != 147 || len(closed) != 141 {
		t.Fatalf("read %d open and %d closed patches, want 147 and 141", len(open), len(closed))
	}
	a := auc(open, closed)
	t.Logf("CEW: AUC %.4f; mean openness open %.3f, closed %.3f", a, mean(open), mean(closed))
	if a < minEyeAUC {
		t.Errorf("AUC %.4f < %.2f", a, minEyeAUC)
	}
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestEyesOnPortraits checks the eye fits of open-eyed frontal faces: the
// lid contour lies on the mesh's, point for point (which pins down the
// contour order and the mirroring of the left eye), the iris sits between
// the corners and both eyes read as open.
func TestEyesOnPortraits(t *testing.T) {
	dir := testutil.SharedDir(t, "data", "images", "faces")
	m := newTestMesher(t)
	for _, p := range portraits {
		img := readImage(t, filepath.Join(dir, p.file))
		f := fitTwice(t, m, img, p.box)
		st, err := m.Eyes(img, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name    string
			eye     Eye
			contour []int
		}{{"right", st.Right, RightEyeIrisContour}, {"left", st.Left, LeftEyeIrisContour}} {
			mesh := pick(f.Points, c.contour)
			width := mesh[irisOuter].Dist(mesh[irisInner])
			d := meanDist(c.eye.Contour, mesh) / width
			t.Logf("%s %s eye: openness %.3f (mesh EAR %.3f), contour off the mesh's by %.3f eye widths, iris %.1f,%.1f r %.1f",
				p.file, c.name, c.eye.Openness, ear(mesh, irisEAR), d, c.eye.Iris.X, c.eye.Iris.Y, c.eye.IrisRadius)
			if d > 0.15 {
				t.Errorf("%s %s eye: contour off the mesh's by %.3f eye widths", p.file, c.name, d)
			}
			if c.eye.Openness < 0.15 || c.eye.Openness > 0.6 {
				t.Errorf("%s %s eye: openness %.3f for an open eye", p.file, c.name, c.eye.Openness)
			}
			// The iris centre projects between the corners, near the eye line.
			axis := mesh[irisInner].Sub(mesh[irisOuter])
			rel := c.eye.Iris.Sub(mesh[irisOuter])
			along := (rel.X*axis.X + rel.Y*axis.Y) / (width * width)
			across := (rel.X*axis.Y - rel.Y*axis.X) / (width * width)
			if along < 0.2 || along > 0.8 || across < -0.25 || across > 0.25 {
				t.Errorf("%s %s eye: iris at %.2f along, %.2f across the eye", p.file, c.name, along, across)
			}
			if c.eye.IrisRadius < 0.1*width || c.eye.IrisRadius > 0.5*width {
				t.Errorf("%s %s eye: iris radius %.1f for an eye %.1f wide", p.file, c.name, c.eye.IrisRadius, width)
			}
		}
		img.Close()
	}
}

// TestEyesClosedSynthetic closes a real eye by painting skin over it: the
// openness must drop well below the open eye's.
func TestEyesClosedSynthetic(t *testing.T) {
	m, img, _, f := fittedPortrait(t)
	before, err := m.Eyes(img, f)
	if err != nil {
		t.Fatal(err)
	}
	// Fill the right eye's lid contour with the colour of the skin just
	// below it, leaving a thin dark line where the lids meet.
	closed := img.Clone()
	defer closed.Close()
	contour := pick(f.Points, RightEyeContour)
	below := f.Points[RightEyeEAR[5]].Add(media.Point{Y: 0.4 * f.Points[RightEyeOuter].Dist(f.Points[RightEyeInner])})
	skin := closed.GetVecbAt(int(below.Y), int(below.X))
	// Grow the contour about its centre to cover the lid margins as well.
	c := media.Mid(f.Points[RightEyeOuter], f.Points[RightEyeInner])
	poly := make([]image.Point, len(contour))
	for i, q := range contour {
		d := q.Sub(c)
		poly[i] = pt(c.Add(media.Point{X: 1.15 * d.X, Y: 1.6 * d.Y}))
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{poly})
	defer pv.Close()
	gocv.FillPoly(&closed, pv, color.RGBA{R: skin[2], G: skin[1], B: skin[0], A: 255})
	gocv.Line(&closed, pt(f.Points[RightEyeOuter]), pt(f.Points[RightEyeInner]), color.RGBA{R: 40, G: 25, B: 20, A: 255}, 2)
	writeViz(t, "eye_closed_synthetic.png", closed)
	after, err := m.Eyes(closed, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("right eye openness %.3f open, %.3f painted shut (left eye %.3f, %.3f)",
		before.Right.Openness, after.Right.Openness, before.Left.Openness, after.Left.Openness)
	// The painting is crude (the lid creases stay), so ask for a clear drop
	// rather than a closed eye's usual value.
	if after.Right.Openness > 0.7*before.Right.Openness {
		t.Errorf("painted-shut eye openness %.3f, open %.3f: want a drop of 30%% or more", after.Right.Openness, before.Right.Openness)
	}
	if d := after.Left.Openness - before.Left.Openness; d > 0.02 || d < -0.02 {
		t.Errorf("untouched left eye changed openness by %.3f", d)
	}
}
