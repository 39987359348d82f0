package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/detectors/facecnn/trainer"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/nn"
)

const cropsHelp = `
Needs --out FILE. SOURCE is real:PATH or fake:METHOD:PATH (an image, a
video, or a folder of them).`

func cmdDetectorsCrops(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	out := fs.String("out", "", "crop set file to write (required)")
	every := fs.Duration("every", 500*time.Millisecond, "time between the frames taken from a video")
	maxPer := fs.Int("max-per-video", 40, "at most this many crops from one video")
	byFolder := fs.Bool("group-by-folder", false, "images in one folder are one person (kept on one side of the train/validation split)")
	return func(ctx context.Context, args []string) error {
		if *out == "" || len(args) == 0 {
			return usageError{errors.New("detectors crops needs --out FILE and at least one SOURCE")}
		}
		var sources []trainer.Source
		for _, spec := range args {
			s, err := trainer.ParseSource(spec)
			if err != nil {
				return usageError{err}
			}
			s.GroupByFolder = *byFolder
			sources = append(sources, s)
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		t0 := time.Now()
		e, err := trainer.NewExtractor(filepath.Join(dir, "models"), trainer.ExtractOptions{FrameEvery: *every, MaxPerVideo: *maxPer,
			Progress: func(path string, n int) { fmt.Fprintf(os.Stderr, "\r\033[K%s: %d", filepath.Base(path), n) }})
		if err != nil {
			return err
		}
		defer e.Close()
		set, err := e.Extract(ctx, sources)
		fmt.Fprint(os.Stderr, "\r\033[K")
		if err != nil {
			return err
		}
		if err := set.Save(*out); err != nil {
			return err
		}
		for _, s := range set.Sources {
			fmt.Printf("%6d  %s\n", s.Crops, s.Spec)
		}
		fmt.Printf("%d crops in %s, %v\n", len(set.Crops), *out, time.Since(t0).Round(time.Second))
		return nil
	}
}

func cmdTrainFaceCNN(fs *flag.FlagSet) action {
	deps := fs.String("deps", "", depsUsage)
	crops := fs.String("crops", "", "comma-separated crop set files (from detectors crops; required unless --from or --generator-model gives data)")
	out := fs.String("out", "", "directory for face_cnn.onnx and its card face_cnn.json (required)")
	steps := fs.Int("steps", 3000, "training steps of the head (with --from, 0 trains none: the parent's weights measured on this data)")
	batch := fs.Int("batch", 64, "samples per step")
	samples := fs.Int("samples", 16000, "training samples made (half real, half fake), each run through the backbone once")
	cut := fs.String("cut", facecnn.DefaultConfig().Cut, "where the frozen backbone is cut: stride8 or stride16 (with --from: the parent's)")
	lr := fs.Float64("lr", 1e-3, "initial Adam learning rate (cosine decay to a tenth)")
	width := fs.Int("width", facecnn.DefaultConfig().Width, "channels of the first level (with --from: the parent's)")
	tune := fs.Int("tune", 0, fmt.Sprintf("backbone blocks before the cut trained with the head, from the backbone's own weights (0–%d; with --from: the parent's)", facecnn.MaxTune))
	seed := fs.Uint64("seed", 1, "seed of the split, the weights and the samples")
	backend := fs.String("backend", nn.BackendONNX, "GoMLX backend: onnx (ONNX Runtime) or go (pure Go, slow)")
	evalEvery := fs.Int("eval-every", 500, "steps between validation figures")
	seamWeight := fs.Float64("seam-weight", 1, "weight of the per-patch seam loss against the frame loss")
	fakeShare := fs.Float64("fake-crop-share", 0.3, "share of the fakes taken from fake crops (given ones, generator swaps) rather than made by self-blending")
	licences := fs.String("licences", "", "file of 'path-fragment<TAB>licence' lines: each source's licence, recorded in the model card")
	var rf retrainFlags
	rf.register(fs, facecnn.Name)
	return func(ctx context.Context, args []string) error {
		if *out == "" || len(args) != 0 || (*crops == "" && rf.from == "" && rf.genModel == "") {
			return usageError{errors.New("detectors train face_cnn needs --out DIR and --crops FILE (or --from, --generator-model)")}
		}
		if err := rf.checkTraining(*steps); err != nil {
			return err
		}
		dir, err := initGeneratorORT(*deps)
		if err != nil {
			return err
		}
		cfg := facecnn.Config{Cut: *cut, Width: *width, Tune: *tune}.WithDefaults()
		if err := cfg.Validate(); err != nil {
			return usageError{err}
		}
		backbonePath := filepath.Join(dir, "models", facecnn.BackboneFile)
		backbone, err := os.ReadFile(backbonePath)
		if err != nil {
			return fmt.Errorf("backbone: %w (run scripts/setup)", err)
		}
		bsum := sha256.Sum256(backbone)
		backboneSHA := hex.EncodeToString(bsum[:])

		// The parent: its architecture and weights are the start.
		var parent *models.Card
		var parentID string
		var from map[string]nn.Tensor
		if rf.from != "" {
			e, card, model, err := detectorParent(rf.data, facecnn.Name, rf.from)
			if err != nil {
				return err
			}
			parent, parentID = card, e.ID
			var pcfg facecnn.Config
			if err := json.Unmarshal(card.Config, &pcfg); err != nil {
				return fmt.Errorf("%s: its configuration: %w", e.ID, err)
			}
			pcfg = pcfg.WithDefaults()
			set := setFlags(fs)
			if set["cut"] && *cut != pcfg.Cut || set["width"] && *width != pcfg.Width || set["tune"] && *tune != pcfg.Tune {
				return usageError{fmt.Errorf("%s has cut %s, width %d and %d tuned blocks: a fine-tuned head keeps its parent's architecture", e.ID, pcfg.Cut, pcfg.Width, pcfg.Tune)}
			}
			cfg = pcfg
			// The head reads the backbone's features: on another backbone the
			// parent's weights would mean nothing.
			var tr struct {
				Backbone string `json:"backbone_sha256"`
			}
			if json.Unmarshal(card.Training, &tr) == nil && tr.Backbone != "" && tr.Backbone != backboneSHA {
				return fmt.Errorf("%s was trained on backbone features of sha256 %s; %s has %s", e.ID, tr.Backbone, backbonePath, backboneSHA)
			}
			if from, err = nn.ReadONNX(model, cfg.Plan()); err != nil {
				return fmt.Errorf("%s: %w", e.ID, err)
			}
		}
		var tunedStart map[string]nn.Tensor
		if cfg.Tune > 0 && from == nil {
			if tunedStart, err = facecnn.TunedWeights(backbone, cfg); err != nil {
				return err
			}
		}
		c, _ := cfg.FeatureCut()
		bb, err := facecnn.NewBackbone(backbone, c, 16, 2)
		if err != nil {
			return err
		}
		defer bb.Close()

		// The data: the sets given, the generator's swaps, the parent's sets.
		newSets, err := absPaths(*crops)
		if err != nil {
			return err
		}
		files, gen, missing, err := trainingSets(ctx, filepath.Join(dir, "models"), rf, *out, newSets, parentID, parent,
			func(videos []string, swapDir string) (string, error) {
				if len(videos) == 0 {
					return "", fmt.Errorf("the generator made no swap of the clips in %s", rf.genReal)
				}
				e, err := trainer.NewExtractor(filepath.Join(dir, "models"), trainer.ExtractOptions{})
				if err != nil {
					return "", err
				}
				gs, err := e.Extract(ctx, []trainer.Source{{Path: swapDir, Fake: true, Method: methodGeneratorSwap}})
				e.Close()
				if err != nil {
					return "", fmt.Errorf("crops of the generator's swaps: %w", err)
				}
				path := swapDir + ".crops"
				return path, gs.Save(path)
			})
		if err != nil {
			return err
		}
		set := &trainer.Set{Canvas: facecnn.Canvas}
		var cardSets []models.CardSet
		var sources []models.CardSource
		lic := readLicences(*licences)
		for _, f := range files {
			s, err := trainer.LoadSet(f.path)
			if err != nil {
				return err
			}
			set.Crops = append(set.Crops, s.Crops...)
			cs, err := cardSet(f.path, len(s.Crops), f.origin)
			if err != nil {
				return err
			}
			cardSets = append(cardSets, cs)
			for _, src := range s.Sources {
				sources = append(sources, models.CardSource{Spec: src.Spec, Items: src.Crops, Licence: licenceOf(lic, src.Spec), Origin: f.origin})
			}
		}
		be, err := nn.NewBackend(*backend)
		if err != nil {
			return usageError{err}
		}
		defer be.Finalize()
		trainSteps := *steps
		if trainSteps == 0 {
			trainSteps = -1 // the trainer's "none"
		}
		opts := trainer.Options{Config: cfg, Samples: *samples, Steps: trainSteps, BatchSize: *batch, LearningRate: *lr, Seed: *seed,
			EvalEvery: *evalEvery, SeamWeight: *seamWeight, FakeCropShare: *fakeShare, From: from, TunedStart: tunedStart,
			Progress: func(p trainer.Progress) {
				if p.Stage == "samples" {
					fmt.Fprintf(os.Stderr, "\r\033[Ksamples %d/%d", p.Step, p.Total)
					return
				}
				fmt.Fprintf(os.Stderr, "\r\033[Kstep %d/%d loss %.4f (%.2f steps/s)", p.Step, p.Total, p.Loss, p.StepsPerSec)
				if v := p.Validation; v != nil {
					fmt.Fprintf(os.Stderr, "\n  validation at step %d: self-blend AUC %.3f (degraded %.3f) %v, fake crops %v\n", p.Step, v.SelfBlend, v.SelfBlendDegraded, round3(v.ByRegion), round3(v.FakeCrops))
				}
			}}
		res, err := trainer.Train(ctx, be, bb, set, opts)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return err
		}
		created := time.Now().UTC()
		version := rf.version
		if version == "" {
			version = fmt.Sprintf("%s-%s-s%d", facecnn.Name, created.Format("20060102T1504"), *seed)
		}
		data, err := trainer.ONNX(res, version)
		if err != nil {
			return err
		}
		cfgJSON, _ := json.Marshal(res.Config)
		record := map[string]any{"backbone": facecnn.BackboneFile, "backbone_sha256": backboneSHA,
			"samples": *samples, "steps": res.Steps, "batch": *batch, "learning_rate": *lr, "seam_weight": *seamWeight,
			"fake_crop_share": *fakeShare, "final_loss": res.Loss,
			"seconds": res.Seconds, "backend": *backend, "train": res.Train, "validation": res.Validation}
		if res.Before != nil {
			record["parent_validation"] = res.Before
		}
		training, _ := json.Marshal(record)
		card := models.Card{Name: facecnn.Name, Version: version,
			Created: created, Seed: *seed, Command: commandLine(),
			Input: "features [N,28,28,32] (stride8) or [N,14,14,64] (stride16): MobileNetV2 int8 (" + facecnn.BackboneFile + ") cut there" +
				tunedNote(cfg) + ", on the face aligned by media/landmark.Align at 224 px, RGB normalised with ImageNet mean and std",
			Output: "patch_logits [N,14,14,1] (seam per patch); the frame logit is their log-mean-exp (facecnn.FrameLogit), sigmoid → P(manipulated)",
			Config: cfgJSON, Training: training, Data: sources, Sets: cardSets, Parent: parentID, ParentDataMissing: missing, Generator: gen}
		cardPath, err := models.WriteTrained(*out, &card, data)
		if err != nil {
			return err
		}
		v := res.Validation
		if parentID != "" {
			fmt.Printf("%s: fine-tuned from %s, %d steps in %.0f s, final loss %.4f, trained on %d real crops (%d groups) and %d fake crops\n",
				version, parentID, res.Steps, res.Seconds, res.Loss, res.Train.Reals, res.Train.Groups, res.Train.Fakes)
		} else {
			fmt.Printf("%s: %d steps in %.0f s, final loss %.4f, trained on %d real crops (%d groups) and %d fake crops\n",
				version, res.Steps, res.Seconds, res.Loss, res.Train.Reals, res.Train.Groups, res.Train.Fakes)
		}
		if b := res.Before; b != nil {
			fmt.Printf("parent on the same held-out groups: self-blend AUC %.3f (degraded %.3f); fake crops AUC %v\n",
				b.SelfBlend, b.SelfBlendDegraded, round3(b.FakeCrops))
		}
		fmt.Printf("held-out groups (%d real crops): self-blend AUC %.3f (degraded %.3f) %v; fake crops AUC %v (n %v)\n",
			v.Reals, v.SelfBlend, v.SelfBlendDegraded, round3(v.ByRegion), round3(v.FakeCrops), v.FakeCounts)
		for _, s := range cardSets {
			fmt.Printf("  %-9s %6d crops  %s\n", s.Origin, s.Items, s.Path)
		}
		fmt.Printf("wrote %s and %s\n", filepath.Join(*out, card.File), cardPath)
		return nil
	}
}

func round3(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = float64(int(v*1000+0.5)) / 1000
	}
	return out
}

// licenceOf returns the licence of a source spec: the entry of lic whose
// key the spec contains (keys are path fragments such as
// "data/videos/real/grid").
func licenceOf(lic map[string]string, spec string) string {
	for key, l := range lic {
		if strings.Contains(spec, key) {
			return l
		}
	}
	return ""
}

// readLicences reads "path-fragment<TAB>licence" lines; a missing file
// gives none.
func readLicences(path string) map[string]string {
	out := map[string]string{}
	if path == "" {
		return out
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		if spec, lic, ok := strings.Cut(line, "\t"); ok {
			out[strings.TrimSpace(spec)] = strings.TrimSpace(lic)
		}
	}
	return out
}

// tunedNote says, for a model card, where the frozen backbone stops when
// the network tunes its last blocks.
func tunedNote(cfg facecnn.Config) string {
	if cfg.Tune == 0 {
		return ""
	}
	return fmt.Sprintf(" less its last %d blocks, which this network holds and fine-tuned from the backbone's weights (dequantised, trained at %.2g× the head's rate)", cfg.Tune, facecnn.TunedRate)
}
