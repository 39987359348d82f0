package fingerprint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

func TestZigzag(t *testing.T) {
	z := makeZigzag()
	seen := map[[2]int]bool{}
	prev := 0
	for i, uv := range z {
		u, v := uv[0], uv[1]
		if u == 0 && v == 0 {
			t.Fatalf("entry %d is DC", i)
		}
		if u >= dctTerms || v >= dctTerms {
			t.Fatalf("entry %d = %v beyond the %d terms computed", i, uv, dctTerms)
		}
		if u+v < prev {
			t.Fatalf("entry %d = %v goes back to a lower frequency than %d", i, uv, prev)
		}
		prev = u + v
		if seen[uv] {
			t.Fatalf("entry %d = %v repeated", i, uv)
		}
		seen[uv] = true
	}
	if z[0] != [2]int{0, 1} || z[1] != [2]int{1, 0} || z[2] != [2]int{2, 0} {
		t.Errorf("zigzag starts %v, want (0,1) (1,0) (2,0)", z[:3])
	}
}

// TestCosTableGolden pins the integer cosine tables: the only place the
// hashing touches floating point. A machine whose math.Cos rounds a value
// differently would hash differently; this test says so.
func TestCosTableGolden(t *testing.T) {
	h := sha256.New()
	for _, n := range []int{globalSide, cellSide} {
		for _, row := range cosTable(n) {
			for _, v := range row {
				h.Write(binary.BigEndian.AppendUint64(nil, uint64(v)))
			}
		}
	}
	const want = "b61a2e33ac3affc340d8706e3de775c9957dafc03ae9c3827f44e6fc54c5732d"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("cosine tables hash to %s, want %s", got, want)
	}
}

// pattern returns w x h BGR pixels of a smooth, deterministic picture: a
// diagonal gradient, a bright disc at (cx, cy) and stripes. Coordinates are
// relative to the size, so two sizes show the same picture.
func pattern(w, h int, cx, cy float64, bright int) []byte {
	pix := make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			v := 40 + 100*fx + 60*fy
			if (fx-cx)*(fx-cx)+(fy-cy)*(fy-cy) < 0.03 {
				v += 70
			}
			if int(fy*12)%2 == 0 && fx > 0.6 {
				v -= 30
			}
			g := min(255, max(0, int(v)+bright))
			pix[(y*w+x)*3] = byte(g / 2)
			pix[(y*w+x)*3+1] = byte(g)
			pix[(y*w+x)*3+2] = byte(min(255, g+20))
		}
	}
	return pix
}

