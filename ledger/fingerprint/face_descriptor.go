package fingerprint

import (
	"math"

	"github.com/trueframe/trueframe/media/landmark"
)

// Sizes of the face descriptor.
const (
	// regionGrid is the side of the grid each region is averaged to before
	// its DCT.
	regionGrid = 8
	// RegionCoefs is the number of AC coefficients kept per region, the
	// lowest in zigzag order.
	RegionCoefs = 20
	// ThumbSide is the side of a face thumbnail.
	ThumbSide = 32
)

// Descriptor describes an aligned face region by region: the shape of its
// light and shade at low spatial frequency, and its colour.
type Descriptor struct {
	// Coefs are, per region, the lowest RegionCoefs AC coefficients of the
	// DCT of the region averaged to regionGrid x regionGrid, divided by
	// their root sum of squares and scaled to ±127: the pattern of the
	// region, whatever its contrast.
	Coefs [NumRegions][RegionCoefs]int8
	// Energy is, per region, 16·log2 of the root sum of squares of those
	// coefficients in luma levels (0 for a flat region): its contrast.
	Energy [NumRegions]uint8
	// Cr and Cb are the mean chroma of the skin of the nose and cheeks.
	Cr, Cb uint8
	// Mouth is how open the mouth is: the gap between the inner lips over
	// the distance between the mouth corners, in 1/255 (clamped at 1).
	// Eyes is the mean of the two eyes' aspect ratios (lid gap over eye
	// width), in 1/510 (clamped at 0.5). Both come from the landmarks, so
	// they follow the mouth's and lids' motion whatever the texture: a
	// lip-synced mouth opens when the new audio says so, not the original.
	Mouth, Eyes uint8
}

// zigzag8 lists the AC coefficients of an 8x8 DCT in zigzag order.
var zigzag8 = func() [][2]int {
	z := makeZigzag()
	var out [][2]int
	for _, uv := range z {
		if uv[0] < regionGrid && uv[1] < regionGrid {
			out = append(out, uv)
		}
	}
	return out
}()

// cos8[k][x] = cos((2x+1)kπ/16), the 8-point DCT-II basis.
var cos8 = func() (t [regionGrid][regionGrid]float64) {
	for k := range regionGrid {
		for x := range regionGrid {
			t[k][x] = math.Cos(float64((2*x+1)*k) * math.Pi / (2 * regionGrid))
		}
	}
	return t
}()

// regionDCT returns the lowest RegionCoefs AC coefficients (orthonormal
// scale, luma levels) of region r of the plane p (cropSide x cropSide)
// box-averaged to regionGrid x regionGrid.
func regionDCT(p []uint8, r region) [RegionCoefs]float64 {
	x0, y0, x1, y1 := r.pixels()
	var g [regionGrid][regionGrid]float64
	for i := range regionGrid {
		ya, yb := y0+i*(y1-y0)/regionGrid, y0+(i+1)*(y1-y0)/regionGrid
		for j := range regionGrid {
			xa, xb := x0+j*(x1-x0)/regionGrid, x0+(j+1)*(x1-x0)/regionGrid
			s, n := 0, 0
			for y := ya; y < max(yb, ya+1); y++ {
				for x := xa; x < max(xb, xa+1); x++ {
					s += int(p[y*cropSide+x])
					n++
				}
			}
			g[i][j] = float64(s) / float64(n)
		}
	}
	var out [RegionCoefs]float64
	for i, uv := range zigzag8[:RegionCoefs] {
		u, v := uv[0], uv[1]
		var s float64
		for y := range regionGrid {
			for x := range regionGrid {
				s += g[y][x] * cos8[u][x] * cos8[v][y]
			}
		}
		// Orthonormal: sqrt(2/N) per axis for k > 0, sqrt(1/N) for k = 0.
		cu, cv := math.Sqrt(2.0/regionGrid), math.Sqrt(2.0/regionGrid)
		if u == 0 {
			cu = math.Sqrt(1.0 / regionGrid)
		}
		if v == 0 {
			cv = math.Sqrt(1.0 / regionGrid)
		}
		out[i] = s * cu * cv
	}
	return out
}

// descriptorOf computes the descriptor of an aligned face.
func descriptorOf(a alignedFace) Descriptor {
	var d Descriptor
	for r, reg := range regions {
		c := regionDCT(a.y, reg)
		var ss float64
		for _, v := range c {
			ss += v * v
		}
		norm := math.Sqrt(ss)
		if norm < 0.5 { // flat: no pattern to keep
			continue
		}
		for i, v := range c {
			d.Coefs[r][i] = int8(math.Round(max(-127, min(127, 127*v/norm))))
		}
		d.Energy[r] = uint8(math.Round(max(0, min(255, 16*math.Log2(norm)))))
	}
	d.Cr, d.Cb = skinChroma(a)
	return d
}

// skinChroma returns the mean Cr and Cb over the nose and cheek windows.
func skinChroma(a alignedFace) (cr, cb uint8) {
	var sr, sb, n int
	for _, r := range []int{RegionNose, RegionRightCheek, RegionLeftCheek} {
		x0, y0, x1, y1 := regions[r].pixels()
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				sr += int(a.cr[y*cropSide+x])
				sb += int(a.cb[y*cropSide+x])
				n++
			}
		}
	}
	return uint8((sr + n/2) / n), uint8((sb + n/2) / n)
}

// Face Mesh points of the inner lips' centres.
const (
	upperInnerLip = 13
	lowerInnerLip = 14
)

// openness returns the Mouth and Eyes fields of a descriptor from the
// landmarks f.
func openness(f landmark.Face) (mouth, eyes uint8) {
	if len(f.Points) != landmark.NumPoints {
		return 0, 0
	}
	q := func(v, scale float64) uint8 { return uint8(math.Round(min(255, max(0, v*scale)))) }
	if w := f.Points[landmark.MouthRight].Dist(f.Points[landmark.MouthLeft]); w > 1e-9 {
		mouth = q(f.Points[upperInnerLip].Dist(f.Points[lowerInnerLip])/w, 255)
	}
	r, l := f.MeshOpenness()
	return mouth, q((r+l)/2, 510)
}

// thumbOf averages the aligned face's luma 2x2 to a ThumbSide thumbnail.
func thumbOf(a alignedFace) []byte {
	const f = cropSide / ThumbSide
	t := make([]byte, ThumbSide*ThumbSide)
	for y := range ThumbSide {
		for x := range ThumbSide {
			s := 0
			for dy := range f {
				for dx := range f {
					s += int(a.y[(y*f+dy)*cropSide+x*f+dx])
				}
			}
			t[y*ThumbSide+x] = uint8((s + f*f/2) / (f * f))
		}
	}
	return t
}
