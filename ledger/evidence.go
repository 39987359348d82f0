package ledger

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/trueframe/trueframe/ledger/fingerprint"
)

// Layout of a face evidence image: three panels (registered face, checked
// face, their difference) of thumbnails scaled evidenceScale times, with a
// gap between.
const (
	evidenceScale = 4
	evidenceGap   = 6
)

var (
	evidenceBackground = color.RGBA{R: 32, G: 32, B: 32, A: 255}
	evidenceOutline    = color.RGBA{R: 230, G: 40, B: 40, A: 255}
)

// faceEvidence draws a PNG of the registered face, the checked face and
// their absolute difference (tripled), each a grey aligned thumbnail of
// fingerprint.ThumbSide pixels scaled evidenceScale times, with the
// regions in differs outlined on all three (only the whole face when the
// identity differs). It draws with the standard
// library only: the thumbnails come from fingerprints, which may be
// untrusted, and no C code should see them.
func faceEvidence(registered, checked []byte, differs uint8) ([]byte, error) {
	const side = fingerprint.ThumbSide
	if len(registered) != side*side || len(checked) != side*side {
		return nil, fmt.Errorf("ledger: thumbnails of %d and %d bytes, want %d", len(registered), len(checked), side*side)
	}
	p := side * evidenceScale
	img := image.NewRGBA(image.Rect(0, 0, 3*p+2*evidenceGap, p))
	for i := range len(img.Pix) / 4 {
		copy(img.Pix[4*i:], []byte{evidenceBackground.R, evidenceBackground.G, evidenceBackground.B, 255})
	}
	diff := make([]byte, side*side)
	for i := range diff {
		d := int(registered[i]) - int(checked[i])
		if d < 0 {
			d = -d
		}
		diff[i] = byte(min(255, 3*d))
	}
	for n, thumb := range [][]byte{registered, checked, diff} {
		x0 := n * (p + evidenceGap)
		for y := range p {
			for x := range p {
				v := thumb[(y/evidenceScale)*side+x/evidenceScale]
				img.SetRGBA(x0+x, y, color.RGBA{R: v, G: v, B: v, A: 255})
			}
		}
		for r := range fingerprint.NumRegions {
			// The whole face when its identity differs; else each region.
			if differs&(1<<r) == 0 || r != fingerprint.RegionFace && differs&(1<<fingerprint.RegionFace) != 0 {
				continue
			}
			a, b, c, d := fingerprint.RegionBox(r)
			outline(img, image.Rect(x0+int(a*float64(p)), int(b*float64(p)), x0+int(c*float64(p)), int(d*float64(p))))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// outline draws the edge of r, one pixel wide.
func outline(img *image.RGBA, r image.Rectangle) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		img.SetRGBA(x, r.Min.Y, evidenceOutline)
		img.SetRGBA(x, r.Max.Y-1, evidenceOutline)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.SetRGBA(r.Min.X, y, evidenceOutline)
		img.SetRGBA(r.Max.X-1, y, evidenceOutline)
	}
}
