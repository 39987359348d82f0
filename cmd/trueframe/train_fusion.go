package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/registry"
)

const trainFusionHelp = `
Needs --out FILE. SOURCE as for eval (default: the shared dev manifest, its
train split; with --from, only the parent's sources). Measure the result
against its parent with trueframe models promote before it goes live.`

// cmdTrainFusion fits the fusion to labelled clips: every source's clips
// are analysed (or their cached analyses reused), each clip's subject face
// becomes an example, and a logistic model with thresholds at measured
// false-positive rates is written, with leave-one-method-out figures.
func cmdTrainFusion(fs *flag.FlagSet) action {
	var ef evalFlags
	fs.StringVar(&ef.split, "split", "train", "dev-manifest split to fit on: train (never test)")
	out := fs.String("out", "", "fusion model file to write (required)")
	version := fs.String("version", "", "version of the fitted model (default: fusion-<date>)")
	l2 := fs.Float64("l2", 0.5, "ridge penalty on the weights")
	susp := fs.Float64("suspicious-fpr", 0.10, "share of training reals a suspicious verdict may catch")
	manip := fs.Float64("manipulated-fpr", 0, "share of training reals a likely_manipulated verdict may catch (0: none)")
	permissive := fs.Bool("permissive", false, "fit only on clips whose stated licence lets the model ship (MIT, Apache-2.0, BSD, CC0, CC BY; clips the project made)")
	from := fs.String("from", "", `refit a registered fusion: "active" or a version id; the clips it was fitted on are added to SOURCE...`)
	data := fs.String("data", "data", "data directory holding the model registry (for --from)")
	skipMissing := fs.Bool("skip-missing-parent-data", false, "with --from: fit without the parent's sources that are not here (they are listed in the fit record) instead of failing")
	trainedOn := trainedOnFlag{}
	fs.Var(trainedOn, "trained-on", "DETECTOR=METHOD,...: fake methods the learned detector was trained on; the fit ignores its opinion on those fakes (repeatable)")
	var rf retrainFlags
	rf.registerGenerator(fs)
	cards := ef.registerAnalysis(fs)
	return func(ctx context.Context, args []string) error {
		if *out == "" {
			return usageError{errors.New("detectors train fusion needs --out FILE")}
		}
		if err := rf.check(); err != nil {
			return err
		}
		if ef.split == "test" || ef.split == "all" {
			return usageError{errors.New("the fusion is never fitted on the dev test split")}
		}
		sources := args
		var parent *registry.Entry
		var parentModel *models.Fusion
		var missing []string // the parent's sources not found here
		if *from != "" {
			p, m, parentSources, parentPermissive, err := fusionParent(*data, *from)
			if err != nil {
				return err
			}
			parent, parentModel = &p, m
			for _, src := range parentSources {
				if slices.Contains(sources, src) {
					continue
				}
				if _, err := os.Stat(src); err != nil {
					if !*skipMissing {
						return fmt.Errorf("%s was fitted on %s, which is not here (%w): make it again, or refit without it (--skip-missing-parent-data)", p.ID, src, err)
					}
					missing = append(missing, src)
					fmt.Fprintf(os.Stderr, "%s was fitted on %s, which is not here: fitting without it\n", p.ID, src)
					continue
				}
				sources = append(sources, src)
			}
			if parentPermissive && !*permissive {
				*permissive = true
				fmt.Fprintf(os.Stderr, "%s was fitted on permissively licensed clips only: so is its child\n", p.ID)
			}
		}
		if len(sources) == 0 {
			sources = []string{defaultDevManifest()}
		}
		// The generator's swaps are one more source: a folder of fakes (its
		// real/ is empty: the reals come from the other sources), which a
		// refit from this fusion finds again among its sources.
		var gen *models.CardGenerator
		if rf.genModel != "" {
			deps, err := initGeneratorORT(ef.deps)
			if err != nil {
				return err
			}
			genDir, err := filepath.Abs(strings.TrimSuffix(*out, filepath.Ext(*out)) + "." + methodGeneratorSwap)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(genDir, eval.Real), 0o755); err != nil {
				return err
			}
			videos, g, err := generatorSwaps(ctx, filepath.Join(deps, "models"), rf, filepath.Join(genDir, eval.Fake, methodGeneratorSwap))
			if err != nil {
				return err
			}
			if len(videos) == 0 {
				return fmt.Errorf("the generator made no swap of the clips in %s", rf.genReal)
			}
			gen = g
			sources = append(sources, genDir)
		}
		var clips []eval.Clip
		for _, src := range sources {
			c, err := eval.Load(src, ef.split)
			if err != nil {
				return err
			}
			for _, clip := range c {
				if !*permissive || clip.Permissive() {
					clips = append(clips, clip)
				}
			}
		}
		base, err := fusion.New(parentModel) // nil: the embedded fusion
		if err != nil {
			return err
		}
		r, err := newEvalRunner(ctx, ef, cards, base)
		if err != nil {
			return err
		}
		defer r.Close()
		if _, err := r.scoreAll(ctx, clips, nil); err != nil {
			return err
		}
		minFrames := base.Model().Verdict.MinFaceFrames
		var examples []fusion.Example
		skipped := 0
		for _, c := range clips {
			rep := r.reports[c.Path]
			if rep == nil {
				skipped++
				continue
			}
			ex, ok := eval.Example(c, rep, minFrames)
			if !ok {
				skipped++
				continue
			}
			examples = append(examples, ex)
		}
		if *version == "" {
			*version = "fusion-" + time.Now().UTC().Format("20060102T1504")
		}
		opts := fusion.FitOptions{L2: *l2, SuspiciousFPR: *susp, ManipulatedFPR: *manip, Base: base.Model(), Version: *version, TrainedOn: trainedOn}
		m, rep, err := fusion.Fit(examples, opts)
		if err != nil {
			return err
		}
		// Leaving a method out needs another to fit on: with one fake method
		// there are no cross-validated figures, and the model card says so.
		methods := map[string]bool{}
		for _, ex := range examples {
			if ex.Fake {
				methods[ex.Method] = true
			}
		}
		var cv *eval.CVResult
		noCV := "none: one fake method"
		if len(methods) > 1 {
			cv, err = eval.CrossValidateByMethod(clips, r.reports, minFrames, opts)
			// Too few clips for a fold is no reason to refuse the fit itself:
			// the card says there are no such figures, and why.
			if errors.Is(err, fusion.ErrFitData) {
				cv, noCV = nil, "none: "+err.Error()
			} else if err != nil {
				return err
			}
		}
		// The model names what it was fitted on and the detector versions.
		var fit map[string]any
		_ = json.Unmarshal(m.Fit, &fit)
		fit["sources"] = sources
		if parent != nil {
			fit["parent"] = parent.ID
		}
		if len(missing) > 0 {
			fit["parent_sources_missing"] = missing
		}
		if gen != nil {
			fit["generator_model"] = gen
		}
		fit["split"] = ef.split
		fit["permissive_only"] = *permissive
		fit["detector_versions"] = r.models.Detectors
		fit["command"] = commandLine()
		if cv != nil {
			fit["cv_method_mean_auc"], fit["cv_worst_method"], fit["cv_worst_auc"] = cv.MeanAUC, cv.Worst, cv.WorstAUC
		} else {
			fit["cv"] = noCV
		}
		m.Fit, _ = json.Marshal(fit)
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}

		fmt.Printf("%s: fitted on %d clips (%d real, %d fake; %d without a usable face left out)\n", m.Version, rep.Examples, rep.Reals, rep.Fakes, skipped)
		var names []string
		for n := range rep.Weights {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Printf("  weight %-10s %.3f\n", n, rep.Weights[n])
		}
		fmt.Printf("  bias %.3f; training AUC %.3f (methods weighted equally)\n", rep.Bias, rep.TrainAUC)
		fmt.Printf("  suspicious from %.3f: %.0f%% of training reals, %.0f%% of fakes\n", rep.SuspiciousFrom, 100*rep.SuspiciousFPR, 100*rep.SuspiciousRecall)
		fmt.Printf("  likely_manipulated from %.3f: %.0f%% of training reals, %.0f%% of fakes, balanced precision %.2f\n",
			rep.ManipulatedFrom, 100*rep.ManipulatedFPR, 100*rep.ManipulatedRecall, rep.ManipulatedPrecision)
		if cv != nil {
			printCV(os.Stdout, cv)
		} else {
			fmt.Println("no leave-one-method-out figures:", strings.TrimPrefix(noCV, "none: "))
		}
		fmt.Printf("wrote %s\n", *out)
		return nil
	}
}

