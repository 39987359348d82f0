package video

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// Test fixtures are generated at run time into t.TempDir(): synthetic clips
// written by OpenCV, and files derived from them by rewriting bytes.

// clip describes a synthetic clip: a red square moving right by squareStep
// pixels per frame over a dark background, and a blue disc moving down.
type clip struct {
	name   string // file name; the extension picks the container
	fourcc string
	w, h   int
	fps    float64
	frames int
}

const squareSide, squareStep = 16, 4

// squareX returns the left edge of the red square in frame i.
func (c clip) squareX(i int) int { return (i * squareStep) % (c.w - squareSide) }

// write encodes c into dir and returns its path.
func (c clip) write(tb testing.TB, dir string) string {
	tb.Helper()
	p := filepath.Join(dir, c.name)
	w, err := gocv.VideoWriterFile(p, c.fourcc, c.fps, c.w, c.h, true)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Close()
	if !w.IsOpened() {
		tb.Fatalf("OpenCV cannot write %s with fourcc %q", c.name, c.fourcc)
	}
	m := gocv.NewMatWithSize(c.h, c.w, gocv.MatTypeCV8UC3)
	defer m.Close()
	for i := 0; i < c.frames; i++ {
		m.SetTo(gocv.NewScalar(40, 30, 20, 0))
		x := c.squareX(i)
		gocv.Rectangle(&m, image.Rect(x, c.h/4, x+squareSide, c.h/4+squareSide), color.RGBA{R: 230, G: 20, B: 20}, -1)
		gocv.Circle(&m, image.Pt(c.w*3/4, (i*3)%c.h), 8, color.RGBA{R: 20, G: 60, B: 230}, -1)
		if err := w.Write(m); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Size() == 0 {
		tb.Fatalf("OpenCV wrote nothing to %s (fourcc %q): %v", p, c.fourcc, err)
	}
	return p
}

// isRed reports whether the pixel at (x,y) of a BGR image is the square's red.
func isRed(img gocv.Mat, x, y int) bool {
	v := img.GetVecbAt(y, x)
	b, g, r := int(v[0]), int(v[1]), int(v[2])
	return r > 150 && g < 100 && b < 100
}

var (
	mp4Clip  = clip{name: "clip.mp4", fourcc: "mp4v", w: 160, h: 120, fps: 25, frames: 60}
	avc1Clip = clip{name: "clip_avc1.mp4", fourcc: "avc1", w: 160, h: 120, fps: 30, frames: 45}
	aviClip  = clip{name: "clip.avi", fourcc: "MJPG", w: 176, h: 144, fps: 15, frames: 40}
	movClip  = clip{name: "clip.mov", fourcc: "mp4v", w: 128, h: 96, fps: 24, frames: 30}
	mkvClip  = clip{name: "clip.mkv", fourcc: "MJPG", w: 160, h: 120, fps: 20, frames: 25}
)

// writeFile writes b to name in dir and returns the path.
func writeFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func readFile(tb testing.TB, p string) []byte {
	tb.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// box builds an ISO-BMFF box from its type and body parts.
func box(typ string, parts ...[]byte) []byte {
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, typ...)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// be encodes fields big-endian, each at its own width; strings and byte
// slices are copied as they are.
func be(fields ...any) []byte {
	var b []byte
	for _, f := range fields {
		switch v := f.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.BigEndian.AppendUint16(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		default:
			panic("be: unsupported field type")
		}
	}
	return b
}

// audioOnlyMP4 builds a minimal M4A: one 'soun' track with an mp4a sample
// entry and no samples, so a demuxer finds an audio stream and no video.
func audioOnlyMP4() []byte {
	matrix := be(uint32(0x10000), uint32(0), uint32(0), uint32(0), uint32(0x10000), uint32(0), uint32(0), uint32(0), uint32(0x40000000))
	mvhd := box("mvhd", be(uint32(0), uint32(0), uint32(0), uint32(1000), uint32(0),
		uint32(0x10000), uint16(0x100), make([]byte, 10), matrix, make([]byte, 24), uint32(2)))
	tkhd := box("tkhd", be(uint32(3), uint32(0), uint32(0), uint32(1), uint32(0), uint32(0), uint64(0),
		uint16(0), uint16(0), uint16(0x100), uint16(0), matrix, uint32(0), uint32(0)))
	mdhd := box("mdhd", be(uint32(0), uint32(0), uint32(0), uint32(44100), uint32(0), uint16(0x55c4), uint16(0)))
	hdlr := box("hdlr", be(uint32(0), uint32(0), "soun", make([]byte, 12), "SoundHandler\x00"))
	mp4a := box("mp4a", be(make([]byte, 6), uint16(1), make([]byte, 8), uint16(2), uint16(16), uint16(0), uint16(0), uint32(44100<<16)))
	stbl := box("stbl",
		box("stsd", be(uint32(0), uint32(1)), mp4a),
		box("stts", be(uint32(0), uint32(0))),
		box("stsc", be(uint32(0), uint32(0))),
		box("stsz", be(uint32(0), uint32(0), uint32(0))),
		box("stco", be(uint32(0), uint32(0))))
	minf := box("minf",
		box("smhd", be(uint32(0), uint16(0), uint16(0))),
		box("dinf", box("dref", be(uint32(0), uint32(1)), box("url ", be(uint32(1))))),
		stbl)
	moov := box("moov", mvhd, box("trak", tkhd, box("mdia", mdhd, hdlr, minf)))
	ftyp := box("ftyp", be("M4A ", uint32(0), "M4A ", "isom"))
	return bytes.Join([][]byte{ftyp, moov, box("mdat")}, nil)
}

// topBoxes splits an ISO-BMFF file into its top-level boxes (32-bit sizes
// only, as OpenCV writes them).
func topBoxes(tb testing.TB, b []byte) map[string][]byte {
	tb.Helper()
	m := map[string][]byte{}
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			tb.Fatalf("unexpected top-level box size %d", n)
		}
		m[string(b[4:8])] = b[:n]
		b = b[n:]
	}
	return m
}

