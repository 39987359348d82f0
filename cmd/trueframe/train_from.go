package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/trueframe/trueframe/generator/dataset"
	genmodel "github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/registry"
)

// methodGeneratorSwap labels the fakes a --generator-model made: the
// generator's own name for them (autoencoder_swap) would mix them, in the
// figures per method, with swaps made elsewhere.
const methodGeneratorSwap = "generator_swap"

// retrainFlags are the flags the learned detectors' trainers share for
// fine-tuning a registered version and for adding a generator's fakes.
type retrainFlags struct {
	from, data, version string
	skipMissing         bool
	genModel, genReal   string
	genMaxFrames        int
}

func (rf *retrainFlags) register(fs *flag.FlagSet, kind string) {
	fs.StringVar(&rf.from, "from", "", `fine-tune a registered `+kind+` version: "active" or a version id; its weights are the start and the sets it was trained on are added to the new ones`)
	fs.StringVar(&rf.data, "data", "data", "data directory holding the model registry (for --from)")
	fs.BoolVar(&rf.skipMissing, "skip-missing-parent-data", false, "with --from: train without the parent's sets that are not here, or changed (the card lists them), instead of failing")
	fs.StringVar(&rf.version, "version", "", "version of the trained model (default: "+kind+"-<date>-s<seed>)")
	rf.registerGenerator(fs)
}

func (rf *retrainFlags) registerGenerator(fs *flag.FlagSet) {
	fs.StringVar(&rf.genModel, "generator-model", "", "a face-swap generator model (generate train's MODELDIR): its swaps of the clips in --generator-real are added as fakes ("+methodGeneratorSwap+")")
	fs.StringVar(&rf.genReal, "generator-real", "", "folder of real clips the generator's swaps are made over (with --generator-model)")
	fs.IntVar(&rf.genMaxFrames, "generator-max-frames", 0, "at most this many frames per swap (0: all)")
}

// checkTraining is check for a network trainer, whose --steps 0 keeps
// the parent's weights and so needs --from.
func (rf *retrainFlags) checkTraining(steps int) error {
	if steps == 0 && rf.from == "" {
		return usageError{errors.New("--steps 0 needs --from: there are no weights to keep")}
	}
	return rf.check()
}

// check refuses flags that do not go together.
func (rf *retrainFlags) check() error {
	if (rf.genModel == "") != (rf.genReal == "") {
		return usageError{errors.New("--generator-model and --generator-real go together")}
	}
	if rf.skipMissing && rf.from == "" {
		return usageError{errors.New("--skip-missing-parent-data goes with --from")}
	}
	return nil
}

// detectorParent returns the registered version id ("active": the active
// one) of the learned detector kind, with its model card and model file.
// An embedded version is read from the registry too, which holds a copy of
// it from the first time it opened.
func detectorParent(data, kind, id string) (registry.Entry, *models.Card, []byte, error) {
	reg, err := registry.Open(registryDir(data))
	if err != nil {
		return registry.Entry{}, nil, nil, err
	}
	if id == "active" {
		active, err := reg.Active()
		if err != nil {
			return registry.Entry{}, nil, nil, err
		}
		if id = active[kind]; id == "" {
			return registry.Entry{}, nil, nil, fmt.Errorf("no active %s version", kind)
		}
	}
	e, err := reg.Get(id)
	if err != nil {
		return e, nil, nil, err
	}
	if e.Kind != kind {
		return e, nil, nil, usageError{fmt.Errorf("--from %s: a %s model, not %s", id, e.Kind, kind)}
	}
	card, model, err := models.LoadCard(reg.Path(e))
	if err != nil {
		return e, nil, nil, fmt.Errorf("--from %s: %w", id, err)
	}
	return e, card, model, nil
}

// parentSets returns the sets the parent was trained on that are here
// unchanged, as the child's (origin parent), leaving out those in given
// (the same files given again as new ones). The others are described in
// missing: a set that is absent or whose hash changed, or — for a card
// that records no sets, such as those of the shipped models — each of its
// data sources, which it records only as descriptions.
func parentSets(parentID string, card *models.Card, given []string) (found []models.CardSet, missing []string) {
	if len(card.Sets) == 0 {
		for _, d := range card.Data {
			missing = append(missing, fmt.Sprintf("%s (recorded as a description only: make its set again and give it as new data)", d.Spec))
		}
		if len(missing) == 0 {
			missing = append(missing, parentID+" records no training data")
		}
		return nil, missing
	}
	for _, s := range card.Sets {
		if slices.Contains(given, s.Path) {
			continue
		}
		sum, err := models.FileSHA256(s.Path)
		switch {
		case err != nil:
			missing = append(missing, fmt.Sprintf("%s (%v)", s.Path, err))
		case sum != s.SHA256:
			missing = append(missing, fmt.Sprintf("%s (changed since: sha256 %s, recorded %s)", s.Path, sum, s.SHA256))
		default:
			s.Origin = models.SetParent
			found = append(found, s)
		}
	}
	return found, missing
}

