package fingerprint

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrIncompatible is returned by Compare for fingerprints that cannot be
// compared: different versions, sample rates or grids.
var ErrIncompatible = errors.New("fingerprint: incompatible fingerprints")

// Default thresholds of CompareOptions and Classify, measured on real clips
// (see the package doc and real_test.go).
const (
	// DefaultFrameThreshold: two samples show the same picture when their
	// global hashes differ in at most this many of 64 bits. Copies of a
	// 720x1280 clip (re-encoded at half size, 25 fps, a third of the
	// bitrate; trimmed) measured 0–2, a 360x288 GRID clip re-encoded at
	// 180x144 up to 4, the clip with a face replaced 6–8. Of the aligned
	// samples of 506 pairs of unrelated real clips, 99.5% were at 16 or
	// more; the closest (4–12) were GRID takes in one studio.
	DefaultFrameThreshold = 12
	// DefaultCellThreshold: a cell of a matching sample is altered when its
	// hash differs in at least this many bits from the original's (the
	// nearest of the three original samples around it). Copies measured
	// up to 9 (a trim by 1.6 s, off the sample grid; GRID re-encode 6,
	// half-size re-encode 4); the cells of a replaced face 19–26.
	DefaultCellThreshold = 16
	// DefaultMinRun: a run of unmatched or altered samples counts for
	// Classify from this many consecutive samples (0.5 s at 4 per second),
	// so that one odd sample does not make a copy "altered".
	DefaultMinRun = 2
	// SameContentFraction and DifferentFraction bound MatchedFraction for
	// Classify: at least SameContentFraction of the candidate's samples
	// must match for same_content; at most DifferentFraction is different
	// (altered needs most samples to match). Unrelated clips matched 0–3%
	// of their samples, except takes from the same studio with the same
	// framing (GRID), which matched exactly half: the alignment may leave
	// half the shorter clip outside the other, so half is what a partial
	// overlap of look-alike footage reaches.
	SameContentFraction = 0.9
	DifferentFraction   = 0.5
)

// CompareOptions tunes Compare. A nil *CompareOptions or a zero field means
// the default.
type CompareOptions struct {
	FrameThreshold int // see DefaultFrameThreshold
	CellThreshold  int // see DefaultCellThreshold
}

func (o *CompareOptions) resolve() CompareOptions {
	r := CompareOptions{FrameThreshold: DefaultFrameThreshold, CellThreshold: DefaultCellThreshold}
	if o != nil {
		if o.FrameThreshold > 0 {
			r.FrameThreshold = o.FrameThreshold
		}
		if o.CellThreshold > 0 {
			r.CellThreshold = o.CellThreshold
		}
	}
	return r
}

// Range is a time interval [Start, End) in one video.
type Range struct {
	Start, End time.Duration
}

// Span is a run of consecutive candidate samples and the part of the
// original they line up with. Original is the zero Range when the run lies
// outside the original (InOriginal false): footage the original lacks.
type Span struct {
	Candidate  Range
	Original   Range
	InOriginal bool
	Samples    int // number of candidate samples in the run
}

// AlteredSpan is a run of candidate samples whose global hash matches the
// original but some cells differ strongly: a changed region, such as a
// replaced face.
type AlteredSpan struct {
	Span
	Cells           []int // cell indices (row-major, Grid per row) altered in any sample of the run
	MaxCellDistance int
}

// FrameMatch is the comparison of one candidate sample.
type FrameMatch struct {
	T          time.Duration // nominal time of the sample in the candidate
	InOriginal bool          // the aligned time falls inside the original
	Distance   int           // global Hamming distance to the original; -1 when not InOriginal
	Matched    bool          // Distance <= FrameThreshold
	// AlteredCells lists the cells at or over CellThreshold in a matched
	// sample; CellDistances holds every cell's distance (nil when not
	// InOriginal).
	AlteredCells  []int
	CellDistances []int
}

// Match is the result of Compare.
type Match struct {
	Grid int // cells per side, to place Cells indices
	// Offset aligns the two: candidate time t shows original time
	// t+Offset. A copy trimmed by 1.5 s at the start has Offset 1.5 s.
	Offset time.Duration
	// Samples is the number of candidate samples; Compared of them fall
	// inside the original, Matched of those match it.
	Samples, Compared, Matched int
	// MatchedFraction is Matched/Samples: the part of the candidate that
	// shows the original.
	MatchedFraction float64
	// MeanDistance is the mean global distance over the Compared samples.
	MeanDistance float64
	// Unmatched are the runs of candidate samples that do not match: over
	// the frame threshold, or outside the original.
	Unmatched []Span
	// Altered are the runs of matching samples with altered cells.
	Altered []AlteredSpan
	Frames  []FrameMatch
}

