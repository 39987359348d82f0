package face

import (
	"image"
	"math"
	"slices"
)

// A tile is one model run: a region of the image, letterboxed into the
// network input at scale k (input pixels per image pixel).
type tile struct {
	rect  image.Rectangle
	k     float64
	whole bool    // the whole image: no interior edges to filter
	zoom  float64 // fraction of the input the region fills; 0 means all
	// minFace and maxFace bound the face widths, in image pixels, this run
	// is trusted with; 0 means no bound. Other sizes are another level's
	// job, and what a run reports outside its range is mostly noise: dark
	// clothing scored as a large face in a fine tile, a blur of two small
	// faces scored as one in a coarse run.
	minFace, maxFace float64
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
	// Box widths vary by some 10-20% between scales, so each run keeps faces
	// a little beyond its own range: down to minFaceMargin times the
	// smallest it is responsible for, up to maxFaceMargin times the overlap.
	minFaceMargin = 0.8
	maxFaceMargin = 1.2
	// zoomOut is the fraction of the input the zoomed-out whole-image run
	// fills, for networks that lose faces filling the frame.
	zoomOut = 0.5
)

// planTiles returns the model runs that together find every face at least
// minFace image pixels wide in a w×h image, for a network with input in
// that finds faces from netMin input pixels up to maxFace times the input
// side. The first run is always the whole image (letterboxed); then come
// levels of overlapping tiles, coarse to fine, when a minFace face would be
// smaller than netMin in the whole image. The finest level has scale
// netMin/minFace. maxRuns caps the number of runs by giving up on the
// smallest faces; the whole-image runs are always made.
//
// A network that loses large faces (BlazeFace's back model, trained on
// distant faces, drifts above about 0.6 of its input) also gets a
// zoomed-out run of the whole image shrunk to half the input when a face
// filling the image's short side would be too large for it.
func planTiles(w, h int, in image.Point, netMin, maxFace, minFace float64, maxRuns int) []tile {
	side := float64(min(in.X, in.Y))
	k0 := math.Min(float64(in.X)/float64(w), float64(in.Y)/float64(h))
	for ; ; minFace *= 1.25 {
		// Scales from coarse to fine: the whole image, then tile levels
		// down to the one that makes a minFace face netMin input pixels.
		ks := []float64{k0}
		for k := netMin / minFace; k > k0*1.0001; k /= levelStep {
			ks = append(ks, k)
		}
		if len(ks) > 1 {
			slices.Reverse(ks[1:])
		}
		// Faces below this are left to a finer level.
		levelMin := func(i int) float64 {
			if i == len(ks)-1 {
				return 0
			}
			return minFaceMargin * netMin / ks[i]
		}
		whole := image.Rect(0, 0, w, h)
		plan := []tile{{rect: whole, k: k0, whole: true, minFace: levelMin(0)}}
		// A face is at most as wide as the image's short side; when the
		// whole-image run already takes faces that big (a wide video frame
		// does), the zoomed-out run is not needed.
		if maxFace*side/k0 < float64(min(w, h)) {
			// Faces below this the plain whole-image run finds.
			zoomMin := minFaceMargin * maxFace * side / k0
			plan = append(plan, tile{rect: whole, k: k0 * zoomOut, whole: true, zoom: zoomOut, minFace: zoomMin})
		}
		for i := 1; i < len(ks); i++ {
			// The largest face this level must find is the smallest the
			// coarser level finds.
			overlap := overlapMargin * netMin / ks[i-1]
			plan = append(plan, levelTiles(w, h, in, ks[i], overlap, levelMin(i), maxFaceMargin*overlap)...)
		}
		if len(plan) <= maxRuns || len(ks) == 1 {
			return plan
		}
	}
}

// levelTiles covers a w×h image with tiles of the network's aspect at scale
// k, overlapping by at least overlap image pixels, each keeping faces
// minFace to maxFace image pixels wide.
func levelTiles(w, h int, in image.Point, k, overlap, minFace, maxFace float64) []tile {
	tw, th := float64(in.X)/k, float64(in.Y)/k
	xs := spans(w, tw, overlap)
	ys := spans(h, th, overlap)
	var out []tile
	for _, y := range ys {
		for _, x := range xs {
			out = append(out, tile{rect: image.Rect(x[0], y[0], x[1], y[1]), k: k, minFace: minFace, maxFace: maxFace})
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
