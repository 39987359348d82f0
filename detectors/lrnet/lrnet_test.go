package lrnet

import (
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/media"
)

func newDetector(t *testing.T) *Detector {
	t.Helper()
	testutil.InitORT(t)
	testutil.ModelPath(t, PositionsFile)
	d, err := New(filepath.Dir(testutil.ModelPath(t, StepsFile)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// reference computes a branch's fake-minus-real logit in float64, written
// from PyTorch's GRU equations (gates reset, update, new; the reset gate
// applied to the recurrent product plus its bias), to check the ONNX model
// the detector builds.
func (b *branch) reference(xs [][]float32) float64 {
	final := make([]float64, 0, 2*hidden)
	for d := range 2 {
		h := make([]float64, hidden)
		for i := range h {
			h[i] = float64(b.initial[d][i])
		}
		for step := range xs {
			x := xs[step]
			if d == 1 {
				x = xs[len(xs)-1-step]
			}
			in, rec := make([]float64, 3*hidden), make([]float64, 3*hidden)
			for r := range in {
				in[r], rec[r] = float64(b.bIn[d][r]), float64(b.bRec[d][r])
				for k := range inputs {
					in[r] += float64(b.wIn[d][r*inputs+k]) * float64(x[k])
				}
				for k := range hidden {
					rec[r] += float64(b.wRec[d][r*hidden+k]) * h[k]
				}
			}
			next := make([]float64, hidden)
			for i := range hidden {
				reset := sigmoid(in[i] + rec[i])
				update := sigmoid(in[hidden+i] + rec[hidden+i])
				cand := math.Tanh(in[2*hidden+i] + reset*rec[2*hidden+i])
				next[i] = (1-update)*cand + update*h[i]
			}
			h = next
		}
		final = append(final, h...)
	}
	dense := func(w, bias []float32, x []float64) []float64 {
		out := make([]float64, len(bias))
		for o := range out {
			out[o] = float64(bias[o])
			for k := range x {
				out[o] += float64(w[o*len(x)+k]) * x[k]
			}
		}
		return out
	}
	y := dense(b.w1, b.b1, final)
	for i := range y {
		y[i] = math.Max(0, y[i])
	}
	y = dense(b.w2, b.b2, y)
	for i := range y {
		y[i] += final[i]
	}
	logits := dense(b.wHead, b.bHead, y)
	return logits[1] - logits[0]
}

func randomBlock(rng *rand.Rand, jitter float64) []Frame {
	block := make([]Frame, BlockLen)
	var face Frame
	for k := range face {
		face[k] = float32(rng.Float64()*1.4 - 0.7)
	}
	for t := range block {
		for k := range block[t] {
			block[t][k] = face[k] + float32(rng.NormFloat64()*jitter)
		}
	}
	return block
}

// The ONNX model built from the PyTorch weights computes what the GRU
// equations give on the same weights.
func TestModelMatchesReference(t *testing.T) {
	d := newDetector(t)
	dir := filepath.Dir(testutil.ModelPath(t, PositionsFile))
	g1, err := readBranch(filepath.Join(dir, PositionsFile))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := readBranch(filepath.Join(dir, StepsFile))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, jitter := range []float64{0, 0.002, 0.02} {
		block := randomBlock(rng, jitter)
		pos, steps, err := d.Logits(block)
		if err != nil {
			t.Fatal(err)
		}
		xs := make([][]float32, BlockLen)
		ds := make([][]float32, BlockLen-1)
		for i := range block {
			xs[i] = block[i][:]
			if i+1 < BlockLen {
				ds[i] = make([]float32, inputs)
				for k := range inputs {
					ds[i][k] = block[i+1][k] - block[i][k]
				}
			}
		}
		wantPos, wantSteps := g1.reference(xs), g2.reference(ds)
		if math.Abs(pos-wantPos) > 1e-3*(1+math.Abs(wantPos)) || math.Abs(steps-wantSteps) > 1e-3*(1+math.Abs(wantSteps)) {
			t.Errorf("jitter %g: ONNX logits %.5f, %.5f; reference %.5f, %.5f", jitter, pos, steps, wantPos, wantSteps)
		}
	}
	if _, _, err := d.Logits(make([]Frame, BlockLen-1)); err == nil {
		t.Error("a short block was accepted")
	}
}

// The step network calls a still face real and one whose landmarks shake
// from frame to frame fake: what it learnt, and why re-encoding, which
// changes how landmarks jitter, moves it (see the README).
func TestStepsNetworkReadsJitter(t *testing.T) {
	d := newDetector(t)
	rng := rand.New(rand.NewPCG(3, 4))
	_, still, err := d.Logits(randomBlock(rng, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, shaken, err := d.Logits(randomBlock(rng, 0.01))
	if err != nil {
		t.Fatal(err)
	}
	if still >= 0 || shaken <= 5 {
		t.Errorf("steps logit: still face %.2f (want < 0), shaken %.2f (want > 5)", still, shaken)
	}
}

func TestNormalise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	run := make([]Frame, 10)
	for i := range run {
		for p := range Points {
			run[i][2*p] = float32(300 + 200*rng.Float64())
			run[i][2*p+1] = float32(100 + 200*rng.Float64())
		}
	}
	norm := Normalise(run)
	for i := range norm {
		for k, v := range norm[i] {
			// The box is 1.2× the mean extent, so points stay inside ±1/1.2
			// give or take a frame's difference from the mean and rounding.
			if math.Abs(float64(v)) > 0.95 {
				t.Fatalf("frame %d value %d = %.3f, outside the face frame", i, k, v)
			}
		}
	}
	// Moving the whole face by whole pixels changes nothing.
	moved := make([]Frame, len(run))
	for i := range run {
		for p := range Points {
			moved[i][2*p] = run[i][2*p] + 37
			moved[i][2*p+1] = run[i][2*p+1] - 12
		}
	}
	if got := Normalise(moved); got[3] != norm[3] {
		t.Errorf("a moved face normalises differently:\n%v\n%v", got[3][:6], norm[3][:6])
	}
	if Normalise(nil) != nil {
		t.Error("an empty run gave frames")
	}
}

func TestFromMesh(t *testing.T) {
	mesh := make([]media.Point, 468)
	for i := range mesh {
		mesh[i] = media.Point{X: float64(i), Y: float64(2 * i)}
	}
	f, ok := FromMesh(mesh)
	if !ok {
		t.Fatal("full mesh refused")
	}
	// Point 8 (chin) is mesh point 152, point 30 (nose tip) 4.
	if f[16] != 152 || f[17] != 304 || f[60] != 4 || f[61] != 8 {
		t.Errorf("chin (%v, %v), nose tip (%v, %v)", f[16], f[17], f[60], f[61])
	}
	if _, ok := FromMesh(mesh[:400]); ok {
		t.Error("a partial mesh was accepted")
	}
}

// On a textured picture that moves by a known amount, calibrated points
// land nearer the true ones than noisy detections do.
func TestCalibratorFollowsTexture(t *testing.T) {
	const w, h = 640, 480
	rng := rand.New(rand.NewPCG(7, 8))
	texture := gocv.NewMatWithSize(h+60, w+60, gocv.MatTypeCV8U)
	defer texture.Close()
	gocv.RandU(&texture, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 0, 0, 0))
	gocv.GaussianBlur(texture, &texture, image.Pt(5, 5), 1.5, 1.5, gocv.BorderDefault)
	var truth Frame
	for p := range Points {
		truth[2*p] = float32(220 + 200*rng.Float64())
		truth[2*p+1] = float32(140 + 200*rng.Float64())
	}
	var cal Calibrator
	defer cal.Close()
	var errDet, errCal float64
	for frame := range 12 {
		dx, dy := frame*2, frame
		view := texture.Region(image.Rect(30-dx, 30-dy, 30-dx+w, 30-dy+h))
		grey := view.Clone()
		view.Close()
		var pos, det Frame
		for p := range Points {
			pos[2*p], pos[2*p+1] = truth[2*p]+float32(dx), truth[2*p+1]+float32(dy)
			det[2*p] = pos[2*p] + float32(rng.NormFloat64()*3)
			det[2*p+1] = pos[2*p+1] + float32(rng.NormFloat64()*3)
		}
		got := cal.Next(grey, frame, det)
		grey.Close()
		if frame < 4 {
			continue
		}
		for k := range got {
			errDet += math.Abs(float64(det[k] - pos[k]))
			errCal += math.Abs(float64(got[k] - pos[k]))
		}
	}
	if errCal >= 0.7*errDet {
		t.Errorf("calibrated error %.1f, detected %.1f: calibration did not help", errCal, errDet)
	}
}
