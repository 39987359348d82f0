package video

import (
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// BenchmarkDecode720p decodes a generated 1280x720 clip and reports frames
// per second, with and without the cost of yielding (Stride).
func BenchmarkDecode720p(b *testing.B) {
	for _, c := range []clip{
		{name: "b720.mp4", fourcc: "avc1", w: 1280, h: 720, fps: 30, frames: 90},
		{name: "b720_mp4v.mp4", fourcc: "mp4v", w: 1280, h: 720, fps: 30, frames: 90},
	} {
		p := c.write(b, b.TempDir())
		b.Run(c.fourcc, func(b *testing.B) { benchDecode(b, p, nil) })
	}
}

// BenchmarkDecodePortrait decodes the shared 720x1280 H.264 clip.
func BenchmarkDecodePortrait(b *testing.B) {
	benchDecode(b, filepath.Join(testutil.SharedDir(b, "data", "videos", "real", "portrait"), "d13.mp4"), nil)
}

func benchDecode(b *testing.B, path string, opts *Options) {
	b.ReportAllocs()
	frames := 0
	b.ResetTimer()
	for b.Loop() {
		d, err := Open(path, opts)
		if err != nil {
			b.Fatal(err)
		}
		for d.Next() {
		}
		if err := d.Err(); err != nil {
			b.Fatal(err)
		}
		frames += d.Decoded()
		d.Close()
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
