package scan

import (
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/media/video"
)

func analysedFrames(rep *Report) int {
	return int(math.Round(rep.Timing.AnalysedFPS * rep.Timing.TotalS))
}

// A file could state an ordinary rate and pack its frames much closer: the
// stride came from the stated rate only, and all of them were analysed
// (issue 15, finding 4). The stride follows the measured timestamps.
func TestStrideFollowsMeasuredTimestamps(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	p := filepath.Join(t.TempDir(), "burst.mkv")
	// 50 frames at 25 fps, which the container's rate is probed from, then
	// 2000 at 500 fps: 6 s of video.
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x96:rate=25",
		"-frames:v", "2050", "-vf", "settb=1/1000,setpts='if(lt(N,50),N/25/TB,(2+(N-50)/500)/TB)'",
		"-fps_mode", "passthrough", "-enc_time_base", "1/1000", "-c:v", "mjpeg", "-f", "matroska", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	a := newAnalyzer(t, Options{})
	rep, err := a.Analyze(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	// At most 15 frames a second of video, with slack for the stride's
	// following a measurement that starts at 25 fps.
	if n := analysedFrames(rep); n > 200 || rep.Video.AnalysedEvery <= 2 {
		t.Errorf("%d of %d frames analysed (every %d) in %.1f s of video stated at %.0f fps",
			n, rep.Video.Frames, rep.Video.AnalysedEvery, rep.DurationS, rep.Video.FPS)
	}
}

func TestAnalysisStride(t *testing.T) {
	for _, tc := range []struct {
		stated, measured float64
		known            bool
		want             int
	}{
		{25, 0, false, 2},
		{30, 0, false, 2},
		{30, 30.4, true, 2}, // jitter leaves the stated rate alone
		{29.97, 24.5, true, 2},
		{25, 500, true, 34}, // measured far above the stated rate
		{1000, 25, true, 2}, // and far below
		{15, 15, true, 1},
		{10, 5, true, 1},
	} {
		if got := analysisStride(tc.stated, tc.measured, tc.known, 15); got != tc.want {
			t.Errorf("stated %v measured %v (%v): stride %d, want %d", tc.stated, tc.measured, tc.known, got, tc.want)
		}
	}
}

// MaxAnalysedFrames caps the frames analysed per file.
func TestMaxAnalysedFrames(t *testing.T) {
	p := filepath.Join(t.TempDir(), "long.avi")
	writeClip2(t, p, 96, 96, 60, 25) // 30 frames analysed at every 2nd
	a := newAnalyzer(t, Options{MaxAnalysedFrames: 10})
	if _, err := a.Analyze(t.Context(), p, nil); !errors.Is(err, video.ErrTooLarge) || ErrorCodes.Of(err) != "too_large" {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	b := newAnalyzer(t, Options{MaxAnalysedFrames: 30})
	if _, err := b.Analyze(t.Context(), p, nil); err != nil {
		t.Fatalf("exactly at the cap: %v", err)
	}
}
