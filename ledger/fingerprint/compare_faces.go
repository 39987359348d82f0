package fingerprint

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Thresholds of the face comparison, chosen from the distances measured
// by TestMeasureFaces (see the package doc): a region differs when the
// median of its distance over faceWindow samples around a sample reaches
// RegionThresholds[r]; the skin colour when the median chroma distance
// reaches ChromaThreshold.
var (
	// RegionThresholds are in units of faceDistance.
	RegionThresholds = [NumRegions]float64{
		RegionFace:       0.25,
		RegionEyes:       0.30,
		RegionNose:       0.30,
		RegionMouth:      0.30,
		RegionRightCheek: 0.40,
		RegionLeftCheek:  0.40,
	}
)

const (
	// ChromaThreshold is in levels of Cr plus Cb (0–255 each).
	ChromaThreshold = 5
	// faceWindow is the number of samples, centred, whose median distance
	// decides whether a region differs at a sample (1.25 s at 4 per
	// second): one odd sample — a blink, a landmark fit that slipped —
	// does not make a face differ, a change that lasts does.
	faceWindow = 5
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
	// Distances are faceDistance per region; NaN for a region cut by the
	// frame's edge in either.
	Distances [NumRegions]float64
	Chroma    float64
	// Medians are the medians over the faceWindow samples around this one
	// of each region's distance and, last, of the chroma distance (NaN
	// when fewer than 3 were compared); Differs has bit r set when
	// Medians[r] reaches RegionThresholds[r], ColourBit when the chroma
	// median reaches ChromaThreshold.
	Medians [NumRegions + 1]float64
	Differs uint8
	// Score is the largest distance over its threshold, raw, at this
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
}

// compareFaces compares the faces of each matched candidate sample k with
// those of original sample k+off (and, when not fine, the samples either
// side, keeping each region's smallest distance, as Compare does for the
// cells), and groups the differences by candidate track.
func compareFaces(original, candidate *Fingerprint, off int, shift time.Duration, fine bool, frames []FrameMatch) []FaceMatch {
	byTrack := map[int]*FaceMatch{}
	pairs := map[int]map[int]int{} // candidate track -> original track -> samples
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
			s := FaceSample{K: k, J: j, Chroma: math.Inf(1)}
			for r := range s.Distances {
				s.Distances[r] = math.Inf(1)
			}
			otrack, found := 0, false
			for n := lo; n <= hi; n++ {
				of := pairFace(cf, original.Frames[n].Faces)
				if of == nil {
					continue
				}
				if n == j || !found {
					otrack = of.Track
				}
				found = true
				for r := range NumRegions {
					if cf.Inside&of.Inside&(1<<r) != 0 {
						s.Distances[r] = min(s.Distances[r], faceDistance(&cf.Desc, &of.Desc, r))
					}
				}
				s.Chroma = min(s.Chroma, chromaDistance(&cf.Desc, &of.Desc))
			}
			if !found {
				continue
			}
			for r := range s.Distances {
				if math.IsInf(s.Distances[r], 1) {
					s.Distances[r] = math.NaN()
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

// markDiffers sets Differs and Score of each sample of one track from the
// median distances over the faceWindow samples around it (by sample
// index; a window with fewer than 3 comparisons decides nothing).
func markDiffers(ss []FaceSample) {
	half := faceWindow / 2
	vals := make([]float64, 0, faceWindow)
	median := func(i int, get func(FaceSample) float64) (float64, bool) {
		vals = vals[:0]
		for n := i; n >= 0 && ss[n].K >= ss[i].K-half; n-- {
			if v := get(ss[n]); !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		for n := i + 1; n < len(ss) && ss[n].K <= ss[i].K+half; n++ {
			if v := get(ss[n]); !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) < 3 {
			return 0, false
		}
		slices.Sort(vals)
		return vals[len(vals)/2], true
	}
	for i := range ss {
		s := &ss[i]
		for r := range NumRegions {
			v, ok := median(i, func(f FaceSample) float64 { return f.Distances[r] })
			s.Medians[r] = math.NaN()
			if ok {
				s.Medians[r] = v
			}
			if ok && v >= RegionThresholds[r] {
				s.Differs |= 1 << r
			}
			if d := s.Distances[r]; !math.IsNaN(d) {
				s.Score = max(s.Score, d/RegionThresholds[r])
			}
		}
		v, ok := median(i, func(f FaceSample) float64 { return f.Chroma })
		s.Medians[NumRegions] = math.NaN()
		if ok {
			s.Medians[NumRegions] = v
		}
		if ok && v >= ChromaThreshold {
			s.Differs |= ColourBit
		}
		s.Score = max(s.Score, s.Chroma/ChromaThreshold)
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
