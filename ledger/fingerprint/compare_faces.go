package fingerprint

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Measures of the face comparison: one per region (faceDistance), then
// the skin's chroma and the openness of mouth and eyes (|Δ| of
// Descriptor.Mouth and Descriptor.Eyes), then, between version 3 faces,
// the lips' detail (lipsDetail).
const (
	MeasureChroma = NumRegions + iota
	MeasureMouthOpen
	MeasureEyesOpen
	MeasureMouthDetail
	NumMeasures
)

// Thresholds are the values of the median of each measure over its window
// of samples (Windows) at which a face differs. They were chosen from the
// medians TestMeasureFaces measured on the 23 shared real clips and 3
// talking-head clips of the dev set's train split, faces 100 px wide or
// more: 5,700 face samples of 182 platform copies against the samples
// inside the manipulated span of 90 manipulations (largest median of a
// copy → threshold → smallest 1% of the manipulations it is meant for):
//
//	identity      0.22 → 0.28 → 0.26 swaps pasted, 0.37 generator swaps
//	eyes          0.34 → 0.35 → 0.44 swaps
//	nose          0.30 → 0.40 → 0.33 swaps (median 0.72)
//	mouth (9)     0.57 → 0.25 → mouth of another take: median 0.36
//	cheeks        0.50 → 0.60 → swaps' median 0.58–0.66
//	chroma        3    → 5    → 6 self-blends
//	mouth opening 32   → 30   → swaps' median 27
//	eye opening   22   → 25   → generator swaps' median 16
//
// The copies' largest mouth, eyes and opening medians (0.57, 0.34, 32) are
// those of a 5%-cropped copy compared in the copy's own layout, which
// misaligns it in time; Verify compares crops in the original's layout
// (EstimateGeometry), where they match. Without crops the copies' mouth
// median stays under 0.23 (see the package doc).
var Thresholds = [NumMeasures]float64{
	RegionFace:       0.28,
	RegionEyes:       0.35,
	RegionNose:       0.40,
	RegionMouth:      0.25,
	RegionRightCheek: 0.60,
	RegionLeftCheek:  0.60,
	MeasureChroma:    5,  // levels of Cr plus Cb
	MeasureMouthOpen: 30, // 1/255 of the mouth's width
	MeasureEyesOpen:  25, // 1/510 of the eye's width
	// See DetailThreshold.
	MeasureMouthDetail: DetailThreshold,
}

// DetailThreshold is the threshold of the 9-sample median of lipsDetail
// (version 3). TestMeasureMouth (TRUEFRAME_MEASURE=1 TRUEFRAME_MOUTH_DIR=…,
// after TestMeasureMouthCollect) measured, as Verify compares (candidate at
// 3 times the rate, crops re-fingerprinted in the original's layout, faces
// 100 px or wider), the largest value two samples in a row reach:
//
//	platform copies of the 26 clips of TestMeasureVerify   ≤ 0.097 (GRID
//	  (182: CRF 23 0.03, CRF 30 0.07, CRF 35 0.10, half      sbwe5n, CRF 35)
//	  0.04, 5% crop 0.03, 2 s trimmed 0.03, 25↔30 fps 0.04)
//	platform copies of the dev set's 7 lip-sync sources    ≤ 0.082
//	the dev set's lip-syncs of videoretalking_face_1       0.134–0.225
//	  (VideoReTalking 0.225, SadTalker-Video-Lip-Sync 0.215, 0.204, 0.193,
//	  0.134, Wav2Lip 0.162; SadTalker 0.091, whose identity differs anyway)
//	HyperLips ×4, Wav2Lip-HQ                                0.242–0.380
//	the mouth of another take of the same speaker           0.37–0.41 (GRID 0.085)
//	the mouth from 1.5 s later in the same clip             0.20–0.55 in 13
//	                                                        of 25 (the GRID
//	                                                        takes and the 3-s
//	                                                        d0: ≤ 0.031)
//
// 0.13 is a third above the largest copy. Version 2's mouth measures did
// not separate these: the lip-syncs' 9-sample mouth distance (0.13–0.28)
// and opening (9–25) lay among the copies' (up to 0.21 and 21). The
// weakest caught lip-sync (0.134, DAIN-interpolated with the whole face
// enhanced) is within 3% of the threshold: a milder lip-sync would pass.
const DetailThreshold = 0.13

// measureBit is the bit of FaceSample.Differs a measure sets: its region's
// for the regions, the mouth's and eyes' for their openness, ColourBit for
// the chroma.
func measureBit(i int) uint8 {
	switch i {
	case MeasureChroma:
		return ColourBit
	case MeasureMouthOpen, MeasureMouthDetail:
		return 1 << RegionMouth
	case MeasureEyesOpen:
		return 1 << RegionEyes
	}
	return 1 << i
}

