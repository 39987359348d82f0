package video

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// checkStream decodes all of d and checks indices, timestamps and content
// against c; it returns the number of frames yielded.
func checkStream(t *testing.T, d *Decoder, c clip, stride int) int {
	t.Helper()
	period := time.Duration(float64(time.Second) / c.fps)
	yielded, prev := 0, time.Duration(-1)
	for d.Next() {
		f := d.Frame()
		if want := yielded * stride; f.Index != want {
			t.Fatalf("frame %d: Index %d, want %d", yielded, f.Index, want)
		}
		if f.Time <= prev {
			t.Errorf("frame %d: time %v not after %v", f.Index, f.Time, prev)
		}
		prev = f.Time
		if want := time.Duration(f.Index) * period; absDur(f.Time-want) > 2*time.Millisecond {
			t.Errorf("frame %d: time %v, want %v", f.Index, f.Time, want)
		}
		if f.Image.Cols() != c.w || f.Image.Rows() != c.h {
			t.Fatalf("frame %d: %dx%d, want %dx%d", f.Index, f.Image.Cols(), f.Image.Rows(), c.w, c.h)
		}
		// The centre of the red square must be red, and a point beside it
		// must not be: frames come in order and none is skipped or repeated.
		x, y := c.squareX(f.Index)+squareSide/2, c.h/4+squareSide/2
		if !isRed(f.Image, x, y) {
			t.Errorf("frame %d: no red square at x=%d", f.Index, x)
		}
		if isRed(f.Image, (x+c.w/2)%c.w, y) {
			t.Errorf("frame %d: red where the square is not", f.Index)
		}
		yielded++
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return yielded
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestDecodeSynthetic(t *testing.T) {
	for name, tc := range map[string]struct {
		clip      clip
		codecs    []string // OpenCV's fourcc strings for the clip's codec
		container string
	}{
		"mp4v in mp4":  {mp4Clip, []string{"mp4v"}, "mp4"},
		"h264 in mp4":  {avc1Clip, []string{"avc1", "h264"}, "mp4"},
		"mjpeg in avi": {aviClip, []string{"MJPG"}, "avi"},
		"mp4v in mov":  {movClip, []string{"mp4v"}, "mov"},
		"mjpeg in mkv": {mkvClip, []string{"mjpe", "MJPG"}, "matroska"},
	} {
		t.Run(name, func(t *testing.T) {
			c := tc.clip
			p := c.write(t, t.TempDir())
			d, err := Open(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			cfg := d.Config()
			if cfg.Width != c.w || cfg.Height != c.h {
				t.Errorf("size %dx%d, want %dx%d", cfg.Width, cfg.Height, c.w, c.h)
			}
			if math.Abs(cfg.FPS-c.fps) > 0.01 || cfg.FPSGuessed {
				t.Errorf("FPS %v (guessed %v), want %v", cfg.FPS, cfg.FPSGuessed, c.fps)
			}
			if cfg.FrameCount != c.frames {
				t.Errorf("FrameCount %d, want %d", cfg.FrameCount, c.frames)
			}
			if want := time.Duration(float64(c.frames) / c.fps * float64(time.Second)); absDur(cfg.Duration-want) > time.Second/time.Duration(c.fps) {
				t.Errorf("Duration %v, want %v", cfg.Duration, want)
			}
			if !contains(tc.codecs, cfg.Codec) {
				t.Errorf("Codec %q, want one of %q", cfg.Codec, tc.codecs)
			}
			if cfg.Container != tc.container {
				t.Errorf("Container %q, want %q", cfg.Container, tc.container)
			}
			if n := checkStream(t, d, c, 1); n != c.frames {
				t.Errorf("yielded %d frames, want %d", n, c.frames)
			}
			if d.Decoded() != c.frames {
				t.Errorf("Decoded %d, want %d", d.Decoded(), c.frames)
			}
			if d.Truncated() {
				t.Error("complete file reported truncated")
			}
			if d.Next() {
				t.Error("Next true after the end")
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestTimestampsWithoutPTS checks the fallback: OpenCV reports position 0
// for the frames its H.264 decoder flushes at the end (B-frame delay), and
// those must still get increasing times one interval apart.
func TestTimestampsWithoutPTS(t *testing.T) {
	c := avc1Clip
	d, err := Open(c.write(t, t.TempDir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	checkStream(t, d, c, 1)
	t.Logf("%d of %d frames timed by the fallback", d.ptsInvalid, d.Decoded())
}

func TestStride(t *testing.T) {
	c := mp4Clip
	p := c.write(t, t.TempDir())
	for _, stride := range []int{0, 1, 7, c.frames, c.frames + 5} {
		d, err := Open(p, &Options{Stride: stride})
		if err != nil {
			t.Fatal(err)
		}
		s := max(stride, 1)
		n := checkStream(t, d, c, s)
		if want := (c.frames + s - 1) / s; n != want {
			t.Errorf("stride %d: yielded %d, want %d", stride, n, want)
		}
		if d.Decoded() != c.frames {
			t.Errorf("stride %d: Decoded %d, want %d", stride, d.Decoded(), c.frames)
		}
		d.Close()
	}
	if _, err := Open(p, &Options{Stride: -1}); err == nil {
		t.Error("negative stride accepted")
	}
}

func TestProbe(t *testing.T) {
	c := aviClip
	s, err := Probe(c.write(t, t.TempDir()), &Options{Stride: 9})
	if err != nil {
		t.Fatal(err)
	}
	if s.Frames != c.frames || s.Truncated {
		t.Errorf("Frames %d Truncated %v, want %d false", s.Frames, s.Truncated, c.frames)
	}
	want := time.Duration(float64(c.frames) / c.fps * float64(time.Second))
	if absDur(s.Duration-want) > time.Millisecond {
		t.Errorf("counted Duration %v, want %v", s.Duration, want)
	}
	if s.Width != c.w || s.Height != c.h || s.Container != "avi" {
		t.Errorf("Config %+v", s.Config)
	}
}

// TestTruncatedMoovFirst cuts a faststart MP4 (index first) in the middle
// of its media data: OpenCV opens it on the intact index and decodes until
// the data ends, and the decoder must say the file is short.
func TestTruncatedMoovFirst(t *testing.T) {
	c := mp4Clip
	dir := t.TempDir()
	fast := faststart(t, readFile(t, c.write(t, dir)))

	// The rewritten file itself must decode completely.
	s, err := Probe(writeFile(t, dir, "fast.mp4", fast), nil)
	if err != nil || s.Frames != c.frames || s.Truncated {
		t.Fatalf("faststart copy: %+v, %v", s, err)
	}

	cut := writeFile(t, dir, "cut.mp4", fast[:len(fast)*6/10])
	d, err := Open(cut, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Config().FrameCount != c.frames {
		t.Errorf("FrameCount %d, want the container's %d", d.Config().FrameCount, c.frames)
	}
	if !d.Truncated() {
		t.Error("Truncated false before decoding, though the mdat box runs past the end")
	}
	n := checkStream(t, d, c, 1)
	if n == 0 || n >= c.frames {
		t.Errorf("decoded %d of %d frames from a file cut at 60%%", n, c.frames)
	}
	s, err = Probe(cut, nil)
	if err != nil || !s.Truncated || s.Frames != n {
		t.Errorf("Probe: %+v, %v; want Truncated with %d frames", s, err, n)
	}
	t.Logf("cut at 60%%: %d of %d frames", n, c.frames)
}

// TestTruncatedAVI cuts an AVI in half: its index (idx1, at the end) is
// gone and the RIFF size overruns the file.
func TestTruncatedAVI(t *testing.T) {
	c := aviClip
	dir := t.TempDir()
	b := readFile(t, c.write(t, dir))
	s, err := Probe(writeFile(t, dir, "cut.avi", b[:len(b)/2]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Truncated || s.Frames == 0 || s.Frames >= c.frames {
		t.Errorf("%+v; want Truncated with fewer than %d frames", s, c.frames)
	}
	t.Logf("cut at 50%%: %d of %d frames", s.Frames, c.frames)
}

// TestCountedDurationLimit shrinks the durations an MP4's headers state, so
// only counting frames can find the file too long.
func TestCountedDurationLimit(t *testing.T) {
	c := mp4Clip // 60 frames at 25 fps: 2.4 s
	dir := t.TempDir()
	short := patchBoxes(t, readFile(t, c.write(t, dir)), func(typ string, body []byte) {
		switch typ {
		case "mvhd", "mdhd", "tkhd":
			at := map[string]int{"mvhd": 16, "mdhd": 16, "tkhd": 20}[typ]
			if body[0] != 0 {
				t.Fatalf("%s version %d", typ, body[0])
			}
			copy(body[at:], []byte{0, 0, 0, 1})
		}
	})
	p := writeFile(t, dir, "short.mp4", short)
	opts := &Options{Limits: Limits{MaxDuration: time.Second}}
	d, err := Open(p, opts)
	if err != nil {
		t.Fatalf("header check should pass on the patched durations: %v", err)
	}
	defer d.Close()
	if d.Config().Duration >= time.Second {
		t.Fatalf("patched header duration %v", d.Config().Duration)
	}
	n := 0
	for d.Next() {
		n++
	}
	var de *DecodeError
	if !errors.Is(d.Err(), ErrTooLarge) || !errors.As(d.Err(), &de) || de.Frame != 25 {
		t.Fatalf("Err %v; want ErrTooLarge at frame 25", d.Err())
	}
	if n != 25 {
		t.Errorf("yielded %d frames before the limit, want 25", n)
	}
	if _, err := Probe(p, opts); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Probe: %v, want ErrTooLarge", err)
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.mp4"), nil)
	var de *DecodeError
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &de) {
		t.Errorf("got %v; want a plain not-exist error", err)
	}
}

func TestCloseTwice(t *testing.T) {
	d, err := Open(mp4Clip.write(t, t.TempDir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Next() {
		t.Fatal(d.Err())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d.Next() {
		t.Error("Next true after Close")
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *DecodeError
		want string
	}{
		{&DecodeError{Path: "a.mp4", Frame: -1, Err: ErrNotVideo}, "decode a.mp4: video: not a video file"},
		{&DecodeError{Path: "a.mp4", Frame: 7, Err: ErrTooLarge}, "decode a.mp4 (frame 7): video: file too large"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestMain(m *testing.M) {
	// OpenCV and its FFmpeg backend log every refused file, and the
	// bad-input tests make them refuse many. Quiet them unless the caller
	// set a level (OPENCV_LOG_LEVEL=INFO shows everything).
	for k, v := range map[string]string{"OPENCV_LOG_LEVEL": "FATAL", "OPENCV_FFMPEG_LOGLEVEL": "-8"} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
	os.Exit(m.Run())
}
