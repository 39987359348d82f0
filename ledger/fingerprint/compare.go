package fingerprint

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/trueframe/trueframe/media"
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
	// Geometry is the layout the candidate was fingerprinted in
	// (Options.Geometry): the cells that lie partly outside the part of
	// the original the candidate shows hold repeated border pixels, not
	// picture, and are not compared.
	Geometry Geometry
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
		r.Geometry = o.Geometry
	}
	return r
}

// paddedCells returns, for a grid laid over the original's frame, which
// cells lie by more than 5% of their area outside the part g of it a copy
// shows (nil for the identity).
func paddedCells(g Geometry, grid int) []bool {
	if g.identity() {
		return nil
	}
	shown := media.Rect{X: g.X, Y: g.Y, W: g.W, H: g.H}
	out := make([]bool, grid*grid)
	for i := range out {
		cell := media.Rect{X: float64(i%grid) / float64(grid), Y: float64(i/grid) / float64(grid), W: 1 / float64(grid), H: 1 / float64(grid)}
		out[i] = cell.Intersect(shown).Area() < 0.95*cell.Area()
	}
	return out
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
	// Padding is set for an unmatched run outside the original that holds
	// its first or last frame (see FrameMatch.Padding).
	Padding bool
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
	// Padding is set for a sample outside the original that shows the
	// original's first frame (before it) or last frame (after it) again:
	// a hold a re-encoding added, not footage the original lacks.
	Padding bool
	// AroundDiffers is set when the global hash matched but the cells
	// around the faces did not (see aroundFacesDiffers): not a match.
	AroundDiffers bool
	// AroundFaces is set when the sample matched not on the whole frame
	// but on every cell clear of the faces (version 2): a face close up
	// fills enough of the frame to change its global hash when replaced.
	AroundFaces bool
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
	// FacesCompared is true when both fingerprints carry faces (version 2);
	// Faces then holds, per face track of the candidate, how its faces
	// compare with the original's.
	FacesCompared bool
	Faces         []FaceMatch
	// DetailCompared is true when both fingerprints are version 3: the
	// lips were compared in detail too (see Detail).
	DetailCompared bool

	off, phase int // the alignment, in samples of the original's rate
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
// The candidate may be sampled at a whole multiple m (up to maxRateRatio)
// of the original's rate, as Verify does with the file it checks: Compare
// then also picks, of the m interleaved subsequences of candidate samples,
// the one that lines up best, which narrows the misalignment of a copy
// whose frames were shifted by a fraction of an interval to a fraction of
// 1/m. Faces need it: a mouth moves a lot in an eighth of a second.
//
// When both fingerprints are version 2, the faces of each matching sample
// are compared too (see Match.Faces and compareFaces), and the faces also
// choose among the alignments the frame and grid hashes can hardly tell
// apart (a static shot; see alignment). A version 1 fingerprint compares
// with a version 2 one on frames and cells only.
//
// The fingerprints must have the same grid, and the candidate's rate must
// be a whole multiple of the original's, or Compare returns
// ErrIncompatible. Compare is pure: it is safe to call concurrently.
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
	ratio := candidate.SampleRate / original.SampleRate
	rm := math.Round(ratio)
	if original.Grid != candidate.Grid || rm < 1 || rm > maxRateRatio || math.Abs(ratio-rm) > 1e-9 {
		return Match{}, fmt.Errorf("%w: sample rate %v/%v (the candidate's must be 1 to %d times the original's), grid %d/%d", ErrIncompatible,
			original.SampleRate, candidate.SampleRate, maxRateRatio, original.Grid, candidate.Grid)
	}
	fine := int(rm)
	faces := original.Version >= Version2 && candidate.Version >= Version2
	off, phase, cand := alignment(original, candidate, fine, faces)
	shift := sampleTime(phase, candidate.SampleRate)
	full := candidate
	candidate = cand
	og, cg := globals(original), globals(candidate)
	padded := paddedCells(o.Geometry, candidate.Grid)
	m := Match{
		Grid:    candidate.Grid,
		Offset:  sampleTime(off, candidate.SampleRate) - shift,
		Samples: len(cg),
		Frames:  make([]FrameMatch, len(cg)),
		off:     off,
		phase:   phase,
	}
	sum := 0
	for k := range cg {
		fm := &m.Frames[k]
		fm.T = sampleTime(k, candidate.SampleRate) + shift
		fm.Distance = -1
		j := k + off
		if j < 0 || j >= len(og) {
			// A re-encoding may pad the start or the end with the first or
			// last frame held (ffmpeg fills a stream that starts late that
			// way): that is not footage the original lacks.
			edge := 0
			if j >= len(og) {
				edge = len(og) - 1
			}
			fm.Padding = Distance(cg[k], og[edge]) <= o.FrameThreshold
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
		// For the cells, the candidate's samples either side at its own
		// finer rate count too: a copy at another frame rate shows a frame
		// up to half a frame off, in which a mouth or a hand has moved. The
		// global hash, which decides whether the sample shows the original
		// at all, is the sample's own.
		alts := [][]uint64{cells}
		if fine > 1 {
			for _, q := range []int{k*fine + phase - 1, k*fine + phase + 1} {
				if q >= 0 && q < len(full.Frames) {
					alts = append(alts, full.Frames[q].Cells)
				}
			}
		}
		for n := max(0, j-1); n <= min(len(og)-1, j+1); n++ {
			fm.Distance = min(fm.Distance, Distance(cg[k], og[n]))
			for _, cs := range alts {
				for i, c := range cs {
					fm.CellDistances[i] = min(fm.CellDistances[i], Distance(c, original.Frames[n].Cells[i]))
				}
			}
		}
		sum += fm.Distance
		fm.Matched = fm.Distance <= o.FrameThreshold
		if fm.Matched && faces && aroundFacesDiffers(original, candidate, j, k, fm.CellDistances, padded, o.CellThreshold) {
			// The frame's hash matched on a backdrop; the hair, neck and
			// clothes around the faces did not: another take in the same
			// place.
			fm.Matched, fm.AroundDiffers = false, true
		}
		if !fm.Matched && !fm.AroundDiffers && faces {
			fm.Matched = matchesAroundFaces(original, candidate, j, k, fm.CellDistances, padded, o.CellThreshold)
			fm.AroundFaces = fm.Matched
		}
		if !fm.Matched {
			continue
		}
		m.Matched++
		for i, d := range fm.CellDistances {
			if d >= o.CellThreshold && (padded == nil || !padded[i]) {
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
	m.Unmatched, m.Altered = spans(original, candidate, off, shift, m.Frames)
	if original.Version >= Version2 && candidate.Version >= Version2 {
		m.FacesCompared = true
		m.DetailCompared = original.Version >= Version3 && candidate.Version >= Version3
		m.Faces = compareFaces(original, candidate, off, shift, fine > 1, m.Frames)
	}
	return m, nil
}

// faceMargin grows a face's landmark box (brows to chin) on every side, by
// this fraction of its size, to cover the forehead, hair line and jaw a
// face swap also repaints.
const faceMargin = 0.2

// minClearCells is the least number of grid cells clear of the faces that
// matchesAroundFaces needs to call a sample the same footage.
const minClearCells = 3

// clearCells returns the cells of the grid clear of the faces of original
// sample j and candidate sample k (boxes grown by faceMargin), not padded,
// when both samples have a face wide enough to compare (MinCompareFace);
// ok is false otherwise.
func clearCells(original, candidate *Fingerprint, j, k int, padded []bool) (cells []int, ok bool) {
	orig, cand := original.Frames[j].Faces, candidate.Frames[k].Faces
	wide := func(fs []Face, fp *Fingerprint) bool {
		for _, f := range fs {
			if faceWidth(f, fp) >= MinCompareFace {
				return true
			}
		}
		return false
	}
	if !wide(orig, original) || !wide(cand, candidate) {
		return nil, false
	}
	grid := candidate.Grid
	for i := range grid * grid {
		if padded != nil && padded[i] {
			continue
		}
		cx, cy := float64(i%grid)/float64(grid), float64(i/grid)/float64(grid)
		cell := media.Rect{X: cx, Y: cy, W: 1 / float64(grid), H: 1 / float64(grid)}
		covered := false
		for _, f := range append(slices.Clip(orig), cand...) {
			r := f.Box.rect()
			grown := media.Rect{X: r.X - faceMargin*r.W, Y: r.Y - faceMargin*r.H, W: r.W * (1 + 2*faceMargin), H: r.H * (1 + 2*faceMargin)}
			if grown.Intersect(cell).Area() > 0 {
				covered = true
				break
			}
		}
		if !covered {
			cells = append(cells, i)
		}
	}
	return cells, true
}

// matchesAroundFaces reports whether candidate sample k, whose global hash
// differs from original sample j's, still shows the same footage around
// its faces: both have a face wide enough to compare, so that the face
// comparison decides what differs, and every cell clear of the faces — at
// least minClearCells of them — is within the cell threshold.
func matchesAroundFaces(original, candidate *Fingerprint, j, k int, cellDist []int, padded []bool, cellThreshold int) bool {
	cells, ok := clearCells(original, candidate, j, k, padded)
	if !ok || len(cells) < minClearCells {
		return false
	}
	for _, i := range cells {
		if cellDist[i] >= cellThreshold {
			return false
		}
	}
	return true
}

// aroundFacesDiffers reports whether, although the global hashes of
// candidate sample k and original sample j match, more than a quarter
// (and more than one) of the cells clear of the faces differ: the hair,
// neck and clothes of another person filmed in the same place, before a
// backdrop that fills most of the frame (the GRID studio), where a face
// swap or a copy keeps them.
func aroundFacesDiffers(original, candidate *Fingerprint, j, k int, cellDist []int, padded []bool, cellThreshold int) bool {
	cells, ok := clearCells(original, candidate, j, k, padded)
	if !ok {
		return false
	}
	n := 0
	for _, i := range cells {
		if cellDist[i] >= cellThreshold {
			n++
		}
	}
	return n > max(1, len(cells)/4)
}

// faceSlack is how much higher than the best alignment's the sum of
// median hash distances of another may be for the faces to choose between
// them: in a static shot (a talking head before a wall, a GRID speaker)
// the frame and grid hashes hardly tell one offset from the next, a
// crop's even less, while the mouth and eyes do.
const faceSlack = 17

// faceAlignMax is the largest mean eyes-and-mouth distance at which the
// faces choose the alignment: copies measure about 0.05–0.1 at the right
// one, other people and swapped faces 0.4 and more at any.
const faceAlignMax = 0.25

// alignment returns the offset and phase (of the candidate's fine
// interleaved subsequences, fine of them) that align candidate with
// original, and that subsequence: the best by the frame and grid hashes
// (bestOffset); with faces, the one whose eyes and mouth differ least
// among those within faceSlack of it and nearly its overlap.
func alignment(original, candidate *Fingerprint, fine int, faces bool) (off, phase int, cand *Fingerprint) {
	type choice struct {
		scoredOffset
		phase int
		dec   *Fingerprint
	}
	var all []choice
	var best choice
	for p := range fine {
		dec := decimate(candidate, fine, p)
		for _, c := range offsetScores(original, dec) {
			all = append(all, choice{c, p, dec})
			if len(all) == 1 || c.s.less(best.s) {
				best = all[len(all)-1]
			}
		}
	}
	if len(all) == 0 {
		return 0, 0, decimate(candidate, fine, 0)
	}
	if faces {
		bestFace := math.Inf(1)
		chosen := best
		for _, c := range all {
			if c.s.median > best.s.median+faceSlack || 10*c.s.overlap < 9*best.s.overlap {
				continue
			}
			fs, n := phaseFaceScore(original, c.dec, c.off)
			if n >= 3 && (fs < bestFace || fs == bestFace && c.s.less(chosen.s)) {
				chosen, bestFace = c, fs
			}
		}
		// Faces that differ at every alignment (another person, a swap)
		// cannot choose one.
		if bestFace <= faceAlignMax {
			best = chosen
		}
	}
	return best.off, best.phase, best.dec
}

// phaseFaceScore is how well the faces of candidate line up with the
// original's at offset off: the mean, over the faces paired in place and
// wide enough to compare (MinCompareFace), of
// the distances of the eyes and mouth, which move the most from one
// moment to the next (+Inf when no face paired); n counts the distances.
func phaseFaceScore(original, candidate *Fingerprint, off int) (float64, int) {
	var sum float64
	var n int
	for k := range candidate.Frames {
		j := k + off
		if j < 0 || j >= len(original.Frames) {
			continue
		}
		for _, cf := range candidate.Frames[k].Faces {
			of := pairFace(cf, original.Frames[j].Faces)
			if of == nil || faceWidth(cf, candidate) < MinCompareFace || faceWidth(*of, original) < MinCompareFace {
				continue
			}
			for _, r := range []int{RegionEyes, RegionMouth} {
				if cf.Inside&of.Inside&(1<<r) != 0 {
					sum += faceDistance(&cf.Desc, &of.Desc, r)
					n++
				}
			}
		}
	}
	if n == 0 {
		return math.Inf(1), 0
	}
	return sum / float64(n), n
}

// maxRateRatio bounds how many times the original's rate a candidate may
// be sampled at.
const maxRateRatio = 8

// decimate returns the samples p, p+m, p+2m, ... of fp as a fingerprint at
// 1/m of its rate (fp itself when m is 1). Frames are shared, not copied.
func decimate(fp *Fingerprint, m, p int) *Fingerprint {
	if m == 1 {
		return fp
	}
	d := *fp
	d.SampleRate = fp.SampleRate / float64(m)
	d.Frames = make([]Frame, 0, len(fp.Frames)/m+1)
	for k := p; k < len(fp.Frames); k += m {
		d.Frames = append(d.Frames, fp.Frames[k])
	}
	return &d
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
	var best scoredOffset
	for i, c := range offsetScores(original, candidate) {
		if i == 0 || c.s.less(best.s) {
			best = c
		}
	}
	return best.off, best.s
}

// scoredOffset is an offset with its score.
type scoredOffset struct {
	off int
	s   offsetScore
}

// offsetScores scores every offset with an overlap of at least half the
// shorter fingerprint (see bestOffset).
func offsetScores(original, candidate *Fingerprint) []scoredOffset {
	no, nc := len(original.Frames), len(candidate.Frames)
	nh := 1 + candidate.Grid*candidate.Grid
	minOverlap := max(1, min(no, nc)/2)
	hist := make([][clipDistance + 1]int, nh)
	var out []scoredOffset
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
		sc := offsetScore{sum: sum, probes: n, overlap: overlap, absOff: abs(off)}
		for i := range hist {
			sc.median += histMedian(&hist[i], n)
		}
		out = append(out, scoredOffset{off, sc})
	}
	return out
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
// samples. Candidate sample k is at time k/rate + shift.
func spans(original, candidate *Fingerprint, off int, shift time.Duration, frames []FrameMatch) (unmatched []Span, altered []AlteredSpan) {
	span := func(k0, k1 int, in bool) Span {
		return spanOf(original, candidate, off, shift, k0, k1, in)
	}
	for k0 := 0; k0 < len(frames); {
		f := frames[k0]
		k1 := k0 + 1
		switch {
		case !f.Matched:
			for k1 < len(frames) && !frames[k1].Matched && frames[k1].InOriginal == f.InOriginal && frames[k1].Padding == f.Padding {
				k1++
			}
			s := span(k0, k1, f.InOriginal)
			s.Padding = f.Padding
			unmatched = append(unmatched, s)
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

// spanOf returns the Span of candidate samples [k0, k1), sample k at time
// k/rate + shift, aligned with original sample k+off.
func spanOf(original, candidate *Fingerprint, off int, shift time.Duration, k0, k1 int, in bool) Span {
	rate := candidate.SampleRate
	s := Span{Samples: k1 - k0, InOriginal: in,
		Candidate: Range{sampleTime(k0, rate) + shift, min(sampleTime(k1, rate)+shift, candidate.Duration)}}
	if in {
		s.Original = Range{sampleTime(k0+off, rate), min(sampleTime(k1+off, rate), original.Duration)}
	}
	return s
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
//
// Samples of held first or last frames (FrameMatch.Padding) count as
// matched for same_content, not against different: in a static shot,
// another take's frames look like a hold of the original's first frame. When faces were compared (version 2), a run of altered cells
// must last minCellRunFaces samples: faces are compared on their own, and
// a copy at another frame rate whose sample falls on the other side of a
// frame boundary from the original's differs in the cells of a face that
// moved, for a sample or two.
func Classify(m Match) Verdict {
	padded := 0
	for _, f := range m.Frames {
		if f.Padding {
			padded++
		}
	}
	frac := m.MatchedFraction
	if m.Samples > 0 {
		frac = float64(m.Matched+padded) / float64(m.Samples)
	}
	if m.Compared == 0 || m.MatchedFraction <= DifferentFraction {
		return Different // held frames do not make footage match
	}
	for _, s := range m.Unmatched {
		if s.Samples >= DefaultMinRun && !s.Padding {
			return Altered
		}
	}
	cellRun := DefaultMinRun
	if m.FacesCompared {
		cellRun = minCellRunFaces
	}
	for _, s := range m.Altered {
		if s.Samples >= cellRun {
			return Altered
		}
	}
	if frac < SameContentFraction {
		return Altered
	}
	return SameContent
}

// minCellRunFaces is the run of altered cells that makes a version 2
// match altered (see Classify).
const minCellRunFaces = 3