// faceMeasure returns measure i between two faces, NaN when it cannot be
// measured (the lips' detail of a version 2 face, or of a face whose
// mouth, nose or cheeks the frame cuts).
func faceMeasure(a, b *Face, i int) float64 {
	if i != MeasureMouthDetail {
		return measure(&a.Desc, &b.Desc, i)
	}
	const need = 1<<RegionMouth | 1<<RegionNose | 1<<RegionRightCheek | 1<<RegionLeftCheek
	if a.Detail == nil || b.Detail == nil || a.Inside&b.Inside&need != need {
		return math.NaN()
	}
	return lipsDetail(a.Detail, b.Detail)
}

// measure returns measure i between two descriptors (NaN for
// MeasureMouthDetail, which needs the faces' Detail: see faceMeasure).
func measure(a, b *Descriptor, i int) float64 {
	switch i {
	case MeasureMouthDetail:
		return math.NaN()
	case MeasureChroma:
		return chromaDistance(a, b)
	case MeasureMouthOpen:
		return math.Abs(float64(a.Mouth) - float64(b.Mouth))
	case MeasureEyesOpen:
		return math.Abs(float64(a.Eyes) - float64(b.Eyes))
	}
	return faceDistance(a, b, i)
}

// Windows are the numbers of samples, centred, whose median of a measure
// decides whether it differs at a sample: 5 (1.25 s at 4 per second), so
// that one odd sample — a blink, a landmark fit that slipped — does not
// make a face differ while a change that lasts does; 9 (2.25 s) for the
// mouth, which moves the most with speech and differs the least under a
// lip-sync.
var Windows = [NumMeasures]int{
	RegionFace: 5, RegionEyes: 5, RegionNose: 5, RegionMouth: 9, RegionRightCheek: 5, RegionLeftCheek: 5,
	MeasureChroma: 5, MeasureMouthOpen: 9, MeasureEyesOpen: 5, MeasureMouthDetail: 9,
}

const (
	// minFaceRun is the least number of consecutive differing samples of
	// one face that counts as an altered span.
	minFaceRun = 2
	// faceNoise is the noise floor, in luma levels, of a region's
	// coefficient norm in faceDistance: patterns of low-contrast regions
	// (a shadowed cheek) are compared as if that much noise were added.
	faceNoise = 16
)

// faceDistance returns how differently the region r of two face
// descriptors is patterned: the distance between their coefficient
// vectors (at their own contrast) over the root sum of squares of both
// norms and the noise floor. It is 0 for the same pattern and contrast,
// about 1 for unrelated patterns of equal contrast, up to √2 for opposite
// ones, and near 0 when both regions are flat.
func faceDistance(a, b *Descriptor, r int) float64 {
	na, nb := regionNorm(a, r), regionNorm(b, r)
	var s float64
	for i := range RegionCoefs {
		d := float64(a.Coefs[r][i])/127*na - float64(b.Coefs[r][i])/127*nb
		s += d * d
	}
	return math.Sqrt(s / (na*na + nb*nb + faceNoise*faceNoise))
}

// regionNorm is the coefficient norm of region r in luma levels.
func regionNorm(d *Descriptor, r int) float64 {
	if d.Energy[r] == 0 {
		return 0
	}
	return math.Exp2(float64(d.Energy[r]) / 16)
}

// chromaDistance is |ΔCr| + |ΔCb| of the skin.
func chromaDistance(a, b *Descriptor) float64 {
	return math.Abs(float64(a.Cr)-float64(b.Cr)) + math.Abs(float64(a.Cb)-float64(b.Cb))
}

// FaceSample is one comparison of a candidate face with the original face
// at the same place and time.
type FaceSample struct {
	K int // candidate sample (index into Match.Frames)
	J int // original sample
	// Distances are the measures (see NumMeasures); NaN for a region cut
	// by the frame's edge in either.
	Distances [NumMeasures]float64
	// Medians are the medians of each measure over its window of samples
	// around this one (NaN when fewer than half the window and one were
	// compared); Differs has
	// measureBit(i) set when Medians[i] reaches Thresholds[i].
	Medians [NumMeasures]float64
	Differs uint8
	// Score is the largest measure over its threshold, raw, at this
	// sample: how far the most changed region is from what copies show.
	Score float64
}

// ColourBit is the bit of FaceSample.Differs and FaceSpan.Differs for the
// skin colour.
const ColourBit = 1 << NumRegions

// FaceSpan is a run of samples in which a candidate face differs from the
// registered face at the same place and time.
type FaceSpan struct {
	Span
	// Differs has bit r set for each region that differs in at least a
	// quarter of the span's samples (at least one sample), and ColourBit
	// for the skin colour.
	Differs uint8
	// Worst is the most different sample of the span that has a registered
	// thumbnail (or the most different one when none has); Registered and
	// Checked are the two faces it compared, to show side by side.
	Worst               FaceSample
	Registered, Checked *Face
}