// TestHashGolden pins the hashes of a synthetic frame: the integer
// pipeline from pixels to bits must not change without a new Version.
func TestHashGolden(t *testing.T) {
	h := newHasher(DefaultGrid)
	g, cells, err := h.hashBGR(pattern(720, 1280, 0.4, 0.3, 0), 720, 1280)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	for _, c := range cells {
		sum.Write(binary.BigEndian.AppendUint64(nil, c))
	}
	const wantGlobal, wantCells = uint64(0x1050f5ea7ca6983f), "1a5f3fd919fae88d975ecf04412a9a26bc13e0be7f736b483df472399d01cca9"
	if g != wantGlobal {
		t.Errorf("global = %#016x, want %#016x", g, wantGlobal)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != wantCells {
		t.Errorf("cells hash to %s, want %s", got, wantCells)
	}
}

func TestHashProperties(t *testing.T) {
	h := newHasher(DefaultGrid)
	hash := func(pix []byte, w, ht int) (uint64, []uint64) {
		t.Helper()
		g, c, err := h.hashBGR(pix, w, ht)
		if err != nil {
			t.Fatal(err)
		}
		return g, c
	}
	g0, c0 := hash(pattern(720, 1280, 0.4, 0.3, 0), 720, 1280)

	// Brightness: DC is left out of both hashes.
	g1, c1 := hash(pattern(720, 1280, 0.4, 0.3, 15), 720, 1280)
	if d := Distance(g0, g1); d > 2 {
		t.Errorf("brighter frame: global distance %d", d)
	}
	for i := range c0 {
		if d := Distance(c0[i], c1[i]); d > 2 {
			t.Errorf("brighter frame: cell %d distance %d", i, d)
		}
	}

	// Size: half and a third of the size show the same picture.
	for _, s := range [][2]int{{360, 640}, {240, 426}} {
		g2, c2 := hash(pattern(s[0], s[1], 0.4, 0.3, 0), s[0], s[1])
		if d := Distance(g0, g2); d > 4 {
			t.Errorf("%dx%d: global distance %d", s[0], s[1], d)
		}
		for i := range c0 {
			if d := Distance(c0[i], c2[i]); d > 8 {
				t.Errorf("%dx%d: cell %d distance %d", s[0], s[1], i, d)
			}
		}
	}

	// A moved disc changes the cells it leaves and enters.
	_, c3 := hash(pattern(720, 1280, 0.7, 0.8, 0), 720, 1280)
	changed := 0
	for i := range c0 {
		if Distance(c0[i], c3[i]) >= DefaultCellThreshold {
			changed++
		}
	}
	if changed < 2 || changed > 8 {
		t.Errorf("moving the disc changed %d cells strongly, want 2–8", changed)
	}

	// A flat frame has no structure: every cell hash is 0 whatever the
	// grey level (the dead zone), and the global hash is 0.
	flat := make([]byte, 320*240*3)
	for i := range flat {
		flat[i] = 120
	}
	g4, c4 := hash(flat, 320, 240)
	if g4 != 0 {
		t.Errorf("flat frame: global %#x, want 0", g4)
	}
	for i, c := range c4 {
		if c != 0 {
			t.Errorf("flat frame: cell %d = %#x, want 0", i, c)
		}
	}

	if _, _, err := h.hashBGR(make([]byte, 10), 4, 4); !errors.Is(err, media.ErrBadImage) {
		t.Errorf("short buffer: error %v, want media.ErrBadImage", err)
	}
	// A frame smaller than the working image is still hashed.
	if _, c := hash(pattern(8, 6, 0.4, 0.3, 0), 8, 6); len(c) != DefaultGrid*DefaultGrid {
		t.Errorf("tiny frame: %d cells", len(c))
	}
}

func TestHashMat(t *testing.T) {
	h := newHasher(DefaultGrid)
	pix := pattern(360, 640, 0.4, 0.3, 0)
	img, err := gocv.NewMatFromBytes(640, 360, gocv.MatTypeCV8UC3, pix)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	g, c, err := h.hashMat(img)
	if err != nil {
		t.Fatal(err)
	}
	gb, cb, _ := h.hashBGR(pix, 360, 640)
	if g != gb || !slices.Equal(c, cb) {
		t.Error("hashMat and hashBGR disagree on the same pixels")
	}

	// A region of a larger Mat is not continuous: it is copied first.
	big := gocv.NewMatWithSize(700, 400, gocv.MatTypeCV8UC3)
	defer big.Close()
	roi := big.Region(image.Rect(20, 30, 380, 670))
	img.CopyTo(&roi)
	if roi.IsContinuous() {
		t.Log("region is continuous; the copy path is not exercised")
	}
	g2, c2, err := h.hashMat(roi)
	roi.Close()
	if err != nil {
		t.Fatal(err)
	}
	if g2 != g || !slices.Equal(c2, c) {
		t.Error("a region hashes differently from the same pixels in their own Mat")
	}

	empty := gocv.NewMat()
	defer empty.Close()
	gray := gocv.NewMatWithSize(64, 64, gocv.MatTypeCV8UC1)
	defer gray.Close()
	for name, m := range map[string]gocv.Mat{"empty": empty, "grey": gray} {
		if _, _, err := h.hashMat(m); !errors.Is(err, media.ErrBadImage) {
			t.Errorf("%s Mat: error %v, want media.ErrBadImage", name, err)
		}
	}
}

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b uint64
		want int
	}{
		{0, 0, 0},
		{0, ^uint64(0), 64},
		{0xf0, 0x0f, 8},
		{1 << 63, 1, 2},
	}
	for _, c := range cases {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%#x, %#x) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func BenchmarkHashFrame720p(b *testing.B) {
	h := newHasher(DefaultGrid)
	pix := pattern(720, 1280, 0.4, 0.3, 0)
	for b.Loop() {
		if _, _, err := h.hashBGR(pix, 720, 1280); err != nil {
			b.Fatal(err)
		}
	}
}