// fusionParent reads the registered fusion id ("active": the active one)
// and the sources and licence filter it was fitted on.
func fusionParent(data, id string) (e registry.Entry, m *models.Fusion, sources []string, permissive bool, err error) {
	reg, err := registry.Open(registryDir(data))
	if err != nil {
		return e, nil, nil, false, err
	}
	if id == "active" {
		active, err := reg.Active()
		if err != nil {
			return e, nil, nil, false, err
		}
		id = active[registry.KindFusion]
	}
	if e, err = reg.Get(id); err != nil {
		return e, nil, nil, false, err
	}
	if e.Kind != registry.KindFusion {
		return e, nil, nil, false, usageError{fmt.Errorf("--from %s: a %s model, not a fusion", id, e.Kind)}
	}
	if m, err = models.LoadFusion(reg.Path(e)); err != nil {
		return e, nil, nil, false, err
	}
	var fit struct {
		Sources    []string `json:"sources"`
		Permissive bool     `json:"permissive_only"`
	}
	if len(m.Fit) > 0 {
		if err := json.Unmarshal(m.Fit, &fit); err != nil {
			return e, nil, nil, false, fmt.Errorf("%s: its fit record: %w", id, err)
		}
	}
	return e, m, fit.Sources, fit.Permissive, nil
}

// trainedOnFlag collects --trained-on DETECTOR=METHOD,... values.
type trainedOnFlag map[string][]string

func (f trainedOnFlag) String() string {
	var parts []string
	for d, ms := range f {
		parts = append(parts, d+"="+strings.Join(ms, ","))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (f trainedOnFlag) Set(v string) error {
	det, methods, ok := strings.Cut(v, "=")
	if !ok || det == "" || methods == "" {
		return fmt.Errorf("want DETECTOR=METHOD,..., got %q", v)
	}
	for _, m := range strings.Split(methods, ",") {
		if m = strings.TrimSpace(m); m != "" {
			f[det] = append(f[det], m)
		}
	}
	return nil
}
