package trainer

import (
	"context"
	"fmt"
	"sort"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/motion"
)

// Scored is one recorded sequence as a motion network scores it: the
// detector's track score (the mean window probability).
type Scored struct {
	Source  string
	Method  string
	Fake    bool
	Score   float64
	Windows int
}

// ScoreSet scores every sequence of set with d exactly as the detector
// scores a track (motion.Detector.Judge), in seconds rather than the
// minutes of decoding the clips again; sequences too short for a window
// are left out, as the detector gives them no opinion.
func ScoreSet(ctx context.Context, d *motion.Detector, set *Set) ([]Scored, error) {
	var out []Scored
	for _, s := range set.Sequences {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := d.Judge(s.Frames)
		if err != nil {
			return nil, fmt.Errorf("trainer: %s: %w", s.Source, err)
		}
		n := int(r.Measurements["windows"])
		if n == 0 {
			continue
		}
		method := s.Method
		if !s.Fake {
			method = "real"
		}
		out = append(out, Scored{Source: s.Source, Method: method, Fake: s.Fake, Score: r.Score, Windows: n})
	}
	return out, nil
}

// Figures summarise scored sequences: the clip-level AUC of fakes against
// reals with its 95% bootstrap interval, each fake method's AUC against
// all the reals, and how many clips of each side score at least High.
type Figures struct {
	Fakes      int                    `json:"fakes"`
	Reals      int                    `json:"reals"`
	AUC        eval.Figure            `json:"auc"`
	AUCCI95    eval.Interval          `json:"auc_ci95"`
	Methods    map[string]eval.Figure `json:"methods"`
	High       float64                `json:"high"`
	FakesHigh  int                    `json:"fakes_high"`
	RealsHigh  int                    `json:"reals_high"`
	RealsAbove []string               `json:"reals_high_sources,omitempty"`
}

// Summarize returns the figures of scored; AUCs are NaN without a fake or
// a real.
func Summarize(scored []Scored, high float64) Figures {
	f := Figures{High: high, Methods: map[string]eval.Figure{}}
	var fakes, reals []float64
	byMethod := map[string][]float64{}
	for _, s := range scored {
		if s.Fake {
			fakes = append(fakes, s.Score)
			byMethod[s.Method] = append(byMethod[s.Method], s.Score)
			if s.Score >= high {
				f.FakesHigh++
			}
			continue
		}
		reals = append(reals, s.Score)
		if s.Score >= high {
			f.RealsHigh++
			f.RealsAbove = append(f.RealsAbove, s.Source)
		}
	}
	sort.Strings(f.RealsAbove)
	f.Fakes, f.Reals = len(fakes), len(reals)
	f.AUC, f.AUCCI95 = eval.Figure(eval.AUC(fakes, reals)), eval.AUCInterval(fakes, reals)
	for m, s := range byMethod {
		f.Methods[m] = eval.Figure(eval.AUC(s, reals))
	}
	return f
}
