package swap

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/internal/testutil"
)

// BenchmarkSwap720p converts 60 frames of a 720×1280 portrait clip with a
// 64×64 model (untrained weights: the cost does not depend on them) and
// reports frames per second, decoding and encoding included.
func BenchmarkSwap720p(b *testing.B) {
	target := testutil.SharedDir(b, "data", "videos", "real", "portrait", "d13.mp4")
	testutil.InitORT(b)
	cfg := model.DefaultConfig()
	conv, err := NewConverter(randomModel(b, cfg), cfg.Size)
	if err != nil {
		b.Fatal(err)
	}
	defer conv.Close()
	sw, err := New(conv, Options{FaceModels: filepath.Join(testutil.DepsDir(b), "models"), MaxFrames: 60})
	if err != nil {
		b.Fatal(err)
	}
	defer sw.Close()
	out := filepath.Join(b.TempDir(), "fake.mp4")
	b.ResetTimer()
	frames := 0
	for range b.N {
		res, err := sw.Video(context.Background(), target, out)
		if err != nil {
			b.Fatal(err)
		}
		frames += res.Frames
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
