package eval

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotROC draws the ROC curves of s (the fused score in black, each
// detector in its own colour, the chance diagonal dashed) into a PNG file
// (or SVG/PDF, by the file's extension).
func PlotROC(path string, s Summary, title string) error {
	p := plot.New()
	p.Title.Text = "ROC — " + title
	p.X.Label.Text = "false-positive rate (reals called fake)"
	p.Y.Label.Text = "true-positive rate (fakes caught)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = false, false

	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	diag.Color = color.Gray{Y: 160}
	p.Add(diag)

	add := func(name string, auc float64, i int, roc []ROCPoint) error {
		if len(roc) == 0 {
			return nil
		}
		xys := make(plotter.XYs, len(roc))
		for j, pt := range roc {
			xys[j] = plotter.XY{X: pt.FPR, Y: pt.TPR}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		if i < 0 {
			l.Color, l.Width = color.Black, vg.Points(2.5)
		} else {
			l.Color, l.Width = plotutil.Color(i), vg.Points(1.5)
			l.Dashes = plotutil.Dashes(i + 1)
		}
		p.Add(l)
		label := name
		if !math.IsNaN(auc) {
			label = fmt.Sprintf("%s (AUC %.2f)", name, auc)
		}
		p.Legend.Add(label, l)
		return nil
	}
	if err := add("fused", float64(s.AUC), -1, s.ROC["fused"]); err != nil {
		return err
	}
	for i, d := range s.Detectors {
		if err := add(d.Detector, float64(d.AUC), i, s.ROC[d.Detector]); err != nil {
			return err
		}
	}
	return p.Save(6*vg.Inch, 6*vg.Inch, path)
}
