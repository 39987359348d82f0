package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/video"
)

// cmdBench times, in one run on one clip, decoding alone and the full
// analysis, and prints frames per second of each and their ratio.
func cmdBench(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	faceModel := fs.String("face-model", face.BlazeFace, "face detector")
	rounds := fs.Int("rounds", 3, "runs of each; the fastest counts")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the full analyses to this file")
	dets := fs.String("detectors", "", "comma-separated detectors (default: the standard set)")
	return func(ctx context.Context, args []string) error {
		if *rounds < 1 {
			return usageError{fmt.Errorf("--rounds must be at least 1")}
		}
		if len(args) != 1 {
			return usageError{fmt.Errorf("bench takes one video file")}
		}
		file := args[0]
		dir, err := depsDir(*deps)
		if err != nil {
			return err
		}
		noLimits := video.Limits{}
		var names []string
		if *dets != "" {
			names = strings.Split(*dets, ",")
		}
		a, err := scan.OpenRequest(dir, scan.Request{FaceModel: *faceModel, Limits: &noLimits, Detectors: names})
		if err != nil {
			return err
		}
		defer a.Close()

		var frames int
		var cfg video.Config
		decodeBest, fullBest := time.Duration(1<<62), time.Duration(1<<62)
		var rep *scan.Report
		for i := 0; i < *rounds; i++ {
			start := time.Now()
			dec, err := video.Open(file, &video.Options{Limits: noLimits})
			if err != nil {
				return err
			}
			cfg = dec.Config()
			n := 0
			for dec.Next() {
				n++
				if n%128 == 0 && ctx.Err() != nil {
					dec.Close()
					return ctx.Err()
				}
			}
			err = dec.Err()
			dec.Close()
			if err != nil {
				return err
			}
			frames = n
			decodeBest = min(decodeBest, time.Since(start))

			if *cpuProfile != "" && i == 0 {
				pf, err := os.Create(*cpuProfile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			start = time.Now()
			if rep, err = a.Analyze(ctx, file, nil); err != nil {
				return err
			}
			fullBest = min(fullBest, time.Since(start))
		}
		dfps := float64(frames) / decodeBest.Seconds()
		ffps := float64(frames) / fullBest.Seconds()
		fmt.Printf("clip            %s (%dx%d, %.4g fps, %d frames, %d faces)\n", file, cfg.Width, cfg.Height, cfg.FPS, frames, len(rep.Faces))
		fmt.Printf("cores           %d (GOMAXPROCS %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
		fmt.Printf("decode only     %7.1f frames/s  (%.2f s)\n", dfps, decodeBest.Seconds())
		fmt.Printf("full analysis   %7.1f frames/s  (%.2f s, every %d. frame analysed)\n", ffps, fullBest.Seconds(), rep.Video.AnalysedEvery)
		fmt.Printf("ratio           %7.2f× decode time (goal ≤ 3×)\n", fullBest.Seconds()/decodeBest.Seconds())
		// What each detector costs per analysed frame (of the last run; the
		// detectors run on the pipeline's last stage, beside the others).
		analysed := float64(rep.Video.Frames) / float64(max(1, rep.Video.AnalysedEvery))
		ran := make([]string, 0, len(rep.Timing.DetectorS))
		for n := range rep.Timing.DetectorS {
			ran = append(ran, n)
		}
		sort.Strings(ran)
		for _, n := range ran {
			fmt.Printf("  %-12s %6.2f ms per analysed frame\n", n, 1000*rep.Timing.DetectorS[n]/analysed)
		}
		return nil
	}
}
