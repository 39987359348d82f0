package ledger

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/trueframe/trueframe/ledger/fingerprint"
)

func TestFaceEvidence(t *testing.T) {
	const side = fingerprint.ThumbSide
	reg, chk := make([]byte, side*side), make([]byte, side*side)
	for i := range reg {
		reg[i], chk[i] = byte(i%side*8), byte(i%side*8)
	}
	// The checked face is brighter in its lower half.
	for i := side * side / 2; i < len(chk); i++ {
		chk[i] = min(255, chk[i]+60)
	}
	b, err := faceEvidence(reg, chk, 1<<fingerprint.RegionMouth)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	p := side * evidenceScale
	if got := img.Bounds().Size(); got.X != 3*p+2*evidenceGap || got.Y != p {
		t.Fatalf("size %v", got)
	}
	gray := func(x, y int) (uint32, uint32, uint32) {
		r, g, b, _ := img.At(x, y).RGBA()
		return r >> 8, g >> 8, b >> 8
	}
	// The difference panel is dark on top, bright (3 × 60) at the bottom.
	dx := 2 * (p + evidenceGap)
	if top, _, _ := gray(dx+p/2+3, p/8); top != 0 {
		t.Errorf("difference at the top %d, want 0", top)
	}
	if bottom, _, _ := gray(dx+p/2+3, p-p/8); bottom != 180 {
		t.Errorf("difference at the bottom %d, want 180", bottom)
	}
	// The mouth is outlined in red on the checked face.
	x0, y0, _, _ := fingerprint.RegionBox(fingerprint.RegionMouth)
	if r, g, _ := gray(p+evidenceGap+int(x0*float64(p))+5, int(y0*float64(p))); r != 230 || g != 40 {
		t.Errorf("mouth outline colour %d,%d", r, g)
	}
	if _, err := faceEvidence(reg[:10], chk, 0); err == nil {
		t.Error("a short thumbnail was drawn")
	}
}
