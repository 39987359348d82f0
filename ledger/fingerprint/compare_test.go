package fingerprint

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const interval = 250 * time.Millisecond // at DefaultSampleRate

// trimmed returns the samples [from, to) of fp as a copy starting at 0,
// as fingerprinting a trimmed file would.
func trimmed(fp *Fingerprint, from, to int) *Fingerprint {
	c := *fp
	c.Frames = nil
	for k, f := range fp.Frames[from:to] {
		c.Frames = append(c.Frames, Frame{T: time.Duration(k) * interval, Global: f.Global, Cells: slices.Clone(f.Cells)})
	}
	c.Duration = time.Duration(to-from) * interval
	return &c
}

// noisy flips n random bits of every hash, as re-encoding does.
func noisy(fp *Fingerprint, n int, seed uint64) *Fingerprint {
	r := rand.New(rand.NewPCG(seed, 1))
	c := trimmed(fp, 0, len(fp.Frames))
	flip := func(h uint64) uint64 {
		for range n {
			h ^= 1 << r.IntN(64)
		}
		return h
	}
	for k := range c.Frames {
		c.Frames[k].Global = flip(c.Frames[k].Global)
		for i := range c.Frames[k].Cells {
			c.Frames[k].Cells[i] = flip(c.Frames[k].Cells[i])
		}
	}
	return c
}

// replaceCells gives cells of samples [from, to) new random hashes: a
// changed region.
func replaceCells(fp *Fingerprint, from, to int, cells []int, seed uint64) *Fingerprint {
	r := rand.New(rand.NewPCG(seed, 2))
	c := trimmed(fp, 0, len(fp.Frames))
	for k := from; k < to; k++ {
		for _, i := range cells {
			c.Frames[k].Cells[i] = r.Uint64()
		}
	}
	return c
}

// replaceFrames gives samples [from, to) new random hashes: other footage.
func replaceFrames(fp *Fingerprint, from, to int, seed uint64) *Fingerprint {
	r := rand.New(rand.NewPCG(seed, 3))
	c := trimmed(fp, 0, len(fp.Frames))
	for k := from; k < to; k++ {
		c.Frames[k].Global = r.Uint64()
		for i := range c.Frames[k].Cells {
			c.Frames[k].Cells[i] = r.Uint64()
		}
	}
	return c
}

// prepend adds n samples of other footage before fp.
func prepend(fp *Fingerprint, n int, seed uint64) *Fingerprint {
	extra := synthetic(n, seed)
	c := trimmed(fp, 0, len(fp.Frames))
	c.Frames = append(extra.Frames, c.Frames...)
	for k := range c.Frames {
		c.Frames[k].T = time.Duration(k) * interval
	}
	c.Duration += time.Duration(n) * interval
	return c
}

// static returns a fingerprint of a still shot: the global hash never
// changes, only the cells do (a talking head: the mouth and eyes move).
func static(n int, seed uint64) *Fingerprint {
	fp := synthetic(n, seed)
	for k := range fp.Frames {
		fp.Frames[k].Global = fp.Frames[0].Global
		for i := range fp.Frames[k].Cells {
			if i != 5 && i != 6 && i != 9 && i != 10 { // only the centre moves
				fp.Frames[k].Cells[i] = fp.Frames[0].Cells[i]
			}
		}
	}
	return fp
}

