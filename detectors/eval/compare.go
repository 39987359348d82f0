package eval

import (
	"math"
	"slices"
)

// Regression is a figure on which a candidate model is worse than the
// model it would replace.
type Regression struct {
	// Method is a fake method, or "all" for the overall AUC.
	Method        string  `json:"method"`
	Parent, Child float64 `json:"-"`
	Drop          float64 `json:"drop"`
}

// Regressions compares two summaries of the same clips — a parent model's
// and a child's — and returns each method (and the overall AUC, as "all")
// on which the child's AUC is lower than the parent's by more than
// tolerance. A method one of them could not measure (no fakes analysed) is
// a regression of the child only when the parent measured it.
func Regressions(parent, child Summary, tolerance float64) []Regression {
	var out []Regression
	check := func(method string, p, c Figure) {
		pf, cf := float64(p), float64(c)
		if math.IsNaN(pf) {
			return
		}
		if math.IsNaN(cf) || pf-cf > tolerance {
			out = append(out, Regression{Method: method, Parent: pf, Child: cf, Drop: pf - cf})
		}
	}
	check("all", parent.AUC, child.AUC)
	childAUC := map[string]Figure{}
	for _, m := range child.Methods {
		if m.Label == Fake {
			childAUC[m.Method] = m.AUC
		}
	}
	for _, m := range parent.Methods {
		if m.Label != Fake {
			continue
		}
		c, ok := childAUC[m.Method]
		if !ok {
			c = Figure(math.NaN())
		}
		check(m.Method, m.AUC, c)
	}
	return out
}

// Alone returns the figures of s that Regressions compares — the overall
// AUC and each method's — taken from detector name's own scores instead of
// the fused ones; ok is false when s has no figures of name. A detector the
// fusion gives no weight cannot move the fused score, so inside the fusion
// every new version of it would tie its parent: on its own it can be told
// apart. The other fused figures (error rates, intervals, kinds, the
// per-clip table) are left out rather than kept beside figures they do not
// describe.
func (s Summary) Alone(name string) (Summary, bool) {
	i := slices.IndexFunc(s.Detectors, func(d DetectorFigures) bool { return d.Detector == name })
	if i < 0 {
		return Summary{}, false
	}
	out := Summary{Clips: s.Clips, Reals: s.Reals, Fakes: s.Fakes, Failed: s.Failed, AUC: s.Detectors[i].AUC,
		Detectors: []DetectorFigures{s.Detectors[i]}, TotalSeconds: s.TotalSeconds}
	for _, m := range s.Methods {
		if m.Label != Fake {
			continue
		}
		auc, ok := m.Detectors[name]
		if !ok {
			auc = Figure(math.NaN())
		}
		out.Methods = append(out.Methods, MethodFigures{Method: m.Method, Label: m.Label, Kind: m.Kind, N: m.N, AUC: auc})
	}
	return out, true
}