// checkParentData fails when some of the parent's data is missing, unless
// skip; then it says what the child trains without.
func checkParentData(parentID string, missing []string, skip bool) error {
	if len(missing) == 0 {
		return nil
	}
	if !skip {
		return fmt.Errorf("%s was trained on data that is not here:\n  %s\nmake it again, or train without it (--skip-missing-parent-data, recorded in the card)",
			parentID, strings.Join(missing, "\n  "))
	}
	for _, m := range missing {
		fmt.Fprintf(os.Stderr, "%s was trained on %s: training without it\n", parentID, m)
	}
	return nil
}

// absPaths returns the comma-separated list as absolute paths: a card
// names its sets so that a child finds them from any directory.
func absPaths(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(list, ",") {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// cardSet describes the set file at path for a card.
func cardSet(path string, items int, origin string) (models.CardSet, error) {
	sum, err := models.FileSHA256(path)
	return models.CardSet{Path: path, SHA256: sum, Items: items, Origin: origin}, err
}

// generatorSwaps makes the generator model's face swaps of every clip in
// real into out (the swaps only, no self-blends) and returns the videos
// made and what identifies the model in a card. ONNX Runtime must already
// be initialised.
func generatorSwaps(ctx context.Context, faceModels string, rf retrainFlags, out string) ([]string, *models.CardGenerator, error) {
	gen, err := generatorRecord(rf.genModel)
	if err != nil {
		return nil, nil, err
	}
	man, err := dataset.Build(ctx, dataset.Options{Real: rf.genReal, Out: out, ModelDir: rf.genModel, FaceModels: faceModels,
		MaxFrames: rf.genMaxFrames, SwapsOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("generator swaps: %w", err)
	}
	for clip, why := range man.Failed {
		fmt.Fprintf(os.Stderr, "no swap of %s: %s\n", clip, why)
	}
	var videos []string
	for _, it := range man.Items {
		videos = append(videos, filepath.Join(out, it.File))
	}
	real, err := filepath.Abs(rf.genReal)
	if err != nil {
		return nil, nil, err
	}
	gen.Real, gen.Swaps = real, len(videos)
	fmt.Fprintf(os.Stderr, "%d swaps by generator model %s in %s\n", len(videos), gen.ID, out)
	return videos, gen, nil
}

// generatorRecord identifies the generator model in dir: its id and the
// hashes of the files a swap reads (the decoders and the metadata that
// gives their configuration).
func generatorRecord(dir string) (*models.CardGenerator, error) {
	meta, err := genmodel.ReadMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("--generator-model: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	g := &models.CardGenerator{Dir: abs, ID: meta.ID, Files: map[string]string{}}
	for _, name := range []string{genmodel.MetaFile, genmodel.DecoderFile(genmodel.A), genmodel.DecoderFile(genmodel.B)} {
		sum, err := models.FileSHA256(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && name != genmodel.MetaFile {
			continue // a model may have one decoder
		}
		if err != nil {
			return nil, fmt.Errorf("--generator-model: %w", err)
		}
		g.Files[name] = sum
	}
	if len(g.Files) < 2 {
		return nil, fmt.Errorf("--generator-model: %w: %s has no exported decoder (run generate train to its end)", genmodel.ErrNoModel, dir)
	}
	names := make([]string, 0, len(g.Files))
	for n := range g.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s %s\n", n, g.Files[n])
	}
	g.SHA256 = hex.EncodeToString(h.Sum(nil))
	return g, nil
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// setFile is one set file a training run reads, and where it came from
// (models.SetNew, SetGenerator, SetParent).
type setFile struct{ path, origin string }

// trainingSets lists the set files a detector's training reads: the ones
// given (newSets), the one of the generator's swaps when rf names a
// generator model (genSet makes it from the swap videos in swapDir and
// returns its path), and the parent's sets that are here — failing on
// missing ones unless rf says to skip them, which are then returned.
func trainingSets(ctx context.Context, faceModels string, rf retrainFlags, out string, newSets []string,
	parentID string, parent *models.Card, genSet func(videos []string, swapDir string) (string, error),
) (files []setFile, gen *models.CardGenerator, missing []string, err error) {
	for _, p := range newSets {
		files = append(files, setFile{p, models.SetNew})
	}
	if rf.genModel != "" {
		swapDir, err := filepath.Abs(filepath.Join(out, methodGeneratorSwap))
		if err != nil {
			return nil, nil, nil, err
		}
		var videos []string
		if videos, gen, err = generatorSwaps(ctx, faceModels, rf, swapDir); err != nil {
			return nil, nil, nil, err
		}
		path, err := genSet(videos, swapDir)
		if err != nil {
			return nil, nil, nil, err
		}
		files = append(files, setFile{path, models.SetGenerator})
	}
	if parent != nil {
		var found []models.CardSet
		found, missing = parentSets(parentID, parent, newSets)
		if err := checkParentData(parentID, missing, rf.skipMissing); err != nil {
			return nil, nil, nil, err
		}
		for _, s := range found {
			files = append(files, setFile{s.Path, models.SetParent})
		}
	}
	return files, gen, missing, nil
}
