package fusion

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/models"
)

// Example is one labelled face for fitting: its detectors' results.
type Example struct {
	Results []detectors.Result
	Fake    bool
	// Method is how a fake was made (or where a real clip comes from):
	// every method weighs the same in the fit, however many clips it has.
	Method string
}

// FitOptions configures Fit. Zero fields take the defaults shown.
type FitOptions struct {
	// Detectors are the detectors the model may use (default: every one
	// that appears in the examples).
	Detectors []string
	// L2 is the ridge penalty on the weights (0.5), in units of the
	// (weighted) number of examples: the fit stays simple on few clips.
	L2 float64
	// ScoreClip bounds detector scores away from 0 and 1 (0.05), as the
	// fusion does when it applies the model.
	ScoreClip float64
	// SuspiciousFPR is the largest share of the training reals a
	// suspicious verdict may catch (0.10): the threshold is put there.
	SuspiciousFPR float64
	// ManipulatedFPR is the largest share of training reals called
	// likely_manipulated (0: none, the threshold sits above every training
	// real); the threshold also needs a precision of ManipulatedPrecision
	// (0.9) with both classes weighted equally.
	ManipulatedFPR       float64
	ManipulatedPrecision float64
	// Base supplies the verdict minimums (frames, duration, evidence) and
	// the name; nil means the embedded default model's.
	Base *models.Fusion
	// Version names the fitted model.
	Version string
	// TrainedOn names, per learned detector, the fake methods among the
	// examples that the detector was itself trained on (face_cnn on
	// self_blend; motion on the permissively licensed fakes of the train
	// split). Its opinion on those fakes is not evidence of how it does on
	// fakes it has never seen — fitted on them, a detector that learnt its
	// own training set gets a weight that unseen fakes do not bear out — so
	// the fit treats it as absent there: its weight and center come from
	// the other methods and the reals.
	TrainedOn map[string][]string
}

func (o FitOptions) withDefaults() FitOptions {
	if o.L2 <= 0 {
		o.L2 = 0.5
	}
	if o.ScoreClip <= 0 {
		o.ScoreClip = 0.05
	}
	if o.SuspiciousFPR <= 0 {
		o.SuspiciousFPR = 0.10
	}
	if o.ManipulatedFPR < 0 {
		o.ManipulatedFPR = 0
	}
	if o.ManipulatedPrecision <= 0 {
		o.ManipulatedPrecision = 0.9
	}
	return o
}

// FitReport is what the fit measured on its training examples.
type FitReport struct {
	Examples int            `json:"examples"`
	Reals    int            `json:"reals"`
	Fakes    int            `json:"fakes"`
	Methods  map[string]int `json:"methods"`
	L2       float64        `json:"l2"`
	// Weights are the fitted weights, by detector; a detector whose
	// log-odds ran against the labels gets 0 (weights are never negative:
	// a detector finding more manipulation is never evidence of
	// authenticity).
	Weights map[string]float64 `json:"weights"`
	// Centers are each detector's no-opinion log-odds: midway between its
	// mean log-odds on the real and on the fake examples.
	Centers map[string]float64 `json:"centers"`
	Bias    float64            `json:"bias"`
	// TrainAUC is the AUC of the fitted score on the training examples.
	TrainAUC float64 `json:"train_auc"`
	// The thresholds and what they catch on the training examples.
	SuspiciousFrom       float64 `json:"suspicious_from"`
	SuspiciousFPR        float64 `json:"suspicious_fpr"`
	SuspiciousRecall     float64 `json:"suspicious_recall"`
	ManipulatedFrom      float64 `json:"manipulated_from"`
	ManipulatedFPR       float64 `json:"manipulated_fpr"`
	ManipulatedRecall    float64 `json:"manipulated_recall"`
	ManipulatedPrecision float64 `json:"manipulated_precision_balanced"`
	// TrainedOn is FitOptions.TrainedOn: the detectors' results the fit
	// left out, on the fakes of their own training.
	TrainedOn map[string][]string `json:"trained_on,omitempty"`
}

