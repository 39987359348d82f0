package fingerprint

import "github.com/trueframe/trueframe/media"

// region is a window of the aligned face crop, in fractions of its side.
type region struct {
	name           string
	x0, y0, x1, y1 float64
}

// corners returns the window's corners in crop pixels.
func (r region) corners() [4]media.Point {
	s := float64(cropSide)
	return [4]media.Point{{X: r.x0 * s, Y: r.y0 * s}, {X: r.x1 * s, Y: r.y0 * s}, {X: r.x0 * s, Y: r.y1 * s}, {X: r.x1 * s, Y: r.y1 * s}}
}

// pixels returns the window's pixel bounds in the crop.
func (r region) pixels() (x0, y0, x1, y1 int) {
	s := float64(cropSide)
	return int(r.x0*s + 0.5), int(r.y0*s + 0.5), int(r.x1*s + 0.5), int(r.y1*s + 0.5)
}

// Region indices of a face descriptor.
const (
	RegionFace = iota // the whole face, brows to chin: identity
	RegionEyes
	RegionNose
	RegionMouth
	RegionRightCheek
	RegionLeftCheek
	NumRegions
)

// regions are placed on landmark's canonical face: eye centres at
// (0.35, 0.40) and (0.65, 0.40), nose tip (0.50, 0.58), mouth corners
// (0.355, 0.70) and (0.645, 0.70), chin near 0.92.
var regions = [NumRegions]region{
	RegionFace:       {"identity", 0.18, 0.22, 0.82, 0.92},
	RegionEyes:       {"eyes", 0.18, 0.28, 0.82, 0.50},
	RegionNose:       {"nose", 0.38, 0.40, 0.62, 0.66},
	RegionMouth:      {"mouth", 0.28, 0.60, 0.72, 0.86},
	RegionRightCheek: {"cheeks", 0.16, 0.46, 0.38, 0.72},
	RegionLeftCheek:  {"cheeks", 0.62, 0.46, 0.84, 0.72},
}

// RegionName names region r as verdicts do ("identity", "eyes", "nose",
// "mouth", "cheeks"); both cheeks are "cheeks".
func RegionName(r int) string {
	if r < 0 || r >= NumRegions {
		return ""
	}
	return regions[r].name
}