func TestCompare(t *testing.T) {
	orig := synthetic(48, 10) // 12 s
	still := static(48, 11)
	type want struct {
		verdict   Verdict
		offset    time.Duration
		minFrac   float64
		unmatched []Span
		altered   []AlteredSpan
	}
	cases := map[string]struct {
		original, candidate *Fingerprint
		want                want
	}{
		"identical": {orig, orig, want{verdict: SameContent, minFrac: 1}},
		"re-encoded (2 bits flipped per hash)": {orig, noisy(orig, 2, 1),
			want{verdict: SameContent, minFrac: 1}},
		"trimmed 1.5 s and 2 s": {orig, trimmed(orig, 6, 40),
			want{verdict: SameContent, offset: 1500 * time.Millisecond, minFrac: 1}},
		"trimmed and re-encoded": {orig, noisy(trimmed(orig, 6, 40), 3, 2),
			want{verdict: SameContent, offset: 1500 * time.Millisecond, minFrac: 1}},
		"one odd sample": {orig, replaceFrames(orig, 10, 11, 3),
			want{verdict: SameContent, minFrac: 47.0 / 48,
				unmatched: []Span{{Candidate: Range{2500 * time.Millisecond, 2750 * time.Millisecond},
					Original: Range{2500 * time.Millisecond, 2750 * time.Millisecond}, InOriginal: true, Samples: 1}}}},
		"face cells replaced 2–4 s": {orig, replaceCells(orig, 8, 16, []int{5, 6}, 4),
			want{verdict: Altered, minFrac: 1, altered: []AlteredSpan{{
				Span:  Span{Candidate: Range{2 * time.Second, 4 * time.Second}, Original: Range{2 * time.Second, 4 * time.Second}, InOriginal: true, Samples: 8},
				Cells: []int{5, 6}}}}},
		"trimmed, then face cells replaced": {orig, replaceCells(trimmed(orig, 6, 40), 2, 10, []int{9}, 5),
			want{verdict: Altered, offset: 1500 * time.Millisecond, minFrac: 1, altered: []AlteredSpan{{
				Span: Span{Candidate: Range{500 * time.Millisecond, 2500 * time.Millisecond},
					Original: Range{2 * time.Second, 4 * time.Second}, InOriginal: true, Samples: 8},
				Cells: []int{9}}}}},
		"face replaced in every sample": {orig, replaceCells(trimmed(orig, 4, 44), 0, 40, []int{5, 6, 9, 10}, 6),
			want{verdict: Altered, offset: time.Second, minFrac: 1, altered: []AlteredSpan{{
				Span: Span{Candidate: Range{0, 10 * time.Second},
					Original: Range{time.Second, 11 * time.Second}, InOriginal: true, Samples: 40},
				Cells: []int{5, 6, 9, 10}}}}},
		"other footage 5–6 s": {orig, replaceFrames(orig, 20, 24, 7),
			want{verdict: Altered, minFrac: 44.0 / 48, unmatched: []Span{{
				Candidate: Range{5 * time.Second, 6 * time.Second}, Original: Range{5 * time.Second, 6 * time.Second},
				InOriginal: true, Samples: 4}}}},
		"footage added before": {orig, prepend(orig, 8, 8),
			want{verdict: Altered, offset: -2 * time.Second, minFrac: 48.0 / 56, unmatched: []Span{{
				Candidate: Range{0, 2 * time.Second}, Samples: 8}}}},
		"original is the trimmed one": {trimmed(orig, 6, 40), orig,
			want{verdict: Altered, offset: -1500 * time.Millisecond, minFrac: 34.0 / 48, unmatched: []Span{
				{Candidate: Range{0, 1500 * time.Millisecond}, Samples: 6},
				{Candidate: Range{10 * time.Second, 12 * time.Second}, Samples: 8}}}},
		"different video": {orig, synthetic(48, 99), want{verdict: Different}},
		// In a still shot only the moving cells say where a trim starts.
		"still shot, trimmed 2.5 s": {still, noisy(trimmed(still, 10, 30), 1, 9),
			want{verdict: SameContent, offset: 2500 * time.Millisecond, minFrac: 1}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := Compare(c.original, c.candidate, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v := Classify(m); v != c.want.verdict {
				t.Errorf("verdict %s, want %s (match %+v)", v, c.want.verdict, summary(m))
			}
			if c.want.verdict == Different {
				if m.MatchedFraction > 0.1 {
					t.Errorf("matched fraction %.2f for a different video", m.MatchedFraction)
				}
				return
			}
			if m.Offset != c.want.offset {
				t.Errorf("offset %v, want %v", m.Offset, c.want.offset)
			}
			if m.MatchedFraction < c.want.minFrac-1e-9 {
				t.Errorf("matched fraction %.3f, want ≥ %.3f", m.MatchedFraction, c.want.minFrac)
			}
			if !slices.EqualFunc(m.Unmatched, c.want.unmatched, func(a, b Span) bool { return a == b }) {
				t.Errorf("unmatched %+v, want %+v", m.Unmatched, c.want.unmatched)
			}
			if len(m.Altered) != len(c.want.altered) {
				t.Fatalf("altered %+v, want %+v", m.Altered, c.want.altered)
			}
			for i, a := range m.Altered {
				w := c.want.altered[i]
				if a.Span != w.Span || !slices.Equal(a.Cells, w.Cells) {
					t.Errorf("altered[%d] = %+v cells %v, want %+v cells %v", i, a.Span, a.Cells, w.Span, w.Cells)
				}
				if a.MaxCellDistance < DefaultCellThreshold {
					t.Errorf("altered[%d] max cell distance %d under the threshold", i, a.MaxCellDistance)
				}
			}
			if len(m.Frames) != len(c.candidate.Frames) || m.Samples != len(c.candidate.Frames) {
				t.Errorf("%d frame results, %d samples for %d candidate samples", len(m.Frames), m.Samples, len(c.candidate.Frames))
			}
		})
	}
}

func summary(m Match) Match {
	m.Frames = nil
	return m
}

