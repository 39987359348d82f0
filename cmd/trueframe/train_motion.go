package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
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
	seqs := fs.String("sequences", "", "comma-separated sequence set files (from detectors sequences; required unless --from or --generator-model gives data)")
	out := fs.String("out", "", "directory for motion.onnx and its card motion.json (required)")
	steps := fs.Int("steps", 2000, "training steps (with --from, 0 trains none: the parent's weights measured on this data)")
	lr := fs.Float64("lr", 1e-3, "initial Adam learning rate (cosine decay to a tenth)")
	seed := fs.Uint64("seed", 1, "seed of the split, the weights and the samples")
	width := fs.Int("width", 24, "channels of the temporal convolutions (with --from: the parent's)")
	members := fs.Int("members", 1, "networks trained from different initial weights, whose mean logit is the model (an ensemble: steadier from seed to seed)")
	synth := fs.Float64("synthetic-share", 0.5, "share of fakes made from real windows rather than taken from fake clips")
	synthKinds := fs.String("synthetic-kinds", "", "comma-separated kinds of fakes made from real windows (default frozen_upper_face,foreign_mouth; known: "+strings.Join(motiontrainer.AllSyntheticKinds(), ", ")+")")
	exclude := fs.String("exclude-methods", "", "comma-separated fake methods left out of training")
	licences := fs.String("licences", "", "file of 'path-fragment<TAB>licence' lines: each source's licence, recorded in the model card")
	var rf retrainFlags
	rf.register(fs, motion.Name)
	return func(ctx context.Context, args []string) error {
		if *out == "" || len(args) != 0 || (*seqs == "" && rf.from == "" && rf.genModel == "") {
			return usageError{errors.New("detectors train motion needs --out DIR and --sequences FILE (or --from, --generator-model)")}
		}
		if err := rf.checkTraining(*steps); err != nil {
			return err
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		// The parent: its architecture, input scaling and weights are the start.
		var parent *models.Card
		var parentID string
		var from []map[string]nn.Tensor
		var norm motion.Norm
		if rf.from != "" {
			e, card, model, err := detectorParent(rf.data, motion.Name, rf.from)
			if err != nil {
				return err
			}
			parent, parentID = card, e.ID
			var pcfg motion.Config
			if err := json.Unmarshal(card.Config, &pcfg); err != nil {
				return fmt.Errorf("%s: its configuration: %w", e.ID, err)
			}
			pcfg = pcfg.WithDefaults()
			if err := pcfg.Validate(); err != nil {
				return fmt.Errorf("%s: %w", e.ID, err)
			}
			if setFlags(fs)["width"] && *width != pcfg.Width {
				return usageError{fmt.Errorf("%s has width %d: a fine-tuned network keeps its parent's architecture", e.ID, pcfg.Width)}
			}
			*width, norm = pcfg.Width, pcfg.Norm
			if from, err = nn.ReadONNXMembers(model, pcfg.Plan()); err != nil {
				return fmt.Errorf("%s: %w", e.ID, err)
			}
			if !setFlags(fs)["members"] {
				*members = len(from) // an ensemble's child is one too, member for member
			}
		}

		// The data: the sets given, the generator's swaps, the parent's sets.
		newSets, err := absPaths(*seqs)
		if err != nil {
			return err
		}
		files, gen, missing, err := trainingSets(ctx, filepath.Join(dir, "models"), rf, *out, newSets, parentID, parent,
			func(videos []string, swapDir string) (string, error) {
				var clips []motiontrainer.Clip
				for _, v := range videos {
					clips = append(clips, motiontrainer.Clip{Path: v, Fake: true, Method: methodGeneratorSwap})
				}
				open := func(rec detectors.Detector) (*scan.Analyzer, error) {
					return scan.New(scan.Options{ModelDir: filepath.Join(dir, "models"), Detectors: []detectors.Detector{rec}})
				}
				gs, err := motiontrainer.Extract(ctx, open, clips, "fake:"+methodGeneratorSwap+":"+swapDir, nil)
				if err != nil {
					return "", fmt.Errorf("sequences of the generator's swaps: %w", err)
				}
				path := swapDir + ".seqs"
				return path, gs.Save(path)
			})
		if err != nil {
			return err
		}
		set := &motiontrainer.Set{}
		var cardSets []models.CardSet
		var sources []models.CardSource
		lic := readLicences(*licences)
		for _, f := range files {
			s, err := motiontrainer.LoadSet(f.path)
			if err != nil {
				return err
			}
			set.Sequences = append(set.Sequences, s.Sequences...)
			cs, err := cardSet(f.path, len(s.Sequences), f.origin)
			if err != nil {
				return err
			}
			cardSets = append(cardSets, cs)
			for _, src := range s.Sources {
				sources = append(sources, models.CardSource{Spec: src.Spec, Items: src.Sequences, Licence: licenceOf(lic, src.Spec), Origin: f.origin})
			}
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
		kinds := motiontrainer.DefaultSyntheticKinds()
		if *synthKinds != "" {
			kinds = nil
			for k := range strings.SplitSeq(*synthKinds, ",") {
				kinds = append(kinds, strings.TrimSpace(k))
			}
		}
		trainSteps := *steps
		if trainSteps == 0 {
			trainSteps = -1 // the trainer's "none"
		}
		if *members < 1 {
			return usageError{errors.New("--members must be at least 1")}
		}
		res, err := motiontrainer.Train(ctx, be, set, motiontrainer.Options{Width: *width, Members: *members, Steps: trainSteps, LearningRate: *lr, Seed: *seed,
			SyntheticShare: *synth, SyntheticKinds: kinds, ExcludeMethods: excl, Norm: norm, From: from,
			Progress: func(step, total int, loss float64) {
				fmt.Fprintf(os.Stderr, "\r\033[Kstep %d/%d loss %.4f", step, total, loss)
			}})
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return err
		}
		created := time.Now().UTC()
		version := rf.version
		if version == "" {
			version = fmt.Sprintf("%s-%s-s%d", motion.Name, created.Format("20060102T1504"), *seed)
		}
		data, err := motiontrainer.ONNX(res, version)
		if err != nil {
			return err
		}
		cfgJSON, _ := json.Marshal(res.Config)
		record := map[string]any{"members": len(res.Members), "steps": res.Steps, "learning_rate": *lr, "final_loss": res.Loss, "seconds": res.Seconds,
			"synthetic_share": *synth, "synthetic_kinds": kinds, "excluded_methods": excl, "train_windows": res.Train, "validation": res.Validation}
		if res.Before != nil {
			record["parent_validation"] = res.Before
		}
		training, _ := json.Marshal(record)
		card := models.Card{Name: motion.Name, Version: version,
			Created: created, Seed: *seed, Command: commandLine(),
			Input:  fmt.Sprintf("window [N,1,%d,%d]: %d samples at %.0f/s of 14 landmark and eye measurements (motion.Measure), deviation from the window mean and change, scaled by config.norm", motion.WindowLen, motion.InputChannels, motion.WindowLen, motion.Rate),
			Output: "logit [N,1,1,1]; sigmoid → P(the face moves as a generated one does)",
			Config: cfgJSON, Training: training, Data: sources, Sets: cardSets, Parent: parentID, ParentDataMissing: missing, Generator: gen}
		cardPath, err := models.WriteTrained(*out, &card, data)
		if err != nil {
			return err
		}
		if parentID != "" {
			fmt.Printf("%s: fine-tuned from %s, %d steps in %.0f s, final loss %.4f, training windows %v\n", version, parentID, res.Steps, res.Seconds, res.Loss, res.Train)
			fmt.Printf("parent on the same held-out clips: window AUC %v\n", round3(res.Before.AUC))
		} else {
			fmt.Printf("%s: %d steps in %.0f s, final loss %.4f, training windows %v\n", version, res.Steps, res.Seconds, res.Loss, res.Train)
		}
		fmt.Printf("held-out clips (%d real windows): window AUC %v (windows %v)\n", res.Validation.RealWindows, round3(res.Validation.AUC), res.Validation.Windows)
		for _, s := range cardSets {
			fmt.Printf("  %-9s %6d sequences  %s\n", s.Origin, s.Items, s.Path)
		}
		fmt.Printf("wrote %s and %s\n", filepath.Join(*out, card.File), cardPath)
		return nil
	}
}

