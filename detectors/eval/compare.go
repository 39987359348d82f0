package eval

import "math"

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
