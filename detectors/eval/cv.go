package eval

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"

	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/detectors/scan"
)

// Example turns a clip's analysis into a fusion training example: the
// detector results of its longest face seen in at least minFrames frames
// (the subject of the clip). ok is false without such a face.
func Example(c Clip, rep *scan.Report, minFrames int) (fusion.Example, bool) {
	best := -1
	for i, f := range rep.Faces {
		if f.Frames >= minFrames && (best < 0 || f.Frames > rep.Faces[best].Frames) {
			best = i
		}
	}
	if best < 0 {
		return fusion.Example{}, false
	}
	return fusion.Example{Results: rep.Faces[best].Detectors, Fake: c.IsFake(), Method: c.Method}, true
}

// CVResult holds leave-one-method-out figures: for each fake method, the
// fusion fitted without that method's clips (and without the real clips
// it is compared with) scores them against real clips it never saw.
type CVResult struct {
	Folds   int         `json:"real_folds"`
	Methods []CVFigures `json:"methods"`
	// MeanAUC weighs each method once.
	MeanAUC  Figure `json:"method_mean_auc"`
	WorstAUC Figure `json:"worst_auc"`
	Worst    string `json:"worst_method"`
}

// CVFigures are one held-out method's figures.
type CVFigures struct {
	Method string  `json:"method"`
	Kind   string  `json:"kind"`
	Fakes  int     `json:"fakes"`
	Reals  int     `json:"reals"`
	AUC    Figure  `json:"auc"`
	Mean   float64 `json:"mean_fake_score"`
}

// CrossValidateByMethod fits the fusion once per (held-out method, fold of
// reals) with opts, leaving out that method's fakes and that fold's reals;
// each real is scored by the models that never saw it, and each held-out
// fake by the mean of its method's models. Clips without a usable face are
// left out.
func CrossValidateByMethod(clips []Clip, reports map[string]*scan.Report, minFrames int, opts fusion.FitOptions) (*CVResult, error) {
	const folds = 5
	type item struct {
		clip Clip
		ex   fusion.Example
		fold int
	}
	var items []item
	methods := map[string]bool{}
	for _, c := range clips {
		rep := reports[c.Path]
		if rep == nil {
			continue
		}
		ex, ok := Example(c, rep, minFrames)
		if !ok {
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(c.Path))
		items = append(items, item{c, ex, int(h.Sum32() % folds)})
		if c.IsFake() {
			methods[c.Method] = true
		}
	}
	res := &CVResult{Folds: folds, WorstAUC: Figure(math.NaN())}
	names := make([]string, 0, len(methods))
	for m := range methods {
		names = append(names, m)
	}
	sort.Strings(names)
	var sum float64
	for _, m := range names {
		fakeScores := map[int]float64{}
		var realScores []float64
		for k := range folds {
			var train []fusion.Example
			for _, it := range items {
				if (it.clip.IsFake() && it.clip.Method == m) || (!it.clip.IsFake() && it.fold == k) {
					continue
				}
				train = append(train, it.ex)
			}
			model, _, err := fusion.Fit(train, opts)
			if err != nil {
				return nil, fmt.Errorf("eval: cross-validation without %s, fold %d: %w", m, k, err)
			}
			f, err := fusion.New(model)
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				switch {
				case it.clip.IsFake() && it.clip.Method == m:
					fakeScores[i] += f.ScoreAt(it.ex.Results, nil) / folds
				case !it.clip.IsFake() && it.fold == k:
					realScores = append(realScores, f.ScoreAt(it.ex.Results, nil))
				}
			}
		}
		var fs []float64
		for _, s := range fakeScores {
			fs = append(fs, s)
		}
		fig := CVFigures{Method: m, Kind: KindOf(m), Fakes: len(fs), Reals: len(realScores), AUC: Figure(AUC(fs, realScores))}
		for _, s := range fs {
			fig.Mean += s / float64(len(fs))
		}
		res.Methods = append(res.Methods, fig)
		sum += float64(fig.AUC)
		if math.IsNaN(float64(res.WorstAUC)) || fig.AUC < res.WorstAUC {
			res.WorstAUC, res.Worst = fig.AUC, m
		}
	}
	if len(names) > 0 {
		res.MeanAUC = Figure(sum / float64(len(names)))
	}
	return res, nil
}