const scoreMotionHelp = `
Scores recorded face tracks (sequence sets from detectors sequences) with
each motion network CARD (a model card; none given: the one a scan runs),
exactly as the detector scores a track, and prints the clip-level AUC of
the fakes against the reals with its 95% bootstrap interval, each fake
method's AUC, and how many reals and fakes score at least --high. No video
is decoded, so a candidate, or a recipe over several seeds, is measured in
seconds instead of an eval's minutes:

  trueframe detectors sequences --split heldout --out heldout.seqs ../shared/data/videos/dev/manifest.tsv
  trueframe detectors score-motion --sequences heldout.seqs data/models/s1/motion.json data/models/s2/motion.json`

// motionScore is one network's figures on the sets.
type motionScore struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	motiontrainer.Figures
}

func cmdDetectorsScoreMotion(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	seqs := fs.String("sequences", "", "comma-separated sequence set files (required)")
	high := fs.Float64("high", 0.8, "the score counted as high")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	return func(ctx context.Context, args []string) error {
		if *seqs == "" {
			return usageError{errors.New("detectors score-motion needs --sequences FILE")}
		}
		set := &motiontrainer.Set{}
		for _, p := range strings.Split(*seqs, ",") {
			s, err := motiontrainer.LoadSet(p)
			if err != nil {
				return err
			}
			set.Sequences = append(set.Sequences, s.Sequences...)
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		cards := args
		if len(cards) == 0 {
			cards = []string{""}
		}
		var out []motionScore
		for _, card := range cards {
			fig, version, err := scoreMotion(ctx, filepath.Join(dir, "models"), card, set, *high)
			if err != nil {
				return err
			}
			name := card
			if name == "" {
				name = "(in use)"
			}
			out = append(out, motionScore{Model: name, Version: version, Figures: fig})
		}
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		printMotionScores(os.Stdout, out)
		return nil
	}
}

// scoreMotion scores set with the motion network of card ("": the one a
// scan runs).
func scoreMotion(ctx context.Context, modelDir, card string, set *motiontrainer.Set, high float64) (motiontrainer.Figures, string, error) {
	var cards map[string]string
	if card != "" {
		cards = map[string]string{motion.Name: card}
	}
	det, err := scan.NewDetector(motion.Name, modelDir, cards)
	if err != nil {
		return motiontrainer.Figures{}, "", err
	}
	d, ok := det.(*motion.Detector)
	if !ok {
		if c, ok := det.(io.Closer); ok {
			c.Close()
		}
		return motiontrainer.Figures{}, "", fmt.Errorf("%s is not a motion network", card)
	}
	defer d.Close()
	scored, err := motiontrainer.ScoreSet(ctx, d, set)
	if err != nil {
		return motiontrainer.Figures{}, "", err
	}
	return motiontrainer.Summarize(scored, high), d.Version(), nil
}

func printMotionScores(w io.Writer, scores []motionScore) {
	methods := map[string]bool{}
	for _, s := range scores {
		for m := range s.Methods {
			methods[m] = true
		}
	}
	names := slices.Sorted(maps.Keys(methods))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "model\tversion\tfakes\treals\tAUC\t95%%\tfakes ≥ %.2f\treals ≥ %.2f", scores[0].High, scores[0].High)
	for _, m := range names {
		fmt.Fprintf(tw, "\t%s", m)
	}
	fmt.Fprintln(tw)
	var sumAUC, sumReals float64
	for _, s := range scores {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.2f–%.2f\t%d\t%d", s.Model, s.Version, s.Fakes, s.Reals, float64(s.AUC),
			float64(s.AUCCI95.Lo), float64(s.AUCCI95.Hi), s.FakesHigh, s.RealsHigh)
		for _, m := range names {
			fmt.Fprintf(tw, "\t%.2f", float64(s.Methods[m]))
		}
		fmt.Fprintln(tw)
		sumAUC += float64(s.AUC)
		sumReals += float64(s.RealsHigh)
	}
	tw.Flush()
	if n := float64(len(scores)); n > 1 {
		fmt.Fprintf(w, "mean of %d: AUC %.3f, reals ≥ %.2f: %.1f\n", len(scores), sumAUC/n, scores[0].High, sumReals/n)
	}
}
