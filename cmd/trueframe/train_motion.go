package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/motion"
	motiontrainer "github.com/trueframe/trueframe/detectors/motion/trainer"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/nn"
)

const sequencesHelp = `
Needs --out FILE. SOURCE is real:DIR (every video in it is real), or a
labelled source as for eval (a dev manifest.tsv, its --split; a dataset
manifest.json; a folder with real/ and fake/).`

// cmdDetectorsSequences measures the face tracks of labelled clips for the
// motion detector's training.
func cmdDetectorsSequences(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	out := fs.String("out", "", "sequence set file to write (required)")
	split := fs.String("split", "train", "dev-manifest split (never test)")
	permissive := fs.Bool("permissive", false, "take only clips whose stated licence lets the model ship (MIT, Apache-2.0, BSD, CC0, CC BY)")
	return func(ctx context.Context, args []string) error {
		if *out == "" || len(args) == 0 {
			return usageError{errors.New("detectors sequences needs --out FILE and at least one SOURCE")}
		}
		if *split == "test" || *split == "all" {
			return usageError{errors.New("training sequences never come from the dev test split")}
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		open := func(rec detectors.Detector) (*scan.Analyzer, error) {
			return scan.New(scan.Options{ModelDir: filepath.Join(dir, "models"), Detectors: []detectors.Detector{rec}})
		}
		all := &motiontrainer.Set{}
		for _, spec := range args {
			var clips []motiontrainer.Clip
			if p, ok := strings.CutPrefix(spec, "real:"); ok {
				files, err := videoFiles(p)
				if err != nil {
					return err
				}
				for _, f := range files {
					clips = append(clips, motiontrainer.Clip{Path: f, Method: "real"})
				}
			} else {
				ec, err := eval.Load(spec, *split)
				if err != nil {
					return err
				}
				for _, c := range ec {
					if !*permissive || c.Permissive() {
						clips = append(clips, motiontrainer.Clip{Path: c.Path, Fake: c.IsFake(), Method: c.Method})
					}
				}
			}
			set, err := motiontrainer.Extract(ctx, open, clips, spec, func(path string, n int) {
				fmt.Fprintf(os.Stderr, "\r\033[K%s: %d frames", filepath.Base(path), n)
			})
			fmt.Fprint(os.Stderr, "\r\033[K")
			if err != nil && !errors.Is(err, motiontrainer.ErrNoSequences) {
				return err
			}
			all.Sequences = append(all.Sequences, set.Sequences...)
			all.Sources = append(all.Sources, set.Sources...)
			fmt.Printf("%5d  %s\n", len(set.Sequences), spec)
		}
		if len(all.Sequences) == 0 {
			return motiontrainer.ErrNoSequences
		}
		return all.Save(*out)
	}
}

func videoFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".mp4", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v":
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

func cmdTrainMotion(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	seqs := fs.String("sequences", "", "comma-separated sequence set files (from detectors sequences; required)")
	out := fs.String("out", "", "directory for motion.onnx and its card motion.json (required)")
	steps := fs.Int("steps", 2000, "training steps")
	seed := fs.Uint64("seed", 1, "seed of the split, the weights and the samples")
	width := fs.Int("width", 24, "channels of the temporal convolutions")
	synth := fs.Float64("synthetic-share", 0.5, "share of fakes made from real windows rather than taken from fake clips")
	exclude := fs.String("exclude-methods", "", "comma-separated fake methods left out of training")
	licences := fs.String("licences", "", "file of 'path-fragment<TAB>licence' lines: each source's licence, recorded in the model card")
	return func(ctx context.Context, args []string) error {
		if *seqs == "" || *out == "" || len(args) != 0 {
			return usageError{errors.New("detectors train motion needs --sequences FILE and --out DIR")}
		}
		if _, err := initGeneratorORT(*deps); err != nil {
			return err
		}
		set := &motiontrainer.Set{}
		for _, f := range strings.Split(*seqs, ",") {
			s, err := motiontrainer.LoadSet(f)
			if err != nil {
				return err
			}
			set.Sequences = append(set.Sequences, s.Sequences...)
			set.Sources = append(set.Sources, s.Sources...)
		}
		be, err := nn.NewBackend(nn.BackendONNX)
		if err != nil {
			return err
		}
		defer be.Finalize()
		var excl []string
		if *exclude != "" {
			excl = strings.Split(*exclude, ",")
		}
		res, err := motiontrainer.Train(ctx, be, set, motiontrainer.Options{Width: *width, Steps: *steps, Seed: *seed, SyntheticShare: *synth,
			ExcludeMethods: excl,
			Progress: func(step, total int, loss float64) {
				fmt.Fprintf(os.Stderr, "\r\033[Kstep %d/%d loss %.4f", step, total, loss)
			}})
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return err
		}
		created := time.Now().UTC()
		version := fmt.Sprintf("%s-%s-s%d", motion.Name, created.Format("20060102T1504"), *seed)
		data, err := motiontrainer.ONNX(res, version)
		if err != nil {
			return err
		}
		cfgJSON, _ := json.Marshal(res.Config)
		training, _ := json.Marshal(map[string]any{"steps": res.Steps, "final_loss": res.Loss, "seconds": res.Seconds,
			"synthetic_share": *synth, "excluded_methods": excl, "train_windows": res.Train, "validation": res.Validation})
		card := models.Card{Name: motion.Name, Version: version,
			Created: created, Seed: *seed, Command: commandLine(),
			Input:  fmt.Sprintf("window [N,1,%d,%d]: %d samples at %.0f/s of 14 landmark and eye measurements (motion.Measure), deviation from the window mean and change, scaled by config.norm", motion.WindowLen, motion.InputChannels, motion.WindowLen, motion.Rate),
			Output: "logit [N,1,1,1]; sigmoid → P(the face moves as a generated one does)",
			Config: cfgJSON, Training: training}
		lic := readLicences(*licences)
		for _, s := range set.Sources {
			card.Data = append(card.Data, models.CardSource{Spec: s.Spec, Items: s.Sequences, Licence: licenceOf(lic, s.Spec)})
		}
		cardPath, err := models.WriteTrained(*out, &card, data)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d steps in %.0f s, final loss %.4f, training windows %v\n", version, res.Steps, res.Seconds, res.Loss, res.Train)
		fmt.Printf("held-out clips (%d real windows): window AUC %v (windows %v)\n", res.Validation.RealWindows, round3(res.Validation.AUC), res.Validation.Windows)
		fmt.Printf("wrote %s and %s\n", filepath.Join(*out, card.File), cardPath)
		return nil
	}
}
