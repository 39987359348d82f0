package fingerprint

import "slices"

// Keys returns the lookup keys of fp for an index of many originals: for
// every sample, each of the four 16-bit bands of its global hash, tagged
// with the band's position (key = band<<16 | value), sorted and without
// duplicates. A copy whose samples are within a few bits of the original's
// shares most of its keys with it (with at most 3 bits changed, at least one
// band of each sample is intact), so an index from key to originals finds
// the candidates worth a Compare by counting shared keys. Keys are a
// prefilter for recall, not a verdict: videos of the same framing share
// keys too.
//
// A version 2 fingerprint adds a key per face (tagged faceKeyBand): the
// signs of the 16 lowest coefficients of its whole-face pattern, which
// survive re-encoding, resizing and cropping (measured: 4 of 5 to 12 of 13
// of a portrait's distinct face keys shared with each platform copy),
// where a crop can change every band of every global hash of a static
// shot.
func (fp *Fingerprint) Keys() []uint32 {
	keys := make([]uint32, 0, 4*len(fp.Frames))
	for _, f := range fp.Frames {
		for band := range 4 {
			v := uint32(f.Global>>(48-16*band)) & 0xffff
			keys = append(keys, uint32(band)<<16|v)
		}
		for _, fc := range f.Faces {
			if fc.Desc.Energy[RegionFace] == 0 {
				continue
			}
			var v uint32
			for i, c := range fc.Desc.Coefs[RegionFace][:16] {
				if c > 0 {
					v |= 1 << i
				}
			}
			keys = append(keys, faceKeyBand<<16|v)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// faceKeyBand tags the face keys of Keys.
const faceKeyBand = 4

// similarProbes is how many of a's samples Similar looks at.
const similarProbes = 64

// Similar returns a quick, order-free similarity of b to a in [0, 1]: the
// fraction of a's samples (up to 64, evenly spread) whose global hash is
// within DefaultFrameThreshold of some sample of b. It ignores time and the
// cells, so it is cheap and survives any trim; use it to rank candidates
// before Compare, which gives the answer. Different sample rates or grids
// do not matter to it.
func Similar(a, b *Fingerprint) float64 {
	if a == nil || b == nil || len(a.Frames) == 0 || len(b.Frames) == 0 {
		return 0
	}
	n := min(len(a.Frames), similarProbes)
	hit := 0
	for i := range n {
		g := a.Frames[i*len(a.Frames)/n].Global
		for _, f := range b.Frames {
			if Distance(g, f.Global) <= DefaultFrameThreshold {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(n)
}
