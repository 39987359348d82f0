package fakes

import (
	"github.com/trueframe/trueframe/media/blend"
	"math"
	"os"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

func TestEllipseLandmarks(t *testing.T) {
	e := Ellipse{Center: media.Point{X: 100, Y: 120}, RX: 40, RY: 50}
	lms := EllipseLandmarks(e)
	if len(lms) != landmark.NumPoints {
		t.Fatalf("%d points", len(lms))
	}
	if p := lms[10]; math.Abs(p.X-100) > 1e-9 || math.Abs(p.Y-70) > 1e-9 {
		t.Errorf("forehead (10) at %v, want (100,70)", p)
	}
	if p := lms[152]; math.Abs(p.X-100) > 1e-9 || math.Abs(p.Y-170) > 1e-9 {
		t.Errorf("chin (152) at %v, want (100,170)", p)
	}
	if lms[454].X <= 100 || lms[234].X >= 100 {
		t.Errorf("454 should be on the image right, 234 on the left: %v %v", lms[454], lms[234])
	}
	if lms[landmark.RightEyeOuter].X >= lms[landmark.LeftEyeOuter].X {
		t.Errorf("subject's right eye should be on the image left")
	}
	for i, p := range lms {
		dx, dy := (p.X-e.Center.X)/e.RX, (p.Y-e.Center.Y)/e.RY
		if dx*dx+dy*dy > 1+1e-9 {
			t.Errorf("point %d at %v outside the ellipse", i, p)
		}
	}
}

// meanAbsDiff returns the mean absolute difference of a and b inside and
// outside the ellipse e.
func meanAbsDiff(t *testing.T, a, b gocv.Mat, e Ellipse, scale float64) (in, out float64) {
	t.Helper()
	da, _ := a.DataPtrUint8()
	db, _ := b.DataPtrUint8()
	var nIn, nOut float64
	for y := 0; y < a.Rows(); y++ {
		for x := 0; x < a.Cols(); x++ {
			dx, dy := (float64(x)-e.Center.X)/e.RX, (float64(y)-e.Center.Y)/e.RY
			i := 3 * (y*a.Cols() + x)
			d := 0.0
			for k := 0; k < 3; k++ {
				d += math.Abs(float64(da[i+k]) - float64(db[i+k]))
			}
			if dx*dx+dy*dy < scale*scale {
				in += d
				nIn++
			} else if dx*dx+dy*dy > 1.15 {
				out += d
				nOut++
			}
		}
	}
	return in / nIn, out / nOut
}

func TestSelfBlendChangesOnlyTheFace(t *testing.T) {
	img, lms, err := SyntheticFace(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	fake, err := blend.SelfBlend(img, lms, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	if dir := os.Getenv("FAKES_DUMP"); dir != "" {
		gocv.IMWrite(dir+"/synthetic.png", img)
		gocv.IMWrite(dir+"/selfblend.png", fake)
	}
	in, out := meanAbsDiff(t, img, fake, DefaultFaceOptions().Face, 0.85)
	if in < 10 {
		t.Errorf("face changed by %.2f per pixel, want ≥ 10", in)
	}
	if out != 0 {
		t.Errorf("outside the oval changed by %.3f per pixel, want 0", out)
	}
}

func TestTint(t *testing.T) {
	img, lms, err := SyntheticFace(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	face, err := blend.Tint(img, lms, [3]float64{1, 1, 1.1}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	global, err := blend.Tint(img, lms, [3]float64{1, 1, 1.1}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer global.Close()
	e := DefaultFaceOptions().Face
	if in, out := meanAbsDiff(t, img, face, e, 0.95); in < 5 || out != 0 {
		t.Errorf("face tint: inside %.2f, outside %.2f", in, out)
	}
	if in, out := meanAbsDiff(t, img, global, e, 0.95); in < 5 || out < 3 {
		t.Errorf("global tint: inside %.2f, outside %.2f", in, out)
	}
}

func TestBadInputs(t *testing.T) {
	img, lms, err := SyntheticFace(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	off := make([]media.Point, len(lms))
	for i, p := range lms {
		off[i] = p.Add(media.Point{X: 5000, Y: 5000})
	}
	nan := append([]media.Point(nil), lms...)
	nan[landmark.FaceOval[3]] = media.Point{X: math.NaN(), Y: 0}
	for name, tc := range map[string]struct {
		img gocv.Mat
		lms []media.Point
	}{
		"empty image":   {empty, lms},
		"few landmarks": {img, lms[:10]},
		"off image":     {img, off},
		"NaN landmark":  {img, nan},
		"nil landmarks": {img, nil},
	} {
		if m, err := blend.SelfBlend(tc.img, tc.lms, nil); err == nil {
			m.Close()
			t.Errorf("%s: SelfBlend succeeded", name)
		}
		if m, err := blend.Tint(tc.img, tc.lms, [3]float64{1, 1, 1}, true); err == nil {
			m.Close()
			t.Errorf("%s: Tint succeeded", name)
		}
	}
}

// A LowerFace blend changes the face below the line between the eyes and
// the nose tip, and nothing above it.
func TestLowerFaceBlendChangesOnlyBelowTheCut(t *testing.T) {
	img, lms, err := SyntheticFace(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	// The synthetic landmarks put the nose tip on their grid: place it
	// between the eyes and the mouth, where a face has it.
	lms = append([]media.Point(nil), lms...)
	mouth := lms[landmark.MouthRight].Add(lms[landmark.MouthLeft]).Scale(0.5)
	lms[landmark.NoseTip] = lms[landmark.RightEyeInner].Add(lms[landmark.LeftEyeInner]).Scale(0.5).Add(mouth).Scale(0.5)
	opts := blend.DefaultOptions()
	opts.Feather, opts.LowerFace, opts.LowerFaceCut = 0, true, 0.5
	fake, err := blend.SelfBlend(img, lms, &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	eyes := (lms[landmark.RightEyeOuter].Y + lms[landmark.RightEyeInner].Y + lms[landmark.LeftEyeOuter].Y + lms[landmark.LeftEyeInner].Y) / 4
	nose := lms[landmark.NoseTip].Y
	if nose <= eyes+5 {
		t.Fatalf("synthetic nose tip at y %.1f, eyes at %.1f: no room for a cut", nose, eyes)
	}
	cut := (eyes + nose) / 2
	chin := lms[152].Y
	e := DefaultFaceOptions().Face
	da, _ := img.DataPtrUint8()
	db, _ := fake.DataPtrUint8()
	var above, below, nBelow float64
	for y := 0; y < img.Rows(); y++ {
		for x := 0; x < img.Cols(); x++ {
			i := 3 * (y*img.Cols() + x)
			var d float64
			for k := range 3 {
				d += math.Abs(float64(da[i+k]) - float64(db[i+k]))
			}
			dx := (float64(x) - e.Center.X) / e.RX
			switch fy := float64(y); {
			case fy < cut-1:
				above += d
			case fy > cut+3 && fy < chin-0.15*e.RY && math.Abs(dx) < 0.5:
				below += d
				nBelow++
			}
		}
	}
	if above != 0 {
		t.Errorf("above the cut: changed by %.0f in all", above)
	}
	if below/nBelow < 10 {
		t.Errorf("lower face changed by %.2f per pixel, want ≥ 10", below/nBelow)
	}
}