// Compare aligns candidate to original and reports how much of it shows
// the original, where it does not, and where it shows the original with a
// region changed.
//
// The alignment is the time offset, a whole number of sample intervals of
// either sign (so a trimmed copy and a copy with footage added both
// align), that minimises, over an overlap of at least half the shorter
// fingerprint, the sum over the global hash and every cell of the median
// distance across the overlap. The cells carry the alignment in a static
// shot, where the global hash barely changes from one second to the next;
// the medians keep a changed region, however long, from pulling it away.
// Each aligned sample is then compared with the original's samples at that
// time and one interval either side, keeping the smallest distance,
// globally and per cell: this absorbs the up to half an interval of
// misalignment left when a trim was not a whole number of intervals,
// without hiding a change, which differs from all three.
//
// Both fingerprints must have the same version, sample rate and grid, or
// Compare returns ErrIncompatible. Compare is pure: it is safe to call
// concurrently.
func Compare(original, candidate *Fingerprint, opts *CompareOptions) (Match, error) {
	o := opts.resolve()
	if original == nil || candidate == nil {
		return Match{}, fmt.Errorf("%w: nil fingerprint", ErrIncompatible)
	}
	for _, fp := range []*Fingerprint{original, candidate} {
		if err := fp.validate(); err != nil {
			return Match{}, err
		}
	}
	if original.Version != candidate.Version || original.SampleRate != candidate.SampleRate || original.Grid != candidate.Grid {
		return Match{}, fmt.Errorf("%w: version %d/%d, sample rate %v/%v, grid %d/%d", ErrIncompatible,
			original.Version, candidate.Version, original.SampleRate, candidate.SampleRate, original.Grid, candidate.Grid)
	}
	og, cg := globals(original), globals(candidate)
	off, _ := bestOffset(original, candidate)
	m := Match{
		Grid:    candidate.Grid,
		Offset:  sampleTime(off, candidate.SampleRate),
		Samples: len(cg),
		Frames:  make([]FrameMatch, len(cg)),
	}
	sum := 0
	for k := range cg {
		fm := &m.Frames[k]
		fm.T = sampleTime(k, candidate.SampleRate)
		fm.Distance = -1
		j := k + off
		if j < 0 || j >= len(og) {
			continue
		}
		fm.InOriginal = true
		m.Compared++
		fm.Distance = 64
		cells := candidate.Frames[k].Cells
		fm.CellDistances = make([]int, len(cells))
		for i := range fm.CellDistances {
			fm.CellDistances[i] = 64
		}
		for n := max(0, j-1); n <= min(len(og)-1, j+1); n++ {
			fm.Distance = min(fm.Distance, Distance(cg[k], og[n]))
			for i, c := range cells {
				fm.CellDistances[i] = min(fm.CellDistances[i], Distance(c, original.Frames[n].Cells[i]))
			}
		}
		sum += fm.Distance
		fm.Matched = fm.Distance <= o.FrameThreshold
		if !fm.Matched {
			continue
		}
		m.Matched++
		for i, d := range fm.CellDistances {
			if d >= o.CellThreshold {
				fm.AlteredCells = append(fm.AlteredCells, i)
			}
		}
	}
	if m.Samples > 0 {
		m.MatchedFraction = float64(m.Matched) / float64(m.Samples)
	}
	if m.Compared > 0 {
		m.MeanDistance = float64(sum) / float64(m.Compared)
	}
	m.Unmatched, m.Altered = spans(original, candidate, off, m.Frames)
	return m, nil
}

func globals(fp *Fingerprint) []uint64 {
	g := make([]uint64, len(fp.Frames))
	for i, f := range fp.Frames {
		g[i] = f.Global
	}
	return g
}

// clipDistance caps one hash's distance in bestOffset: unrelated pictures
// score around 32, and one very different hash must not outweigh many
// matching ones.
const clipDistance = 32

// maxProbe is the number of candidate samples bestOffset looks at per
// offset, spread evenly over the overlap, so that aligning two long videos
// stays cheap.
const maxProbe = 96

