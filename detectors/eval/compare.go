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
	for _, ch := range Compare(parent, child).Changes {
		if ch.Scope == ScopeKind {
			continue
		}
		pf, cf := float64(ch.Base), float64(ch.New)
		if math.IsNaN(pf) {
			continue
		}
		if math.IsNaN(cf) || pf-cf > tolerance {
			out = append(out, Regression{Method: ch.Name, Parent: pf, Child: cf, Drop: pf - cf})
		}
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

// Scopes of a Change.
const (
	ScopeAll    = "all" // the overall AUC
	ScopeKind   = "kind"
	ScopeMethod = "method"
)

// Change is one AUC of two evaluations of the same clips: a baseline's and
// a candidate's.
type Change struct {
	// Scope is ScopeAll, ScopeKind or ScopeMethod; Name is the kind or
	// method ("all" for the overall AUC).
	Scope string `json:"scope"`
	Name  string `json:"name"`
	N     int    `json:"n"` // the candidate's fakes behind the figure
	Base  Figure `json:"base"`
	New   Figure `json:"new"`
}

// Calls counts, in one evaluation, the clips past each verdict threshold.
type Calls struct {
	RealsSuspicious  int `json:"reals_suspicious_or_worse"`
	RealsManipulated int `json:"reals_likely_manipulated"`
	FakesManipulated int `json:"fakes_likely_manipulated"`
}

// Comparison sets a candidate's figures beside a baseline's: how a change
// of model moved each kind and method, and the verdicts on real clips.
type Comparison struct {
	Changes []Change `json:"changes"`
	Base    Calls    `json:"calls_base"`
	New     Calls    `json:"calls_new"`
	// OnlyBase and OnlyNew count the clips that only one of the two
	// evaluations scored. Figures over different clips do not compare;
	// whoever prints a comparison must say so when these are not 0.
	OnlyBase int `json:"only_base"`
	OnlyNew  int `json:"only_new"`
}

// Compare returns the candidate's overall, per-kind and per-method AUCs
// beside the baseline's (a kind or method only one of them has gets NaN
// on the other side), with each one's verdict counts and how many clips
// the two did not share.
func Compare(base, cand Summary) Comparison {
	c := Comparison{Base: calls(base), New: calls(cand)}
	c.Changes = append(c.Changes, Change{Scope: ScopeAll, Name: "all", N: cand.Fakes, Base: base.AUC, New: cand.AUC})

	type key struct{ scope, name string }
	baseAUC := map[key]Figure{}
	for _, k := range base.Kinds {
		baseAUC[key{ScopeKind, k.Kind}] = k.AUC
	}
	for _, m := range base.Methods {
		if m.Label == Fake {
			baseAUC[key{ScopeMethod, m.Method}] = m.AUC
		}
	}
	seen := map[key]bool{}
	add := func(scope, name string, n int, auc Figure) {
		k := key{scope, name}
		b, ok := baseAUC[k]
		if !ok {
			b = Figure(math.NaN())
		}
		seen[k] = true
		c.Changes = append(c.Changes, Change{Scope: scope, Name: name, N: n, Base: b, New: auc})
	}
	for _, k := range cand.Kinds {
		add(ScopeKind, k.Kind, k.N, k.AUC)
	}
	for _, m := range cand.Methods {
		if m.Label == Fake {
			add(ScopeMethod, m.Method, m.N, m.AUC)
		}
	}
	// What only the baseline measured, in its order.
	for _, k := range base.Kinds {
		if !seen[key{ScopeKind, k.Kind}] {
			c.Changes = append(c.Changes, Change{Scope: ScopeKind, Name: k.Kind, Base: k.AUC, New: Figure(math.NaN())})
		}
	}
	for _, m := range base.Methods {
		if m.Label == Fake && !seen[key{ScopeMethod, m.Method}] {
			c.Changes = append(c.Changes, Change{Scope: ScopeMethod, Name: m.Method, Base: m.AUC, New: Figure(math.NaN())})
		}
	}

	paths := map[string]int{}
	for _, s := range base.PerClip {
		paths[s.Path] |= 1
	}
	for _, s := range cand.PerClip {
		paths[s.Path] |= 2
	}
	for _, in := range paths {
		switch in {
		case 1:
			c.OnlyBase++
		case 2:
			c.OnlyNew++
		}
	}
	return c
}

// calls counts s's clips past each threshold, from its confusion figures.
func calls(s Summary) Calls {
	return Calls{RealsSuspicious: s.AtSuspicious.FP, RealsManipulated: s.AtManipulated.FP, FakesManipulated: s.AtManipulated.TP}
}
