package fusion

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/models"
)

// synthetic makes examples where detector "good" separates the classes,
// "inverted" runs against the labels and "noise" says nothing.
func synthetic(n int, seed uint64) []Example {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []Example
	for i := range n {
		fake := i%2 == 1
		shift := -0.8
		if fake {
			shift = 0.8
		}
		sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
		out = append(out, Example{Fake: fake, Method: map[bool]string{true: "fakes", false: "reals"}[fake], Results: []detectors.Result{
			{Detector: "good", Score: sig(shift + rng.NormFloat64()), Confidence: 1},
			{Detector: "inverted", Score: sig(-shift + rng.NormFloat64()), Confidence: 1},
			{Detector: "noise", Score: sig(rng.NormFloat64()), Confidence: 1},
		}})
	}
	return out
}

func TestFitWeighsDetectorsByWhatTheyShow(t *testing.T) {
	m, rep, err := Fit(synthetic(400, 1), FitOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	w := rep.Weights
	if !(w["good"] > 0.3) {
		t.Fatalf("the separating detector should weigh: %v", w)
	}
	if w["inverted"] != 0 {
		t.Fatalf("a detector that runs against the labels must weigh 0, never negative: %v", w)
	}
	if !(w["noise"] < w["good"]/3) {
		t.Fatalf("noise should weigh little: %v", w)
	}
	if rep.TrainAUC < 0.8 {
		t.Fatalf("training AUC %.3f", rep.TrainAUC)
	}
	// The thresholds are where the training reals give the asked rates.
	if rep.SuspiciousFPR > 0.10+1e-9 || rep.ManipulatedFPR != 0 || m.Verdict.ManipulatedFrom <= m.Verdict.AuthenticBelow {
		t.Fatalf("thresholds %+v", rep)
	}
	if m.Kind != models.FusionLogistic {
		t.Fatalf("kind %q", m.Kind)
	}
	// The model round-trips through its file format and fuses as fitted.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := models.ParseFusion(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(back)
	if err != nil {
		t.Fatal(err)
	}
	ex := synthetic(2, 7)[1]
	z := rep.Bias
	for _, r := range ex.Results {
		s := math.Min(math.Max(r.Score, 0.05), 0.95)
		z += w[r.Detector] * (math.Log(s/(1-s)) - rep.Centers[r.Detector])
	}
	if got, want := f.ScoreAt(ex.Results, nil), 1/(1+math.Exp(-z)); math.Abs(got-want) > 1e-9 {
		t.Fatalf("fused %v, the fitted formula gives %v", got, want)
	}
}

func TestFitCentersMakeSilenceNeutral(t *testing.T) {
	// Reals score 0.1 and fakes 0.5 on detector "a": its no-opinion point
	// is between them, so a result with no confidence moves nothing and the
	// fitted bias stays near 0 (classes weigh the same).
	var ex []Example
	for i := range 40 {
		s := 0.1
		if i%2 == 1 {
			s = 0.5
		}
		ex = append(ex, Example{Fake: i%2 == 1, Method: "m" + string(rune('a'+i%2)), Results: []detectors.Result{{Detector: "a", Score: s + 0.01*float64(i%5), Confidence: 1}}})
	}
	m, rep, err := Fit(ex, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Centers["a"]; !(c > math.Log(0.1/0.9) && c < 0) {
		t.Fatalf("center %v not between the classes' log-odds", c)
	}
	if math.Abs(rep.Bias) > 0.5 {
		t.Fatalf("bias %v", rep.Bias)
	}
	f, _ := New(m)
	if s := f.ScoreAt([]detectors.Result{{Detector: "a", Score: 0.99, Confidence: 0}}, nil); math.Abs(s-sigmoid(rep.Bias)) > 1e-9 {
		t.Fatalf("an unsure detector moved the score: %v", s)
	}
}

func TestFitNeedsBothClasses(t *testing.T) {
	ex := synthetic(10, 2)
	var fakes []Example
	for _, e := range ex {
		if e.Fake {
			fakes = append(fakes, e)
		}
	}
	if _, _, err := Fit(fakes, FitOptions{}); err == nil {
		t.Fatal("fit without reals must fail")
	}
}

func TestFitWeighsMethodsEqually(t *testing.T) {
	// 90 easy fakes of one method and 10 hard ones of another: with
	// methods weighted equally the hard method still moves the fit, so
	// the detector that only it triggers gets weight.
	rng := rand.New(rand.NewPCG(3, 3))
	var ex []Example
	res := func(a, b float64) []detectors.Result {
		return []detectors.Result{{Detector: "a", Score: a, Confidence: 1}, {Detector: "b", Score: b, Confidence: 1}}
	}
	for range 100 {
		ex = append(ex, Example{Method: "real", Results: res(0.2+0.1*rng.Float64(), 0.2+0.1*rng.Float64())})
	}
	for range 90 {
		ex = append(ex, Example{Fake: true, Method: "easy", Results: res(0.8+0.1*rng.Float64(), 0.2+0.1*rng.Float64())})
	}
	for range 10 {
		ex = append(ex, Example{Fake: true, Method: "rare", Results: res(0.2+0.1*rng.Float64(), 0.8+0.1*rng.Float64())})
	}
	_, rep, err := Fit(ex, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !(rep.Weights["b"] > 0.5*rep.Weights["a"]) {
		t.Fatalf("the rare method's detector is drowned out: %v", rep.Weights)
	}
}

// TestFitIgnoresALearnedDetectorOnItsOwnTraining: "learnt" separates only
// the fakes of its own training family; on another method it says
// nothing. Fitted on both, it weighs as much as the detector that carries
// the unseen method; told what it was trained on, the fit grades it on the
// rest and gives it (almost) nothing — and leaves the examples as given.
func TestFitIgnoresALearnedDetectorOnItsOwnTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	var ex []Example
	for i := range 600 {
		method, fake := "real", false
		switch i % 3 {
		case 1:
			method, fake = "self_blend", true
		case 2:
			method, fake = "unseen", true
		}
		learnt, other := -1.5, -0.8
		if method == "self_blend" {
			learnt = 1.5
		}
		if fake {
			other = 0.8
		}
		ex = append(ex, Example{Fake: fake, Method: method, Results: []detectors.Result{
			{Detector: "learnt", Score: sig(learnt + 0.5*rng.NormFloat64()), Confidence: 1},
			{Detector: "other", Score: sig(other + rng.NormFloat64()), Confidence: 1},
		}})
	}
	_, naive, err := Fit(ex, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, told, err := Fit(ex, FitOptions{TrainedOn: map[string][]string{"learnt": {"self_blend"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !(naive.Weights["learnt"] > 0.3) {
		t.Fatalf("fitted on its own training, the learnt detector should look useful: %v", naive.Weights)
	}
	t.Logf("weights fitted naively %v, told %v", naive.Weights, told.Weights)
	if !(told.Weights["learnt"] < naive.Weights["learnt"]/4 && told.Weights["other"] > 0.3) {
		t.Fatalf("told what it was trained on, the fit should grade it on the unseen method: %v", told.Weights)
	}
	if got := told.TrainedOn["learnt"]; len(got) != 1 || got[0] != "self_blend" {
		t.Fatalf("the fit report should record what was left out: %v", told.TrainedOn)
	}
	for _, e := range ex {
		if len(e.Results) != 2 {
			t.Fatal("Fit changed the examples it was given")
		}
	}
}