// FaceMatch is the comparison of one face track of the candidate with the
// registered faces.
type FaceMatch struct {
	Track int // the candidate's track number
	// OriginalTrack is the registered track most of its samples paired
	// with.
	OriginalTrack int
	// Samples are the comparisons, in time order; samples in which the
	// face has no registered counterpart (none near its place, or the
	// frame does not match) are not listed.
	Samples []FaceSample
	// Altered are the runs of samples in which the face differs.
	Altered []FaceSpan
	// TooSmall counts the samples in which the face had a registered
	// counterpart but one of the two was narrower than MinCompareFace:
	// not compared.
	TooSmall int
}

// MinCompareFace is the narrowest face, in pixels of its own frame, that
// is compared: below 100 px the landmarks, and so the aligned crop, move
// enough from one encoding to another that copies differed as much as
// manipulations (TestMeasureFaces: a face under 100 px wide in a copy
// reached an identity distance of 0.39 and a mouth distance of 0.72; at
// 100 px or more, 0.11 and 0.37).
const MinCompareFace = 100

// faceWidth is the width of f in pixels of fp's frame.
func faceWidth(f Face, fp *Fingerprint) float64 {
	return float64(f.Box.W) / 65535 * float64(fp.Width)
}

// compareFaces compares the faces of each matched candidate sample k with
// those of original sample k+off (and, when not fine, the samples either
// side, keeping each region's smallest distance, as Compare does for the
// cells), and groups the differences by candidate track.
func compareFaces(original, candidate *Fingerprint, off int, shift time.Duration, fine bool, frames []FrameMatch) []FaceMatch {
	byTrack := map[int]*FaceMatch{}
	pairs := map[int]map[int]int{} // candidate track -> original track -> samples
	smallFaces := map[int]int{}    // candidate track -> samples too small to compare
	for k, fm := range frames {
		if !fm.Matched {
			continue
		}
		j := k + off
		lo, hi := j, j
		if !fine {
			lo, hi = max(0, j-1), min(len(original.Frames)-1, j+1)
		}
		for _, cf := range candidate.Frames[k].Faces {
			s := FaceSample{K: k, J: j}
			for i := range s.Distances {
				s.Distances[i] = math.Inf(1)
			}
			otrack, found, small := 0, false, false
			for n := lo; n <= hi; n++ {
				of := pairFace(cf, original.Frames[n].Faces)
				if of == nil {
					continue
				}
				if faceWidth(cf, candidate) < MinCompareFace || faceWidth(*of, original) < MinCompareFace {
					small = true
					continue
				}
				if n == j || !found {
					otrack = of.Track
				}
				found = true
				for i := range NumMeasures {
					if i < NumRegions && cf.Inside&of.Inside&(1<<i) == 0 {
						continue
					}
					if d := faceMeasure(&cf, of, i); !math.IsNaN(d) {
						s.Distances[i] = min(s.Distances[i], d)
					}
				}
			}
			if !found {
				if small {
					smallFaces[cf.Track]++
				}
				continue
			}
			for i := range s.Distances {
				if math.IsInf(s.Distances[i], 1) {
					s.Distances[i] = math.NaN()
				}
			}
			fmx := byTrack[cf.Track]
			if fmx == nil {
				fmx = &FaceMatch{Track: cf.Track}
				byTrack[cf.Track] = fmx
				pairs[cf.Track] = map[int]int{}
			}
			fmx.Samples = append(fmx.Samples, s)
			pairs[cf.Track][otrack]++
		}
	}
	for track, n := range smallFaces {
		if byTrack[track] == nil {
			byTrack[track] = &FaceMatch{Track: track}
			pairs[track] = map[int]int{}
		}
		byTrack[track].TooSmall = n
	}
	out := make([]FaceMatch, 0, len(byTrack))
	for track, fmx := range byTrack {
		best := 0
		for ot, n := range pairs[track] {
			if n > pairs[track][best] || n == pairs[track][best] && ot < best {
				best = ot
			}
		}
		fmx.OriginalTrack = best
		markDiffers(fmx.Samples)
		fmx.Altered = faceSpans(original, candidate, off, shift, track, fmx.Samples)
		out = append(out, *fmx)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Track < out[b].Track })
	return out
}

// pairFace returns the face of fs at f's place — centres closer than half
// the wider face, sizes within a factor 1.5 — nearest to it, or nil.
func pairFace(f Face, fs []Face) *Face {
	var best *Face
	bd := math.Inf(1)
	fr := f.Box.rect()
	for i := range fs {
		r := fs[i].Box.rect()
		d := fr.Center().Dist(r.Center())
		wide, narrow := max(fr.W, r.W), min(fr.W, r.W)
		if d < bd && d < 0.5*wide && narrow*1.5 >= wide {
			best, bd = &fs[i], d
		}
	}
	return best
}