// eachBox calls fn on every box under b, descending into the containers on
// the path to the sample tables; fn gets the box's body, which it may edit.
func eachBox(b []byte, fn func(typ string, body []byte)) {
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			return
		}
		typ, body := string(b[4:8]), b[8:n]
		fn(typ, body)
		switch typ {
		case "moov", "trak", "mdia", "minf", "stbl":
			eachBox(body, fn)
		}
		b = b[n:]
	}
}

// faststart rewrites an MP4 with its moov box moved in front of mdat and
// the chunk offsets shifted to match, as `ffmpeg -movflags +faststart` does.
func faststart(tb testing.TB, src []byte) []byte {
	tb.Helper()
	boxes := topBoxes(tb, src)
	ftyp, moov, mdat := boxes["ftyp"], bytes.Clone(boxes["moov"]), boxes["mdat"]
	if ftyp == nil || moov == nil || mdat == nil {
		tb.Fatal("faststart: need ftyp, moov and mdat")
	}
	if bytes.Index(src, moov) < bytes.Index(src, mdat) {
		tb.Fatal("faststart: moov already first")
	}
	shift := uint64(len(moov))
	patched := 0
	eachBox(moov[8:], func(typ string, body []byte) {
		switch typ {
		case "stco":
			n := int(binary.BigEndian.Uint32(body[4:]))
			for i := 0; i < n; i++ {
				o := body[8+4*i:]
				binary.BigEndian.PutUint32(o, binary.BigEndian.Uint32(o)+uint32(shift))
				patched++
			}
		case "co64":
			n := int(binary.BigEndian.Uint32(body[4:]))
			for i := 0; i < n; i++ {
				o := body[8+8*i:]
				binary.BigEndian.PutUint64(o, binary.BigEndian.Uint64(o)+shift)
				patched++
			}
		}
	})
	if patched == 0 {
		tb.Fatal("faststart: no chunk offsets found")
	}
	// Everything between ftyp and moov (free, mdat) keeps its order.
	rest := src[len(ftyp):bytes.Index(src, boxes["moov"])]
	return bytes.Join([][]byte{ftyp, moov, rest}, nil)
}

// patchBoxes returns a copy of an MP4 with fn applied to every box body in
// its moov.
func patchBoxes(tb testing.TB, src []byte, fn func(typ string, body []byte)) []byte {
	tb.Helper()
	out := bytes.Clone(src)
	moov := topBoxes(tb, out)["moov"]
	if moov == nil {
		tb.Fatal("no moov box")
	}
	eachBox(moov[8:], fn)
	return out
}
