package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/trueframe/trueframe/generator/dataset"
	"github.com/trueframe/trueframe/generator/faceset"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/generator/onnxexport"
	"github.com/trueframe/trueframe/internal/ortutil"
)

// initGeneratorORT initialises ONNX Runtime for the face models and points
// GoMLX's ONNX Runtime backend at the same library.
func initGeneratorORT(depsFlag string) (string, error) {
	deps, err := depsDir(depsFlag)
	if err != nil {
		return "", err
	}
	lib := filepath.Join(deps, "lib", "libonnxruntime.so.1.30.0")
	if os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH") == "" {
		_ = os.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", lib)
	}
	if err := ortutil.Init(lib); err != nil {
		return "", err
	}
	return deps, nil
}

func cmdGenerateExtract(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	out := fs.String("out", "", "face set directory to write (required)")
	size := fs.Int("size", 64, "side of the aligned crops in pixels")
	minFace := fs.Float64("min-face", 40, "skip faces narrower than this (source pixels)")
	minSharp := fs.Float64("min-sharpness", 30, "skip crops whose variance of the Laplacian is below this (negative: keep all)")
	stride := fs.Int("stride", 1, "take every N-th frame")
	maxPer := fs.Int("max-per-source", 0, "at most this many crops per video (0: no limit)")
	return func(ctx context.Context, args []string) error {
		if *out == "" || len(args) == 0 {
			return usageError{errors.New("generate extract needs --out DIR and at least one VIDEO, IMAGE or DIR")}
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		e, err := faceset.New(faceset.Options{ModelDir: filepath.Join(dir, "models"), Size: *size, MinFaceSize: *minFace,
			MinSharpness: *minSharp, Stride: *stride, MaxPerSource: *maxPer})
		if err != nil {
			return err
		}
		defer e.Close()
		t0 := time.Now()
		idx, err := e.Extract(ctx, args, *out)
		if err != nil {
			return err
		}
		closed := 0
		for _, ent := range idx.Entries {
			if min(ent.EyeOpenness[0], ent.EyeOpenness[1]) < 0.12 {
				closed++
			}
		}
		fmt.Printf("%d faces (%d with an eye closed) in %s, %v; skipped: %d no face, %d too small, %d blurry\n",
			len(idx.Entries), closed, *out, time.Since(t0).Round(time.Millisecond),
			idx.Skipped.NoFace, idx.Skipped.TooSmall, idx.Skipped.Blurry)
		for _, f := range idx.Skipped.Failed {
			fmt.Fprintf(os.Stderr, "trueframe: skipped %s: %s\n", f.Source, f.Error)
		}
		return nil
	}
}

func cmdGenerateTrain(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	dirA := fs.String("a", "", "face set of identity A (from generate extract; required)")
	dirB := fs.String("b", "", "face set of identity B (required)")
	out := fs.String("out", "", "model directory: checkpoints, ONNX files, previews (required; resumed when it holds a model)")
	steps := fs.Int64("steps", 10000, "train until this many steps in total")
	backend := fs.String("backend", envOr("TRUEFRAME_GENERATOR_BACKEND", model.BackendONNX), "GoMLX backend: onnx (ONNX Runtime) or go (pure Go, slow)")
	def := model.DefaultConfig()
	size := fs.Int("size", def.Size, "face size (multiple of 16)")
	width := fs.Int("width", def.Width, "channels of the first encoder layer")
	latent := fs.Int("latent", def.Latent, "size of the bottleneck")
	batch := fs.Int("batch", 16, "faces of each identity per step")
	lr := fs.Float64("lr", 5e-4, "Adam learning rate")
	every := fs.Int("checkpoint-every", 500, "steps between checkpoints (and ONNX exports)")
	previewEvery := fs.Int("preview-every", 250, "steps between preview grids (0: none)")
	holdout := fs.Float64("holdout", 0.1, "fraction of each face set (its last faces) kept out of training to measure reconstruction PSNR")
	progressFile := fs.String("progress-file", "", "also write the progress as JSON to this file, at most once a second (for the service)")
	return func(ctx context.Context, args []string) error {
		if *dirA == "" || *dirB == "" || *out == "" || len(args) != 0 {
			return usageError{errors.New("generate train needs --a DIR --b DIR --out MODELDIR")}
		}
		if _, err := initGeneratorORT(*deps); err != nil {
			return err
		}
		cfg := model.Config{Size: *size, Width: *width, Latent: *latent}
		meta, err := model.ReadResumable(*out)
		switch {
		case err == nil:
			// Resuming: the checkpoint's architecture, unless the command line
			// asks for another one explicitly, which is an error, not a silent
			// change.
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if (set["size"] && *size != meta.Config.Size) || (set["width"] && *width != meta.Config.Width) ||
				(set["latent"] && *latent != meta.Config.Latent) {
				return usageError{fmt.Errorf("%s holds a model of size %d, width %d, latent %d: use another --out for a different architecture",
					*out, meta.Config.Size, meta.Config.Width, meta.Config.Latent)}
			}
			cfg = meta.Config
		case !errors.Is(err, model.ErrNoModel):
			return err
		}
		if err := cfg.WithDefaults().Validate(); err != nil {
			return usageError{err}
		}
		a, err := faceset.Load(*dirA, cfg.WithDefaults().Size)
		if err != nil {
			return err
		}
		b, err := faceset.Load(*dirB, cfg.WithDefaults().Size)
		if err != nil {
			return err
		}
		a, heldA := model.HoldOut(a, *holdout)
		b, heldB := model.HoldOut(b, *holdout)
		be, err := model.NewBackend(*backend)
		if err != nil {
			return usageError{err}
		}
		defer be.Finalize()
		tr, err := model.NewTrainer(be, a, b, model.TrainOptions{Config: cfg, Dir: *out, CheckpointEvery: *every,
			BatchSize: *batch, LearningRate: *lr, Identities: [2]string{*dirA, *dirB}})
		if err != nil {
			return err
		}
		defer tr.Close()
		fmt.Fprintf(os.Stderr, "training %s on %d + %d faces, backend %s, from step %d to %d\n",
			tr.Meta().ID, len(a), len(b), *backend, tr.Step(), *steps)
		tty := term.IsTerminal(int(os.Stderr.Fd()))
		var lastLine time.Time
		var previewErr error
		var lastWrite time.Time
		err = tr.Train(ctx, *steps, func(p model.Progress) {
			if *progressFile != "" && (time.Since(lastWrite) >= time.Second || p.Step == p.Total || p.Checkpointed) {
				lastWrite = time.Now()
				genjobs.WriteTrainProgress(*progressFile, p)
			}
			if tty || time.Since(lastLine) > 10*time.Second || p.Step == p.Total {
				lastLine = time.Now()
				end := "\n"
				if tty {
					end = "\x1b[K"
				}
				fmt.Fprintf(os.Stderr, "\r%s %d/%d loss %.4f  %.2f steps/s  ETA %v%s",
					bar(p.Step, p.Total, 24), p.Step, p.Total, p.Loss, p.StepsPerSec, p.ETA.Round(time.Second), end)
			}
			if *previewEvery > 0 && (p.Step%int64(*previewEvery) == 0 || p.Step == p.Total) && previewErr == nil {
				previewErr = tr.WritePreview(filepath.Join(*out, model.PreviewFile), a, b)
			}
			if p.Checkpointed {
				if err := onnxexport.WriteDecoders(*out, tr.Model); err != nil && previewErr == nil {
					previewErr = err
				}
			}
		})
		if tty {
			fmt.Fprintln(os.Stderr)
		}
		if errors.Is(err, context.Canceled) {
			// Train saved a checkpoint on the way out; export it too.
			if xerr := onnxexport.WriteDecoders(*out, tr.Model); xerr != nil {
				return errors.Join(err, xerr)
			}
			fmt.Fprintf(os.Stderr, "interrupted: checkpoint at step %d in %s (run the same command to resume)\n", tr.Step(), *out)
			return err
		}
		if err != nil {
			return err
		}
		if previewErr != nil {
			return previewErr
		}
		if err := onnxexport.WriteDecoders(*out, tr.Model); err != nil {
			return err
		}
		fmt.Printf("model %s at step %d (loss %.4f) in %s: %s, %s, %s\n", tr.Meta().ID, tr.Step(), tr.Meta().Loss,
			*out, model.DecoderFile(model.A), model.DecoderFile(model.B), model.PreviewFile)
		if len(heldA) > 0 && len(heldB) > 0 {
			pa, err := tr.PSNR(model.A, heldA)
			if err != nil {
				return err
			}
			pb, err := tr.PSNR(model.B, heldB)
			if err != nil {
				return err
			}
			fmt.Printf("held-out reconstruction PSNR: A %.2f dB (%d faces), B %.2f dB (%d faces)\n", pa, len(heldA), pb, len(heldB))
		}
		return nil
	}
}

func bar(done, total int64, width int) string {
	if total <= 0 {
		total = 1
	}
	n := int(int64(width) * min(done, total) / total)
	b := make([]byte, width+2)
	b[0], b[width+1] = '[', ']'
	for i := range width {
		b[i+1] = ' '
		if i < n {
			b[i+1] = '='
		}
	}
	return string(b)
}

func cmdGenerateSwap(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	modelDir := fs.String("model", "", "model directory written by generate train (required)")
	target := fs.String("target", "", "video whose face is replaced (required)")
	out := fs.String("out", "", "output video, .mp4 (required); a .json sidecar is written beside it")
	to := fs.String("to", "b", "identity to decode into: b (target shows A) or a (target shows B)")
	return func(ctx context.Context, args []string) error {
		if *modelDir == "" || *target == "" || *out == "" || len(args) != 0 {
			return usageError{errors.New("generate swap needs --model MODELDIR --target VIDEO --out FAKE.mp4")}
		}
		id := model.B
		switch *to {
		case "a":
			id = model.A
		case "b":
		default:
			return usageError{fmt.Errorf("--to %q: want a or b", *to)}
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		sc, res, err := dataset.SwapVideo(ctx, dataset.SwapRequest{ModelDir: *modelDir, Decoder: id,
			FaceModels: filepath.Join(dir, "models"), Target: *target, Out: *out})
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d frames, %d swapped, %dx%d at %.2f fps, %.1f frames/s; sidecar %s\n", *out, sc.Frames,
			sc.FramesTouched, sc.Width, sc.Height, sc.FPS, float64(res.Frames)/res.Elapsed.Seconds(), dataset.SidecarPath(*out))
		return nil
	}
}

func cmdGenerateDataset(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	real := fs.String("real", "", "folder of real clips (required)")
	out := fs.String("out", "", "output folder (required)")
	modelDir := fs.String("model", "", "also make autoencoder swaps with this model (generate train's MODELDIR)")
	maxFrames := fs.Int("max-frames", 0, "at most this many frames per output clip (0: all)")
	mouthRetime := fs.Bool("mouth-retime", false, "also make mouth_retime fakes: each frame's lower face from another moment of the clip (a lip-sync stand-in)")
	return func(ctx context.Context, args []string) error {
		if *real == "" || *out == "" || len(args) != 0 {
			return usageError{errors.New("generate dataset needs --real DIR --out DIR")}
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		man, err := dataset.Build(ctx, dataset.Options{Real: *real, Out: *out, ModelDir: *modelDir,
			FaceModels: filepath.Join(dir, "models"), MaxFrames: *maxFrames, MouthRetime: *mouthRetime})
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, it := range man.Items {
			counts[it.Method]++
		}
		fmt.Printf("%d items in %s (%v); manifest %s\n", len(man.Items), *out, counts, filepath.Join(*out, dataset.ManifestFile))
		return nil
	}
}
