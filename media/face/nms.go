package face

import (
	"sort"

	"github.com/trueframe/trueframe/media"
)

// weightedNMS merges overlapping candidates. Taking candidates in
// decreasing score order, each one gathers every remaining candidate that
// overlaps it by more than iou; the merged face keeps the best score and
// takes the score-weighted mean of the cluster's boxes and keypoints. This
// averages the jitter of neighbouring anchors and of the same face seen in
// several tiles, which plain NMS would leave to whichever box scored best.
func weightedNMS(cands []Detection, iou float64) []Detection {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Score > cands[j].Score })
	used := make([]bool, len(cands))
	var out []Detection
	for i, top := range cands {
		if used[i] {
			continue
		}
		var sum float64
		var box media.Rect
		var kps []media.Point
		if top.Keypoints != nil {
			kps = make([]media.Point, len(top.Keypoints))
		}
		for j := i; j < len(cands); j++ {
			c := cands[j]
			if used[j] || (j != i && top.Box.IoU(c.Box) <= iou) {
				continue
			}
			used[j] = true
			w := c.Score
			sum += w
			box.X += w * c.Box.X
			box.Y += w * c.Box.Y
			box.W += w * c.Box.W
			box.H += w * c.Box.H
			if kps != nil && len(c.Keypoints) == len(kps) {
				for k, p := range c.Keypoints {
					kps[k] = kps[k].Add(p.Scale(w))
				}
			}
		}
		if sum <= 0 {
			out = append(out, top)
			continue
		}
		d := Detection{Box: media.Rect{X: box.X / sum, Y: box.Y / sum, W: box.W / sum, H: box.H / sum}, Score: top.Score}
		if kps != nil {
			for k := range kps {
				kps[k] = kps[k].Scale(1 / sum)
			}
			d.Keypoints = kps
		}
		out = append(out, d)
	}
	return out
}

// dropNested removes a face whose box lies mostly inside a clearly larger
// face's box. Two real faces cannot overlap like that, but a fine tile can
// see a face-like part (an eye and brow, a patterned shirt inside a portrait
// the coarse pass found) whose box IoU with the whole face is too small for
// NMS to catch. Only a container scoring at least as high as the nested box
// removes it. The order of dets is kept.
func dropNested(dets []Detection) []Detection {
	const (
		inside  = 0.6 // fraction of the smaller box inside the larger
		smaller = 0.5 // area ratio below which a box counts as clearly smaller
	)
	drop := make([]bool, len(dets))
	for i := range dets {
		for j := range dets {
			if i == j || drop[j] {
				continue
			}
			a, b := dets[i].Box, dets[j].Box // is a nested in b?
			// A container scoring below the nested box is more likely a
			// blur of several faces than a face.
			if a.Area() >= smaller*b.Area() || dets[j].Score < dets[i].Score {
				continue
			}
			if a.Intersect(b).Area() >= inside*a.Area() {
				drop[i] = true
				break
			}
		}
	}
	out := dets[:0]
	for i, d := range dets {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out
}