// markDiffers sets Medians, Differs and Score of each sample of one track
// from the medians of each measure over its window of samples around it
// (by sample index; a window with fewer than half its samples and one
// compared decides nothing: a clip of a second cannot judge the mouth).
func markDiffers(ss []FaceSample) {
	vals := make([]float64, 0, 16)
	median := func(i, half, m int) (float64, bool) {
		vals = vals[:0]
		for n := i; n >= 0 && ss[n].K >= ss[i].K-half; n-- {
			if v := ss[n].Distances[m]; !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		for n := i + 1; n < len(ss) && ss[n].K <= ss[i].K+half; n++ {
			if v := ss[n].Distances[m]; !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) < half+1 {
			return 0, false
		}
		slices.Sort(vals)
		return vals[len(vals)/2], true
	}
	for i := range ss {
		s := &ss[i]
		for m := range NumMeasures {
			v, ok := median(i, Windows[m]/2, m)
			s.Medians[m] = math.NaN()
			if ok {
				s.Medians[m] = v
			}
			if ok && v >= Thresholds[m] {
				s.Differs |= measureBit(m)
			}
			if d := s.Distances[m]; !math.IsNaN(d) {
				s.Score = max(s.Score, d/Thresholds[m])
			}
		}
	}
}

// faceSpans groups the differing samples of one track into runs: samples
// at most one sample apart (a face may be missed in one) that all differ;
// runs shorter than minFaceRun samples are dropped.
func faceSpans(original, candidate *Fingerprint, off int, shift time.Duration, track int, ss []FaceSample) []FaceSpan {
	var out []FaceSpan
	for i := 0; i < len(ss); {
		if ss[i].Differs == 0 {
			i++
			continue
		}
		e := i + 1
		for e < len(ss) && ss[e].Differs != 0 && ss[e].K-ss[e-1].K <= 2 {
			e++
		}
		if e-i >= minFaceRun {
			fs := FaceSpan{Span: spanOf(original, candidate, off, shift, ss[i].K, ss[e-1].K+1, true)}
			fs.Samples = e - i
			var counts [NumRegions + 1]int
			for n := i; n < e; n++ {
				for b := range NumRegions + 1 {
					if ss[n].Differs&(1<<b) != 0 {
						counts[b]++
					}
				}
			}
			for b, c := range counts {
				if c > 0 && 4*c >= e-i {
					fs.Differs |= 1 << b
				}
			}
			fs.Worst = ss[worstSample(original, candidate, track, ss, i, e)]
			fs.Registered, fs.Checked = facesPaired(original, candidate, track, fs.Worst)
			out = append(out, fs)
		}
		i = e
	}
	return out
}

// worstSample returns the index of the highest-scoring sample of ss[i:e]
// whose faces both have a thumbnail (the registered fingerprint keeps one
// a second), or of the highest-scoring one when none has.
func worstSample(original, candidate *Fingerprint, track int, ss []FaceSample, i, e int) int {
	best, bestThumb := i, -1
	for n := i; n < e; n++ {
		if ss[n].Score > ss[best].Score {
			best = n
		}
		of, cf := facesPaired(original, candidate, track, ss[n])
		if of != nil && of.Thumb != nil && cf.Thumb != nil && (bestThumb < 0 || ss[n].Score > ss[bestThumb].Score) {
			bestThumb = n
		}
	}
	if bestThumb >= 0 {
		return bestThumb
	}
	return best
}

// facesPaired returns the faces a sample of the candidate's track compared:
// the candidate's, and the original's at sample J paired with it.
func facesPaired(original, candidate *Fingerprint, track int, s FaceSample) (orig, cand *Face) {
	if s.K < 0 || s.K >= len(candidate.Frames) || s.J < 0 || s.J >= len(original.Frames) {
		return nil, nil
	}
	for i := range candidate.Frames[s.K].Faces {
		if cf := &candidate.Frames[s.K].Faces[i]; cf.Track == track {
			if of := pairFace(*cf, original.Frames[s.J].Faces); of != nil {
				return of, cf
			}
			return nil, nil
		}
	}
	return nil, nil
}

// DescribeDiffers names the regions of a Differs mask as a verdict does:
// "identity, mouth and skin colour".
func DescribeDiffers(differs uint8) string {
	var names []string
	for r := range NumRegions {
		if differs&(1<<r) != 0 && !slices.Contains(names, regions[r].name) {
			names = append(names, regions[r].name)
		}
	}
	if differs&ColourBit != 0 {
		names = append(names, "skin colour")
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
