package face

import (
	"image"
	"math"
)

// A tile is one model run: a region of the image, letterboxed into the
// network input at scale (input pixels per image pixel) k.
type tile struct {
	rect  image.Rectangle
	k     float64
	whole bool    // the whole image: no interior edges to filter
	zoom  float64 // fraction of the input the region fills; 0 means all
}

const (
	// levelStep is the scale ratio between pyramid levels. Each level must
	// find the faces too small for the next coarser one, so its tiles
	// overlap by about the largest face it is responsible for; a smaller
	// step means less overlap but more levels. 2.5 keeps the overlap near a
	// quarter of a tile for BlazeFace and costs about the same as 2 or 3.
	levelStep = 2.5
	// overlapMargin widens the overlap beyond the largest face of a level,
	// so a face is whole in at least one tile with room to spare.
	overlapMargin = 1.3
)

// planTiles returns the model runs that together find every face at least
// minFace image pixels wide in a w×h image, for a network with input in
// that finds faces down to netMin input pixels. The first run is always the
// whole image (letterboxed); then come levels of overlapping tiles, coarse
// to fine, when a minFace face would be smaller than netMin in the whole
// image. The finest level has scale netMin/minFace. maxRuns caps the
// number of runs by giving up on the smallest faces.
//
// A network that loses faces wider than maxFace of its input (BlazeFace's
// back model, trained on distant faces, does above about 0.6) also gets a
// zoomed-out run of the whole image shrunk to half the input, for faces that
// fill the frame.
func planTiles(w, h int, in image.Point, netMin, maxFace, minFace float64, maxRuns int) []tile {
	whole := tile{rect: image.Rect(0, 0, w, h), k: math.Min(float64(in.X)/float64(w), float64(in.Y)/float64(h)), whole: true}
	first := []tile{whole}
	if maxFace < 0.9 {
		first = append(first, tile{rect: whole.rect, k: whole.k / 2, whole: true, zoom: 0.5})
	}
	for ; ; minFace *= 1.25 {
		plan := append([]tile(nil), first...)
		// Scales from fine to coarse, stopping once the whole image covers the rest.
		var ks []float64
		for k := netMin / minFace; k > whole.k*1.0001; k /= levelStep {
			ks = append(ks, k)
		}
		for i := len(ks) - 1; i >= 0; i-- {
			coarser := whole.k
			if i+1 < len(ks) {
				coarser = ks[i+1]
			}
			// The largest face this level must find is the smallest the
			// coarser level finds.
			overlap := overlapMargin * netMin / coarser
			plan = append(plan, levelTiles(w, h, in, ks[i], overlap)...)
		}
		if len(plan) <= maxRuns {
			return plan
		}
	}
}

// levelTiles covers a w×h image with tiles of the network's aspect at scale
// k, overlapping by at least overlap image pixels.
func levelTiles(w, h int, in image.Point, k, overlap float64) []tile {
	tw, th := float64(in.X)/k, float64(in.Y)/k
	xs := spans(w, tw, overlap)
	ys := spans(h, th, overlap)
	var out []tile
	for _, y := range ys {
		for _, x := range xs {
			out = append(out, tile{rect: image.Rect(x[0], y[0], x[1], y[1]), k: k})
		}
	}
	return out
}

// spans splits [0,n) into evenly spaced windows of length size (all of it
// when size >= n) whose neighbours overlap by at least overlap.
func spans(n int, size, overlap float64) [][2]int {
	if size >= float64(n) {
		return [][2]int{{0, n}}
	}
	overlap = math.Min(overlap, size/2)
	count := int(math.Ceil((float64(n) - overlap) / (size - overlap)))
	if count < 2 {
		count = 2
	}
	step := (float64(n) - size) / float64(count-1)
	out := make([][2]int, count)
	for i := range out {
		x0 := int(math.Round(float64(i) * step))
		x1 := min(int(math.Round(float64(i)*step+size)), n)
		out[i] = [2]int{x0, x1}
	}
	return out
}
