package video

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
)

// Real clips from the shared data (see ../shared/README.md); the tests skip
// when it is absent.

func TestRealGrid(t *testing.T) {
	p := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "sbwe5n.mpg")
	d, err := Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cfg := d.Config()
	if cfg.Width != 360 || cfg.Height != 288 || cfg.FPS != 25 || cfg.Container != "mpeg-ps" {
		t.Errorf("Config %+v; want 360x288 at 25 fps in mpeg-ps", cfg)
	}
	checkTimes(t, d, 25)
	// ffprobe -count_frames finds 75 frames (3 s at 25 fps).
	if n := d.Decoded(); n != 75 {
		t.Errorf("decoded %d frames, want 75", n)
	}
	if d.Truncated() {
		t.Error("Truncated")
	}
	t.Logf("%+v, %d frames, %d timed by fallback", cfg, d.Decoded(), d.ptsInvalid)
}

func TestRealPortrait(t *testing.T) {
	// d13.mp4 is H.264 720x1280 (portrait), 30 fps, 352 frames.
	p := filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "portrait"), "d13.mp4")
	s, err := Probe(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Width != 720 || s.Height != 1280 || s.FPS != 30 || s.Container != "mp4" || !contains([]string{"avc1", "h264"}, s.Codec) {
		t.Errorf("Config %+v", s.Config)
	}
	if s.Frames != 352 || s.FrameCount != 352 || s.Truncated {
		t.Errorf("Frames %d FrameCount %d Truncated %v; want 352 352 false", s.Frames, s.FrameCount, s.Truncated)
	}
	want := 352 * time.Second / 30
	if absDur(s.Duration-want) > 2*time.Millisecond || absDur(s.Config.Duration-want) > 40*time.Millisecond {
		t.Errorf("counted %v, header %v; want %v", s.Duration, s.Config.Duration, want)
	}
}

// checkTimes decodes d to the end and checks that frame times increase and
// stay within one frame of index/fps.
func checkTimes(t *testing.T, d *Decoder, fps float64) {
	t.Helper()
	prev := time.Duration(-1)
	for d.Next() {
		f := d.Frame()
		if f.Time <= prev {
			t.Errorf("frame %d: time %v not after %v", f.Index, f.Time, prev)
		}
		prev = f.Time
		want := float64(f.Index) / fps
		if math.Abs(f.Time.Seconds()-want) > 1/fps {
			t.Errorf("frame %d: time %v, want about %.3fs", f.Index, f.Time, want)
		}
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}
