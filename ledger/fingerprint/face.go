package fingerprint

import (
	"math"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Face is one tracked face in a sample of a version 2 fingerprint.
type Face struct {
	// Track numbers the face's track in the video, from 1: the same person
	// followed from sample to sample keeps the number.
	Track int
	// Box is where the face's landmarks lie in the frame.
	Box Box
	// Inside has bit r set when region r of the descriptor lay wholly
	// inside the frame; other regions are not compared.
	Inside uint8
	// Desc describes the aligned face, region by region.
	Desc Descriptor
	// Detail holds the lips and the nose band at higher resolution
	// (version 3 only; nil in versions 1 and 2).
	Detail *Detail
	// Thumb is a ThumbSide x ThumbSide 8-bit grey image of the aligned face,
	// row by row, to show what was registered; nil in samples without one
	// (see ThinThumbs).
	Thumb []byte

	crop  *alignedFace // kept only for measurements (Options.keepCrops)
	probe any          // set only by measurements (Options.probe)
}

// Box is a rectangle in units of 1/65535 of the frame's width (X, W) and
// height (Y, H), so that copies of any size place a face alike.
type Box struct{ X, Y, W, H uint16 }

// boxOf converts a rectangle in pixels of a w x h frame to a Box, clamped
// to the frame.
func boxOf(r media.Rect, w, h int) Box {
	q := func(v, size float64) uint16 {
		return uint16(math.Round(min(1, max(0, v/size)) * 65535))
	}
	x0, y0 := q(r.X, float64(w)), q(r.Y, float64(h))
	x1, y1 := q(r.X+r.W, float64(w)), q(r.Y+r.H, float64(h))
	return Box{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

// rect returns b in fractions of the frame.
func (b Box) rect() media.Rect {
	return media.Rect{X: float64(b.X) / 65535, Y: float64(b.Y) / 65535, W: float64(b.W) / 65535, H: float64(b.H) / 65535}
}

// describe computes the Face of one tracked face of a frame.
func describe(a alignedFace, f landmark.Face, track, w, h int) Face {
	d := descriptorOf(a)
	d.Mouth, d.Eyes = openness(f)
	return Face{Track: track, Box: boxOf(f.Box(), w, h), Inside: a.inside, Desc: d, Thumb: thumbOf(a)}
}

// ThumbEvery is how many samples apart a registered fingerprint keeps a
// face thumbnail (one a second at the default rate; see ThinThumbs).
const ThumbEvery = 4

// ThinThumbs keeps the face thumbnails only in samples k with k%n == 0.
// Compute gives every face a thumbnail; a registration keeps one every
// ThumbEvery samples, enough to show the registered face near any moment
// (a thumbnail costs 1 KiB, the rest of a face 140 bytes), while the
// fingerprint of a checked file keeps them all, to show beside it.
func (fp *Fingerprint) ThinThumbs(n int) {
	if n <= 1 {
		return
	}
	for k := range fp.Frames {
		if k%n == 0 {
			continue
		}
		for i := range fp.Frames[k].Faces {
			fp.Frames[k].Faces[i].Thumb = nil
		}
	}
}

// CheckRateFactor is how many times the registration rate a file being
// checked is sampled at: Compare then lines its samples up with the
// original's to a third of an interval (see Compare).
const CheckRateFactor = 3

// AtRate returns fp at rate, a whole fraction 1/m of its rate, keeping its
// samples 0, m, 2m, ... (fp itself when rate is its rate, nil when rate
// does not divide it). Frames are shared, not copied.
func (fp *Fingerprint) AtRate(rate float64) *Fingerprint {
	ratio := fp.SampleRate / rate
	m := math.Round(ratio)
	if m < 1 || math.Abs(ratio-m) > 1e-9 {
		return nil
	}
	return decimate(fp, int(m), 0)
}

// RegionBox returns where region r lies in a face thumbnail (or any
// aligned crop), in fractions of its side.
func RegionBox(r int) (x0, y0, x1, y1 float64) {
	if r < 0 || r >= NumRegions {
		return 0, 0, 0, 0
	}
	g := regions[r]
	return g.x0, g.y0, g.x1, g.y1
}