func TestCompareThresholds(t *testing.T) {
	orig := synthetic(20, 20)
	cand := noisy(orig, 6, 21) // 6 bits per hash: up to 12 between them
	strict, err := Compare(orig, cand, &CompareOptions{FrameThreshold: 2, CellThreshold: 4})
	if err != nil {
		t.Fatal(err)
	}
	loose, err := Compare(orig, cand, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strict.MatchedFraction >= loose.MatchedFraction {
		t.Errorf("a stricter frame threshold matched %.2f, the default %.2f", strict.MatchedFraction, loose.MatchedFraction)
	}
	if loose.MatchedFraction != 1 || Classify(loose) != SameContent {
		t.Errorf("default thresholds: %+v", summary(loose))
	}
	if Classify(strict) == SameContent {
		t.Error("with thresholds under the noise, the copy still classifies same_content")
	}
}

func TestCompareIncompatible(t *testing.T) {
	a := synthetic(10, 30)
	rate := synthetic(10, 30)
	rate.SampleRate = 5
	grid := synthetic(10, 30)
	grid.Grid = 2
	for i := range grid.Frames {
		grid.Frames[i].Cells = grid.Frames[i].Cells[:4]
	}
	for name, b := range map[string]*Fingerprint{"sample rate": rate, "grid": grid, "nil": nil} {
		if _, err := Compare(a, b, nil); !errors.Is(err, ErrIncompatible) {
			t.Errorf("%s: error %v, want ErrIncompatible", name, err)
		}
	}
	bad := synthetic(10, 30)
	bad.Frames[3].Cells = nil
	if _, err := Compare(a, bad, nil); !errors.Is(err, ErrFormat) {
		t.Errorf("invalid candidate: error %v, want ErrFormat", err)
	}
}

func TestClassify(t *testing.T) {
	run := func(n int) []Span { return []Span{{Samples: n, InOriginal: true}} }
	alt := func(n int) []AlteredSpan {
		return []AlteredSpan{{Span: Span{Samples: n, InOriginal: true}, Cells: []int{1}}}
	}
	cases := map[string]struct {
		m    Match
		want Verdict
	}{
		"all matched":                {Match{Samples: 10, Compared: 10, Matched: 10, MatchedFraction: 1}, SameContent},
		"nothing compared":           {Match{Samples: 10}, Different},
		"under half matched":         {Match{Samples: 10, Compared: 10, Matched: 4, MatchedFraction: 0.4}, Different},
		"exactly half matched":       {Match{Samples: 10, Compared: 10, Matched: 5, MatchedFraction: 0.5}, Different},
		"just over half matched":     {Match{Samples: 10, Compared: 10, Matched: 6, MatchedFraction: 0.6}, Altered},
		"one lone miss":              {Match{Samples: 10, Compared: 10, Matched: 9, MatchedFraction: 0.9, Unmatched: run(1)}, SameContent},
		"a run of misses":            {Match{Samples: 20, Compared: 20, Matched: 18, MatchedFraction: 0.9, Unmatched: run(2)}, Altered},
		"one altered sample":         {Match{Samples: 10, Compared: 10, Matched: 10, MatchedFraction: 1, Altered: alt(1)}, SameContent},
		"a run of altered samples":   {Match{Samples: 10, Compared: 10, Matched: 10, MatchedFraction: 1, Altered: alt(2)}, Altered},
		"scattered misses, 70% left": {Match{Samples: 10, Compared: 10, Matched: 7, MatchedFraction: 0.7}, Altered},
	}
	for name, c := range cases {
		if got := Classify(c.m); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}

func TestKeysAndSimilar(t *testing.T) {
	orig := synthetic(40, 40)
	copyFP := noisy(trimmed(orig, 5, 35), 2, 41)
	other := synthetic(40, 42)

	shared := func(a, b []uint32) int {
		n := 0
		for _, k := range a {
			if _, ok := slices.BinarySearch(b, k); ok {
				n++
			}
		}
		return n
	}
	ko, kc, kx := orig.Keys(), copyFP.Keys(), other.Keys()
	if !slices.IsSorted(ko) || len(slices.Compact(slices.Clone(ko))) != len(ko) {
		t.Error("keys not sorted and unique")
	}
	if s := shared(kc, ko); s < len(kc)/4 {
		t.Errorf("copy shares %d of %d keys with its original", s, len(kc))
	}
	if s := shared(kx, ko); s > len(kx)/20 {
		t.Errorf("unrelated video shares %d of %d keys", s, len(kx))
	}
	if s := Similar(copyFP, orig); s < 0.9 {
		t.Errorf("Similar(copy, original) = %.2f", s)
	}
	if s := Similar(other, orig); s > 0.1 {
		t.Errorf("Similar(other, original) = %.2f", s)
	}
	if Similar(nil, orig) != 0 {
		t.Error("Similar(nil, ...) != 0")
	}
}

func TestOptions(t *testing.T) {
	cases := map[string]struct {
		opts *Options
		ok   bool
	}{
		"nil":           {nil, true},
		"zero":          {&Options{}, true},
		"2 per second":  {&Options{SampleRate: 2, Grid: 6}, true},
		"negative rate": {&Options{SampleRate: -1}, false},
		"rate over max": {&Options{SampleRate: MaxSampleRate + 1}, false},
		"grid over max": {&Options{Grid: MaxGrid + 1}, false},
		"negative grid": {&Options{Grid: -2}, false},
	}
	for name, c := range cases {
		_, err := c.opts.resolve()
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v", name, err)
		}
	}
	o, _ := (*Options)(nil).resolve()
	if o.SampleRate != DefaultSampleRate || o.Grid != DefaultGrid {
		t.Errorf("defaults %+v", o)
	}
}
