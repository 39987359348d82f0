package eval

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
)

// AUC is the area under the ROC curve of scores that should be high for
// positives (fakes) and low for negatives (reals): the probability that a
// random positive outscores a random negative, ties counting half (the
// Mann–Whitney U statistic over n_pos·n_neg). NaN when either side is
// empty. NaN scores are treated as 0.5 (no opinion).
func AUC(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	type item struct {
		s   float64
		pos bool
	}
	all := make([]item, 0, len(pos)+len(neg))
	for _, s := range pos {
		all = append(all, item{noNaN(s), true})
	}
	for _, s := range neg {
		all = append(all, item{noNaN(s), false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	// Rank sum of the positives with average ranks for ties.
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].s == all[i].s {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += avg
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

func noNaN(s float64) float64 {
	if math.IsNaN(s) {
		return 0.5
	}
	return s
}

// ROCPoint is one operating point: everything scoring at or above
// Threshold is called a fake.
type ROCPoint struct {
	Threshold Figure  `json:"threshold"`
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
}

// ROC returns the curve from (0,0) to (1,1), one point per distinct score,
// thresholds decreasing.
func ROC(pos, neg []float64) []ROCPoint {
	if len(pos) == 0 || len(neg) == 0 {
		return nil
	}
	seen := map[float64]bool{}
	var ths []float64
	for _, s := range append(append([]float64(nil), pos...), neg...) {
		s = noNaN(s)
		if !seen[s] {
			seen[s] = true
			ths = append(ths, s)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(ths)))
	out := []ROCPoint{{Threshold: Figure(math.Inf(1))}}
	for _, t := range ths {
		c := At(pos, neg, t)
		out = append(out, ROCPoint{Threshold: Figure(t), FPR: c.FPR, TPR: c.Recall})
	}
	return out
}

// EER is the equal error rate: where the false-positive rate equals the
// false-negative rate, interpolated linearly along the ROC curve.
func EER(pos, neg []float64) float64 {
	roc := ROC(pos, neg)
	if roc == nil {
		return math.NaN()
	}
	for i := 1; i < len(roc); i++ {
		a, b := roc[i-1], roc[i]
		fa, fb := a.FPR-(1-a.TPR), b.FPR-(1-b.TPR) // FPR − FNR, rising along the curve
		if fa <= 0 && fb >= 0 {
			if fb == fa {
				return a.FPR
			}
			t := -fa / (fb - fa)
			return a.FPR + t*(b.FPR-a.FPR)
		}
	}
	return math.NaN()
}

// Confusion summarises the calls at one threshold: score ≥ Threshold is a
// fake.
type Confusion struct {
	Threshold float64 `json:"threshold"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	TN        int     `json:"tn"`
	FN        int     `json:"fn"`
	Accuracy  float64 `json:"accuracy"`
	// Precision is NaN-free: 0 when nothing is called a fake.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"` // true-positive rate
	FPR       float64 `json:"fpr"`    // false-positive rate on the reals
}

// At counts the calls at threshold t.
func At(pos, neg []float64, t float64) Confusion {
	c := Confusion{Threshold: t}
	for _, s := range pos {
		if noNaN(s) >= t {
			c.TP++
		} else {
			c.FN++
		}
	}
	for _, s := range neg {
		if noNaN(s) >= t {
			c.FP++
		} else {
			c.TN++
		}
	}
	if n := c.TP + c.FP + c.TN + c.FN; n > 0 {
		c.Accuracy = float64(c.TP+c.TN) / float64(n)
	}
	if c.TP+c.FP > 0 {
		c.Precision = float64(c.TP) / float64(c.TP+c.FP)
	}
	if c.TP+c.FN > 0 {
		c.Recall = float64(c.TP) / float64(c.TP+c.FN)
	}
	if c.FP+c.TN > 0 {
		c.FPR = float64(c.FP) / float64(c.FP+c.TN)
	}
	return c
}

// Figure is a number in eval's JSON output that may be undefined (an AUC
// without fakes, the ROC's first threshold): NaN and ±Inf are written as
// null, which encoding/json cannot do for a float64.
type Figure float64

// MarshalJSON writes null for NaN and ±Inf.
func (f Figure) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads null as NaN.
func (f *Figure) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Figure(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Figure(v)
	return nil
}

// Interval is a two-sided 95% confidence interval of a figure, NaN-ended
// when the figure is undefined.
type Interval struct {
	Lo Figure `json:"lo"`
	Hi Figure `json:"hi"`
}

// bootstrapResamples is how many resamples AUCInterval draws: enough for
// the 2.5% and 97.5% percentiles to move by less than 0.01 between seeds
// on the dev set's sizes.
const bootstrapResamples = 2000

// AUCInterval is the 95% percentile-bootstrap interval of AUC(pos, neg):
// positives and negatives are resampled with replacement separately (the
// counts of each stay fixed, as in the evaluation), from a fixed seed so
// that the same scores always give the same interval.
//
// It says how far a figure can be trusted: with one fake clip of a method,
// only the reals vary, and the interval is still wide. A bootstrap of a
// handful of clips understates the spread of clips never seen, so a
// difference between two models is worth acting on only when the
// intervals barely overlap.
func AUCInterval(pos, neg []float64) Interval {
	if len(pos) == 0 || len(neg) == 0 {
		return Interval{Figure(math.NaN()), Figure(math.NaN())}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]float64, len(pos))
	n := make([]float64, len(neg))
	aucs := make([]float64, bootstrapResamples)
	for r := range aucs {
		for i := range p {
			p[i] = pos[rng.IntN(len(pos))]
		}
		for i := range n {
			n[i] = neg[rng.IntN(len(neg))]
		}
		aucs[r] = AUC(p, n)
	}
	sort.Float64s(aucs)
	at := func(q float64) Figure { return Figure(aucs[int(math.Round(q*float64(len(aucs)-1)))]) }
	return Interval{at(0.025), at(0.975)}
}