// ErrFitData is returned when the examples cannot support a fit.
var ErrFitData = errors.New("fusion: not enough labelled examples")

// Fit fits a logistic fusion model to the examples: z = bias +
// Σ_d w_d · confidence_d · (logit(score_d) − center_d), with w_d ≥ 0 and a
// ridge penalty, each fake method weighing the same, each real clip the
// same, and reals as much as fakes. The verdict thresholds are then put
// where the training reals give the asked false-positive rates, per clip.
func Fit(examples []Example, opts FitOptions) (*models.Fusion, FitReport, error) {
	opts = opts.withDefaults()
	base := opts.Base
	if base == nil {
		var err error
		if base, err = models.DefaultFusion(); err != nil {
			return nil, FitReport{}, err
		}
	}
	names := opts.Detectors
	if len(names) == 0 {
		seen := map[string]bool{}
		for _, e := range examples {
			for _, r := range e.Results {
				seen[r.Detector] = true
			}
		}
		for n := range seen {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	rep := FitReport{Methods: map[string]int{}, L2: opts.L2, Weights: map[string]float64{}, TrainedOn: opts.TrainedOn}
	examples = withoutOwnTraining(examples, opts.TrainedOn)
	centers := centers(examples, names, opts.ScoreClip)
	x, y, w := design(examples, names, centers, opts.ScoreClip)
	for _, e := range examples {
		rep.Methods[e.Method]++
		if e.Fake {
			rep.Fakes++
		} else {
			rep.Reals++
		}
	}
	rep.Examples = len(examples)
	if rep.Fakes < 2 || rep.Reals < 2 || len(names) == 0 {
		return nil, rep, fmt.Errorf("%w: %d fakes, %d reals, %d detectors", ErrFitData, rep.Fakes, rep.Reals, len(names))
	}
	beta, bias := fitLogistic(x, y, w, opts.L2)

	m := &models.Fusion{Name: "fusion", Version: opts.Version, Kind: models.FusionLogistic, Bias: bias,
		ScoreClip: opts.ScoreClip, Detectors: map[string]models.FusionDetector{}, Verdict: base.Verdict}
	for j, n := range names {
		m.Detectors[n] = models.FusionDetector{Weight: beta[j], Center: centers[j]}
		rep.Weights[n] = beta[j]
	}
	rep.Centers = map[string]float64{}
	for j, n := range names {
		rep.Centers[n] = centers[j]
	}
	rep.Bias = bias
	if m.Version == "" {
		m.Version = "fitted"
	}
	m.Description = "Logistic regression fitted to labelled clips (trueframe detectors train fusion): score = sigmoid(bias + Σ weight × confidence × logit(detector score)). Thresholds put at measured false-positive rates on the training reals; see fit."

	// Scores on the training examples, and the thresholds.
	var pos, neg, wp, wn []float64
	for i := range x {
		z := bias
		for j := range names {
			z += beta[j] * x[i][j]
		}
		s := sigmoid(z)
		if y[i] == 1 {
			pos, wp = append(pos, s), append(wp, w[i])
		} else {
			neg, wn = append(neg, s), append(wn, w[i])
		}
	}
	rep.TrainAUC = weightedAUC(pos, wp, neg, wn)
	susp := quantileAbove(neg, wn, opts.SuspiciousFPR)
	manip := quantileAbove(neg, wn, opts.ManipulatedFPR)
	// Raise the likely_manipulated threshold until its balanced precision
	// holds (it usually does at a 2% false-positive rate).
	cands := append(append([]float64(nil), pos...), neg...)
	sort.Float64s(cands)
	for _, t := range cands {
		if t < manip {
			continue
		}
		if p := balancedPrecision(pos, wp, neg, wn, t); p >= opts.ManipulatedPrecision {
			manip = t
			break
		}
	}
	susp = math.Min(math.Max(susp, 0.05), 0.9)
	manip = math.Min(math.Max(manip, susp+0.01), 0.99)
	m.Verdict.AuthenticBelow, m.Verdict.ManipulatedFrom = susp, manip
	rep.SuspiciousFrom, rep.ManipulatedFrom = susp, manip
	rep.SuspiciousFPR, rep.SuspiciousRecall = weightedShare(neg, wn, susp), weightedShare(pos, wp, susp)
	rep.ManipulatedFPR, rep.ManipulatedRecall = weightedShare(neg, wn, manip), weightedShare(pos, wp, manip)
	rep.ManipulatedPrecision = balancedPrecision(pos, wp, neg, wn, manip)
	raw, err := json.Marshal(rep)
	if err != nil {
		return nil, rep, err
	}
	m.Fit = raw
	return m, rep, nil
}

// withoutOwnTraining returns the examples with each learned detector's
// result removed from the fakes of the methods it was trained on (see
// FitOptions.TrainedOn). The examples given are not changed.
func withoutOwnTraining(examples []Example, trainedOn map[string][]string) []Example {
	if len(trainedOn) == 0 {
		return examples
	}
	out := make([]Example, len(examples))
	for i, e := range examples {
		out[i] = e
		if !e.Fake {
			continue
		}
		var kept []detectors.Result
		for _, r := range e.Results {
			if !slices.Contains(trainedOn[r.Detector], e.Method) {
				kept = append(kept, r)
			}
		}
		out[i].Results = kept
	}
	return out
}

// logOdds returns r's clipped log-odds and its confidence (0 when NaN).
func logOdds(r detectors.Result, clip float64) (z, c float64) {
	s := math.Min(math.Max(detectors.Clamp01(r.Score), clip), 1-clip)
	c = detectors.Clamp01(r.Confidence)
	if math.IsNaN(r.Confidence) {
		c = 0
	}
	return math.Log(s / (1 - s)), c
}

// centers returns, per detector, the midpoint of its confidence-weighted
// mean log-odds over the real and over the fake examples (fake methods
// weighed equally, real clips each once).
func centers(examples []Example, names []string, clip float64) []float64 {
	out := make([]float64, len(names))
	for j, n := range names {
		var mean [2]float64
		for cls := range 2 {
			// Per method, then over methods; every real clip is its own
			// "method".
			sum, wt := map[string]float64{}, map[string]float64{}
			for i, e := range examples {
				if b2i(e.Fake) != cls {
					continue
				}
				key := e.Method
				if !e.Fake {
					key = fmt.Sprint(i)
				}
				for _, r := range e.Results {
					if r.Detector == n {
						z, c := logOdds(r, clip)
						sum[key] += c * z
						wt[key] += c
					}
				}
			}
			k := 0
			for m := range sum {
				if wt[m] > 0 {
					mean[cls] += sum[m] / wt[m]
					k++
				}
			}
			if k > 0 {
				mean[cls] /= float64(k)
			}
		}
		out[j] = (mean[0] + mean[1]) / 2
	}
	return out
}

// design builds the feature rows (confidence × log-odds from the center,
// of each detector; 0 for a detector that did not report), labels and
// example weights. Each fake method shares one unit of weight, however
// many clips it has (three near-copies of one swap must not outweigh a
// method with one clip); real clips weigh one each, since the thresholds
// promise a false-positive rate per real clip. Reals and fakes weigh the
// same in total.
func design(examples []Example, names []string, centers []float64, clip float64) (x [][]float64, y, w []float64) {
	perMethod := map[string]int{}
	methods, reals := map[string]bool{}, 0
	for _, e := range examples {
		if e.Fake {
			perMethod[e.Method]++
			methods[e.Method] = true
		} else {
			reals++
		}
	}
	for _, e := range examples {
		row := make([]float64, len(names))
		for _, r := range e.Results {
			for j, n := range names {
				if r.Detector != n {
					continue
				}
				z, c := logOdds(r, clip)
				row[j] = c * (z - centers[j])
			}
		}
		x = append(x, row)
		y = append(y, float64(b2i(e.Fake)))
		if e.Fake {
			w = append(w, 1/float64(perMethod[e.Method])/float64(len(methods))/2)
		} else {
			w = append(w, 1/float64(reals)/2)
		}
	}
	// Scale so the weights sum to the number of examples: the ridge penalty
	// then means the same whatever the weighting.
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] *= float64(len(w)) / sum
	}
	return x, y, w
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fitLogistic minimises the weighted logistic loss plus l2·|β|² over β ≥ 0
// and a free bias, by projected gradient descent with a backtracking step.
// The problem is convex and has a handful of parameters.
func fitLogistic(x [][]float64, y, w []float64, l2 float64) ([]float64, float64) {
	d := 0
	if len(x) > 0 {
		d = len(x[0])
	}
	beta, bias := make([]float64, d), 0.0
	loss := func(b []float64, c float64) float64 {
		var l float64
		for i := range x {
			z := c
			for j := range b {
				z += b[j] * x[i][j]
			}
			// log(1+e^z) − y·z, stably.
			l += w[i] * (math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y[i]*z)
		}
		for j := range b {
			l += l2 * b[j] * b[j]
		}
		return l
	}
	step := 1.0
	cur := loss(beta, bias)
	for iter := 0; iter < 5000; iter++ {
		gb, gc := make([]float64, d), 0.0
		for i := range x {
			z := bias
			for j := range beta {
				z += beta[j] * x[i][j]
			}
			r := w[i] * (sigmoid(z) - y[i])
			gc += r
			for j := range beta {
				gb[j] += r * x[i][j]
			}
		}
		for j := range beta {
			gb[j] += 2 * l2 * beta[j]
		}
		// Backtracking along the projected gradient.
		var next []float64
		var nc, nl float64
		for {
			next = make([]float64, d)
			for j := range beta {
				next[j] = math.Max(0, beta[j]-step*gb[j]/float64(len(x)))
			}
			nc = bias - step*gc/float64(len(x))
			nl = loss(next, nc)
			if nl <= cur || step < 1e-10 {
				break
			}
			step /= 2
		}
		improved := cur - nl
		beta, bias, cur = next, nc, nl
		step *= 1.5
		if improved >= 0 && improved < 1e-10*math.Max(1, cur) {
			break
		}
	}
	return beta, bias
}

// quantileAbove returns the lowest threshold t (a score of neg, or just
// above it) such that the weighted share of neg scoring ≥ t is at most
// share.
func quantileAbove(neg, wn []float64, share float64) float64 {
	idx := make([]int, len(neg))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return neg[idx[a]] > neg[idx[b]] })
	var total float64
	for _, v := range wn {
		total += v
	}
	var above float64
	for _, i := range idx {
		if (above+wn[i])/total > share+1e-12 {
			return math.Nextafter(neg[i], math.Inf(1))
		}
		above += wn[i]
	}
	return 0
}

func weightedShare(v, wv []float64, t float64) float64 {
	var in, total float64
	for i, s := range v {
		total += wv[i]
		if s >= t {
			in += wv[i]
		}
	}
	if total == 0 {
		return 0
	}
	return in / total
}

// balancedPrecision is the precision at t with reals and fakes weighing the
// same in total.
func balancedPrecision(pos, wp, neg, wn []float64, t float64) float64 {
	tp, fp := weightedShare(pos, wp, t), weightedShare(neg, wn, t)
	if tp+fp == 0 {
		return 0
	}
	return tp / (tp + fp)
}

// weightedAUC is the AUC with each pair weighted by its two examples'
// weights.
func weightedAUC(pos, wp, neg, wn []float64) float64 {
	var num, den float64
	for i, p := range pos {
		for j, n := range neg {
			pw := wp[i] * wn[j]
			den += pw
			switch {
			case p > n:
				num += pw
			case p == n:
				num += pw / 2
			}
		}
	}
	if den == 0 {
		return math.NaN()
	}
	return num / den
}
