package video

import (
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A tiny file stating an absurd frame rate held a worker for minutes: rates
// above 1000 fps were guessed as 25, and every one of its frames was
// decoded and analysed (issue 15, finding 4). It is refused at once.
func TestAbsurdStatedFrameRateIsRefused(t *testing.T) {
	c := clip{name: "fast.mp4", fourcc: "mp4v", w: 64, h: 64, fps: 10000, frames: 300}
	p := c.write(t, t.TempDir())
	d, err := Open(p, nil)
	if err == nil {
		d.Close()
	}
	checkDecodeError(t, err, p, ErrBadFrameRate)
	if err != nil && !strings.Contains(err.Error(), "10000") {
		t.Errorf("the message does not give the rate: %v", err)
	}
	if _, err := Probe(p, nil); !errors.Is(err, ErrBadFrameRate) {
		t.Errorf("Probe: %v, want ErrBadFrameRate", err)
	}
}

// A file whose container states a sane average rate can still pack its
// frames a fraction of a millisecond apart (a burst first, a slow tail to
// pull the average down): the timestamps measured while decoding refuse it.
func TestAbsurdMeasuredFrameRateIsRefused(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	p := filepath.Join(t.TempDir(), "burst.mp4")
	// 2500 frames at 5000 fps, then 100 at 10 fps: 249 fps on average.
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=25",
		"-frames:v", "2600", "-vf", "settb=1/90000,setpts='if(lt(N,2500),N/5000/TB,(0.5+(N-2500)/10)/TB)'",
		"-fps_mode", "passthrough", "-enc_time_base", "1/90000", "-c:v", "mjpeg", "-video_track_timescale", "90000", "-f", "mp4", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	d, err := Open(p, nil)
	if err != nil {
		t.Fatalf("the stated rate is sane, Open should pass: %v", err)
	}
	defer d.Close()
	if fps := d.Config().FPS; fps > maxFPS {
		t.Fatalf("stated rate %v", fps)
	}
	n := 0
	for d.Next() {
		n++
	}
	var de *DecodeError
	if !errors.Is(d.Err(), ErrBadFrameRate) || !errors.As(d.Err(), &de) || de.Frame > 100 {
		t.Fatalf("after %d frames: Err %v; want ErrBadFrameRate within the first 100 frames", n, d.Err())
	}
}

// MaxFrames caps the frames decoded, counted, not taken from the container.
func TestMaxFrames(t *testing.T) {
	c := mp4Clip
	p := c.write(t, t.TempDir())
	d, err := Open(p, &Options{Limits: Limits{MaxFrames: 10}, Stride: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	for d.Next() {
		n++
	}
	var de *DecodeError
	if !errors.Is(d.Err(), ErrTooLarge) || !errors.As(d.Err(), &de) || de.Frame != 10 || d.Decoded() != 10 {
		t.Fatalf("Err %v after %d decoded; want ErrTooLarge at frame 10", d.Err(), d.Decoded())
	}
	if n != 4 { // frames 0, 3, 6, 9
		t.Errorf("yielded %d frames before the limit, want 4", n)
	}
	if DefaultLimits().MaxFrames <= 0 {
		t.Error("no default frame cap")
	}
}

func TestMeasuredFPS(t *testing.T) {
	c := mp4Clip
	d, err := Open(c.write(t, t.TempDir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, ok := d.MeasuredFPS(); ok {
		t.Error("a rate measured on one frame")
	}
	for d.Next() {
	}
	fps, ok := d.MeasuredFPS()
	if !ok || math.Abs(fps-c.fps) > 0.01*c.fps {
		t.Errorf("measured %v (%v), want %v", fps, ok, c.fps)
	}
}