// bestOffset returns the offset off (candidate sample k shows original
// sample k+off) over an overlap of at least half the shorter fingerprint
// that minimises the sum, over the global hash and each cell, of the median
// distance across the samples compared. The cells carry the alignment:
// in a static shot (a talking head) the global hash barely changes from one
// second to the next, while the cells follow the mouth and eyes. Medians
// per hash keep a changed region, however long, from pulling the alignment
// away: a replaced face scores high at every offset, the rest of the
// picture only at the right one. Ties go to the lower mean, then the larger
// overlap, then the smaller |off|.
func bestOffset(original, candidate *Fingerprint) (int, offsetScore) {
	no, nc := len(original.Frames), len(candidate.Frames)
	nh := 1 + candidate.Grid*candidate.Grid
	minOverlap := max(1, min(no, nc)/2)
	hist := make([][clipDistance + 1]int, nh)
	var best offsetScore
	bestOff, found := 0, false
	for off := -(nc - 1); off <= no-1; off++ {
		k0, k1 := max(0, -off), min(nc, no-off)
		overlap := k1 - k0
		if overlap < minOverlap {
			continue
		}
		n := min(overlap, maxProbe)
		for i := range hist {
			hist[i] = [clipDistance + 1]int{}
		}
		sum := 0
		for i := range n {
			k := k0 + i*overlap/n
			c, o := &candidate.Frames[k], &original.Frames[k+off]
			d := min(clipDistance, Distance(c.Global, o.Global))
			hist[0][d]++
			sum += d
			for p, h := range c.Cells {
				d := min(clipDistance, Distance(h, o.Cells[p]))
				hist[p+1][d]++
				sum += d
			}
		}
		s := offsetScore{sum: sum, probes: n, overlap: overlap, absOff: abs(off)}
		for i := range hist {
			s.median += histMedian(&hist[i], n)
		}
		if !found || s.less(best) {
			best, bestOff, found = s, off, true
		}
	}
	return bestOff, best
}

// offsetScore is how well an offset aligns two fingerprints: the sum of
// the median distances, then the mean, then the overlap, then |offset|.
type offsetScore struct{ median, sum, probes, overlap, absOff int }

func (a offsetScore) less(b offsetScore) bool {
	if a.median != b.median {
		return a.median < b.median
	}
	if a.sum*b.probes != b.sum*a.probes { // compare means without division
		return a.sum*b.probes < b.sum*a.probes
	}
	if a.overlap != b.overlap {
		return a.overlap > b.overlap
	}
	return a.absOff < b.absOff
}

// histMedian returns the lower median of n values counted in h.
func histMedian(h *[clipDistance + 1]int, n int) int {
	seen := 0
	for d, c := range h {
		seen += c
		if 2*seen >= n {
			return d
		}
	}
	return clipDistance
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// spans groups the frame results into runs of unmatched and of altered
// samples.
func spans(original, candidate *Fingerprint, off int, frames []FrameMatch) (unmatched []Span, altered []AlteredSpan) {
	rate := candidate.SampleRate
	span := func(k0, k1 int, in bool) Span {
		s := Span{Samples: k1 - k0, InOriginal: in,
			Candidate: Range{sampleTime(k0, rate), min(sampleTime(k1, rate), candidate.Duration)}}
		if in {
			s.Original = Range{sampleTime(k0+off, rate), min(sampleTime(k1+off, rate), original.Duration)}
		}
		return s
	}
	for k0 := 0; k0 < len(frames); {
		f := frames[k0]
		k1 := k0 + 1
		switch {
		case !f.Matched:
			for k1 < len(frames) && !frames[k1].Matched && frames[k1].InOriginal == f.InOriginal {
				k1++
			}
			unmatched = append(unmatched, span(k0, k1, f.InOriginal))
		case len(f.AlteredCells) > 0:
			for k1 < len(frames) && frames[k1].Matched && len(frames[k1].AlteredCells) > 0 {
				k1++
			}
			a := AlteredSpan{Span: span(k0, k1, true)}
			for _, g := range frames[k0:k1] {
				a.Cells = append(a.Cells, g.AlteredCells...)
				for _, c := range g.AlteredCells {
					a.MaxCellDistance = max(a.MaxCellDistance, g.CellDistances[c])
				}
			}
			slices.Sort(a.Cells)
			a.Cells = slices.Compact(a.Cells)
			altered = append(altered, a)
		}
		k0 = k1
	}
	return unmatched, altered
}

// Verdict is the outcome of Classify.
type Verdict string

// The verdicts of Classify.
const (
	// SameContent: the candidate shows the original (possibly re-encoded,
	// resized or trimmed) and nothing else.
	SameContent Verdict = "same_content"
	// Altered: the candidate mostly shows the original, but a run of
	// samples differs, shows footage the original lacks, or shows the
	// original with a region changed.
	Altered Verdict = "altered"
	// Different: the candidate does not show the original.
	Different Verdict = "different"
)

// Classify turns a Match into a verdict:
//
//	different     MatchedFraction <= DifferentFraction (0.5)
//	altered       a run of at least DefaultMinRun (2) unmatched or altered
//	              samples, or MatchedFraction < SameContentFraction (0.9)
//	same_content  otherwise
func Classify(m Match) Verdict {
	if m.Compared == 0 || m.MatchedFraction <= DifferentFraction {
		return Different
	}
	for _, s := range m.Unmatched {
		if s.Samples >= DefaultMinRun {
			return Altered
		}
	}
	for _, s := range m.Altered {
		if s.Samples >= DefaultMinRun {
			return Altered
		}
	}
	if m.MatchedFraction < SameContentFraction {
		return Altered
	}
	return SameContent
}
