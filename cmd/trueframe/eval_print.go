package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/scan"
)

// interval writes a 95% interval as "[lo–hi]".
func interval(i eval.Interval) string {
	if math.IsNaN(float64(i.Lo)) {
		return ""
	}
	return fmt.Sprintf("[%s–%s]", fig(i.Lo), fig(i.Hi))
}

func fig(v eval.Figure) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(v))
}

// printEval writes eval's figures for a person: the fused figures, per
// kind, per method (with each detector's AUC), per detector, per clip, and
// the perturbed and cross-validated figures when asked for.
func printEval(w io.Writer, out evalOutput) {
	s := out.Summary
	dets := detectorNames(out.Models)
	fmt.Fprintf(w, "eval: %s, split %s: %d clips (%d real, %d fake, %d failed) in %.0f s\n",
		out.Source, out.Split, s.Clips, s.Reals, s.Fakes, s.Failed, s.TotalSeconds)
	fmt.Fprintf(w, "models: %s\n\n", modelLine(out.Models))
	fmt.Fprintf(w, "fused: AUC %s %s, EER %s, worst method %s (AUC %s)\n", fig(s.AUC), interval(s.AUCInterval), fig(s.EER), s.WorstMethod, fig(s.WorstMethodAUC))
	for _, c := range []struct {
		name string
		c    eval.Confusion
	}{{"suspicious", s.AtSuspicious}, {"likely_manipulated", s.AtManipulated}} {
		fmt.Fprintf(w, "  at %-18s (score ≥ %.2f): accuracy %.2f, precision %.2f, recall %.2f, false-positive rate %.2f (%d of %d reals)\n",
			c.name, c.c.Threshold, c.c.Accuracy, c.c.Precision, c.c.Recall, c.c.FPR, c.c.FP, c.c.FP+c.c.TN)
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nkind\tmethods\tfakes\tAUC\t95% interval\tmethod-mean AUC")
	for _, k := range s.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", k.Kind, k.Methods, k.N, fig(k.AUC), interval(k.AUCInterval), fig(k.MethodMeanAUC))
	}
	tw.Flush()

	header := "\nmethod\tlabel\tn\tAUC\t95% interval\tmean\tsuspicious+\tmanipulated"
	for _, d := range dets {
		header += "\t" + d
	}
	fmt.Fprintln(tw, header)
	for _, m := range s.Methods {
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%.2f\t%.2f\t%.2f", m.Method, m.Label, m.N, fig(m.AUC), interval(m.AUCInterval), m.Mean, m.Called, m.Manipulated)
		for _, d := range dets {
			if m.Label == eval.Fake {
				line += "\t" + fig(m.Detectors[d])
			} else {
				line += "\t"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintln(w, "(fakes: AUC against every real clip with its 95% bootstrap interval, shares called suspicious or worse\n and likely_manipulated; reals: the same shares are false positives)")

	fmt.Fprintln(tw, "\ndetector\tAUC\tEER\tmissing")
	for _, d := range s.Detectors {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.Detector, fig(d.AUC), fig(d.EER), d.Missing)
	}
	tw.Flush()

	fmt.Fprintln(tw, "\nclip\tlabel\tmethod\tscore\tverdict"+"\t"+strings.Join(dets, "\t"))
	for _, c := range s.PerClip {
		if c.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t–\tfailed: %s\n", filepath.Base(c.Path), c.Label, c.Method, c.Err)
			continue
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%.3f\t%s", filepath.Base(c.Path), c.Label, c.Method, c.Score, c.Verdict)
		for _, d := range dets {
			if v, ok := c.Detectors[d]; ok {
				line += fmt.Sprintf("\t%.2f", v)
			} else {
				line += "\t–"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()

	if len(out.Perturbed) > 0 {
		fmt.Fprintln(tw, "\nperturbed\tAUC\tdrop\tworst method")
		fmt.Fprintf(tw, "original\t%s\t\t%s %s\n", fig(s.AUC), s.WorstMethod, fig(s.WorstMethodAUC))
		for _, p := range out.Perturbed {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\n", p.Desc, fig(p.Summary.AUC), fig(s.AUC-p.Summary.AUC), p.Summary.WorstMethod, fig(p.Summary.WorstMethodAUC))
		}
		tw.Flush()
		line := "\nmethod\toriginal"
		for _, p := range out.Perturbed {
			line += "\t" + p.Perturbation
		}
		fmt.Fprintln(tw, line)
		for i, m := range s.Methods {
			if m.Label != eval.Fake {
				continue
			}
			line := m.Method + "\t" + fig(m.AUC)
			for _, p := range out.Perturbed {
				line += "\t" + fig(p.Summary.Methods[i].AUC)
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
	}
	if out.CV != nil {
		printCV(w, out.CV)
	}
	if out.Comparison != nil {
		printComparison(w, out.Comparison)
	}
}

// detectorNames returns the detectors m names, sorted.
func detectorNames(m scan.ModelInfo) []string {
	var dets []string
	for name := range m.Detectors {
		dets = append(dets, name)
	}
	sort.Strings(dets)
	return dets
}

// modelLine names the detector and fusion versions of m.
func modelLine(m scan.ModelInfo) string {
	var versions []string
	for _, d := range detectorNames(m) {
		versions = append(versions, d+"@"+m.Detectors[d])
	}
	return fmt.Sprintf("%s; fusion %s", strings.Join(versions, ", "), m.FusionVersion)
}

// printComparison writes, run by run, each AUC of the earlier output and of
// this one, and the verdict counts of both.
func printComparison(w io.Writer, c *evalComparison) {
	fmt.Fprintf(w, "\ncompared with %s (%s):\n", c.Base, c.BaseInfo)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range c.Runs {
		fmt.Fprintf(tw, "\n%s\tn\tbefore\tafter\tchange\n", r.Run)
		for _, ch := range r.Changes {
			name := ch.Name
			switch ch.Scope {
			case eval.ScopeKind:
				name = "kind " + name
			case eval.ScopeMethod:
				name = "  " + name
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", name, ch.N, fig(ch.Base), fig(ch.New), signed(ch.New-ch.Base))
		}
		fmt.Fprintf(tw, "reals suspicious or worse\t\t%d\t%d\t\n", r.Base.RealsSuspicious, r.New.RealsSuspicious)
		fmt.Fprintf(tw, "reals likely_manipulated\t\t%d\t%d\t\n", r.Base.RealsManipulated, r.New.RealsManipulated)
		fmt.Fprintf(tw, "fakes likely_manipulated\t\t%d\t%d\t\n", r.Base.FakesManipulated, r.New.FakesManipulated)
		tw.Flush()
		if r.OnlyBase > 0 || r.OnlyNew > 0 {
			fmt.Fprintf(w, "NOT THE SAME CLIPS: %d only before, %d only now; these figures do not compare\n", r.OnlyBase, r.OnlyNew)
		}
	}
}

// signed writes a change with its sign, or "–" when either side is missing.
func signed(v eval.Figure) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return "–"
	}
	// Rounded first, so that a change too small to show reads +0.00, not -0.00.
	return fmt.Sprintf("%+.2f", math.Round(float64(v)*100)/100+0)
}

func printCV(w io.Writer, cv *eval.CVResult) {
	fmt.Fprintf(w, "\nleave-one-method-out (fusion refitted without the method's fakes and one of %d folds of reals):\n", cv.Folds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "held-out method\tkind\tfakes\treals\tAUC\tmean score")
	for _, m := range cv.Methods {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.2f\n", m.Method, m.Kind, m.Fakes, m.Reals, fig(m.AUC), m.Mean)
	}
	tw.Flush()
	fmt.Fprintf(w, "method-mean AUC %s, worst %s (%s)\n", fig(cv.MeanAUC), cv.Worst, fig(cv.WorstAUC))
}
