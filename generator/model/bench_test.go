package model

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/internal/testutil"
)

// BenchmarkTrainStep times one training step of the default 64×64 model
// (batch 8 per identity) on each backend. The pure-Go backend takes tens of
// seconds per step: run with -benchtime=1x.
//
//	GOMLX_NO_AUTO_INSTALL=1 go test -run '^$' -bench TrainStep -benchtime 3x ./generator/model
func BenchmarkTrainStep(b *testing.B) {
	for _, name := range []string{BackendONNX, BackendGo} {
		b.Run(name, func(b *testing.B) {
			if name == BackendONNX {
				b.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", filepath.Join(testutil.DepsDir(b), "lib", "libonnxruntime.so.1.30.0"))
			}
			be, err := NewBackend(name)
			if err != nil {
				b.Fatal(err)
			}
			defer be.Finalize()
			cfg := DefaultConfig()
			a := synthFaces(16, cfg.Size, [3]float32{0.85, 0.65, 0.55}, 1)
			bb := synthFaces(16, cfg.Size, [3]float32{0.45, 0.35, 0.75}, 2)
			tr, err := NewTrainer(be, a, bb, TrainOptions{Config: cfg, BatchSize: 8})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			// The first step compiles the graph.
			if err := tr.Train(context.Background(), 1, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := tr.Train(context.Background(), int64(1+b.N), nil); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/step")
		})
	}
}
