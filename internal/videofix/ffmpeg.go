package videofix

import (
	"os/exec"
	"strconv"
	"testing"

	"github.com/trueframe/trueframe/media/video"
)

// Platform is a transformation a video platform or a re-upload applies to
// a clip, made with the ffmpeg command-line tool: what a copy of a
// registered original looks like in the wild.
type Platform struct {
	Name string
	// Args are ffmpeg's output options, between the input and the output
	// file. They may depend on the source's frame rate (see Platforms).
	Args []string
}

// Platforms returns the transformations the provenance tests apply to a
// clip of the given frame rate: H.264 at CRF 23, 30 and 35, half size, a
// 5% crop (2.5% off each side), the first 2 s trimmed, and the frame rate
// changed between 25 and 30 (30 for a 25 fps source, 25 otherwise). Every
// copy is H.264 (libx264, preset veryfast, yuv420p) without audio.
func Platforms(fps float64) []Platform {
	h264 := func(crf int, extra ...string) []string {
		return append(extra, "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", strconv.Itoa(crf), "-pix_fmt", "yuv420p")
	}
	other := "25"
	if fps > 24 && fps < 26 {
		other = "30"
	}
	return []Platform{
		{"crf23", h264(23)},
		{"crf30", h264(30)},
		{"crf35", h264(35)},
		{"half", h264(23, "-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2")},
		{"crop5", h264(23, "-vf", "crop=trunc(iw*0.95/2)*2:trunc(ih*0.95/2)*2")},
		{"trim2s", h264(23, "-ss", "2")},
		{"fps" + other, h264(23, "-vf", "fps="+other)},
	}
}

// FFmpeg runs ffmpeg -i src ARGS dst; the test skips when ffmpeg is not
// installed (scripts/setup installs it) and fails when it fails.
func FFmpeg(tb testing.TB, src, dst string, args ...string) {
	tb.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		tb.Skip("ffmpeg not installed (scripts/setup installs it)")
	}
	cmd := exec.Command(bin, append(append([]string{"-nostdin", "-loglevel", "error", "-y", "-i", src}, args...), dst)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// FPS returns the frame rate of a clip, from its headers.
func FPS(tb testing.TB, path string) float64 {
	tb.Helper()
	d, err := video.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	return d.Config().FPS
}
