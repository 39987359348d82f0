package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/models"
)

type evalFlags struct {
	split, detectors, fusion, cache, deps, plot, cv, maxMemory, compare string
	json, perturb, fresh                                                bool
	timeout                                                             time.Duration
}

// registerAnalysis registers the flags that say how clips are analysed
// (shared by eval and detectors train fusion) and returns the map the
// --model flags fill.
func (ef *evalFlags) registerAnalysis(fs *flag.FlagSet) map[string]string {
	fs.StringVar(&ef.detectors, "detectors", "", "comma-separated detectors to run (default: the standard set; known: "+strings.Join(scan.KnownDetectors(), ", ")+")")
	fs.StringVar(&ef.cache, "cache", filepath.Join(envOr("TRUEFRAME_DATA", "data"), "eval-cache"), "where analyses and re-encoded copies are kept, keyed by file and detector versions")
	fs.BoolVar(&ef.fresh, "fresh", false, "analyse every clip again instead of reusing cached analyses")
	fs.StringVar(&ef.deps, "deps", "", depsUsage)
	fs.StringVar(&ef.maxMemory, "max-memory", "6GiB", "address-space cap of the worker process")
	fs.DurationVar(&ef.timeout, "timeout", 30*time.Minute, "give up on one clip after this long")
	cards := map[string]string{}
	fs.Func("model", "NAME=CARD: run the model of this model card for learned detector NAME instead of the embedded one (repeatable)", func(v string) error {
		name, path, ok := strings.Cut(v, "=")
		if !ok || name == "" || path == "" {
			return errors.New("want NAME=CARD.json")
		}
		abs, err := filepath.Abs(path)
		cards[name] = abs
		return err
	})
	return cards
}

// defaultDevManifest is the shared dev set's manifest.
func defaultDevManifest() string {
	return filepath.Join(envOr("TRUEFRAME_SHARED", filepath.Join("..", "shared")), "data", "videos", "dev", "manifest.tsv")
}

const evalHelp = `
SOURCE is a dev-set manifest.tsv (default: $TRUEFRAME_SHARED or ../shared,
data/videos/dev/manifest.tsv), a generator dataset manifest.json, or a folder
with real/ and fake/<method>/. Prints video-level AUC overall, per kind and
per method, per-detector AUC, the equal error rate, accuracy, precision and
recall at the verdict thresholds, and a per-clip table.`

// cmdEval measures detection on labelled clips: the one way this project
// measures it.
func cmdEval(fs *flag.FlagSet) action {
	var ef evalFlags
	fs.StringVar(&ef.split, "split", "test", "dev-manifest split: test, train, all, or heldout (the train clips no --permissive fit uses, and the wild real clips of ../shared/data/train/real_videos no model learned from: choose candidates there, not on test)")
	fs.StringVar(&ef.fusion, "fusion", "", "fusion model file (default: the embedded one)")
	fs.BoolVar(&ef.json, "json", false, "print the figures as one JSON object")
	fs.StringVar(&ef.plot, "plot", "", "draw ROC curves (fused and per detector) into this PNG file")
	fs.BoolVar(&ef.perturb, "perturb", false, "repeat on copies re-encoded with H.264 CRF 35 and at half resolution")
	fs.StringVar(&ef.cv, "cv", "", `"method": leave-one-method-out figures of the fitted fusion over the clips`)
	fs.StringVar(&ef.compare, "compare", "", "an earlier eval --json output: set its overall, per-kind and per-method AUCs and verdict counts beside these, run by run (original, each perturbation)")
	cards := ef.registerAnalysis(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 1 {
			return usageError{errors.New("eval takes one SOURCE")}
		}
		src := defaultDevManifest()
		if len(args) == 1 {
			src = args[0]
		}
		switch ef.split {
		case "test", "train", "all", eval.SplitHeldOut:
		default:
			return usageError{fmt.Errorf("--split %q: want test, train, all or %s", ef.split, eval.SplitHeldOut)}
		}
		if ef.cv != "" && ef.cv != "method" {
			return usageError{fmt.Errorf("--cv %q: only \"method\" is known", ef.cv)}
		}
		var base *evalOutput
		if ef.compare != "" {
			// Read before the analyses: a wrong file should not cost them.
			var err error
			if base, err = readEvalOutput(ef.compare); err != nil {
				return err
			}
		}
		clips, err := eval.Load(src, ef.split)
		if err != nil {
			return err
		}
		fuser, err := loadFuser(ef.fusion)
		if err != nil {
			return err
		}
		r, err := newEvalRunner(ctx, ef, cards, fuser)
		if err != nil {
			return err
		}
		defer r.Close()

		started := time.Now()
		scored, err := r.scoreAll(ctx, clips, nil)
		if err != nil {
			return err
		}
		th := thresholds(fuser)
		sum := eval.Summarize(scored, th)
		sum.TotalSeconds = time.Since(started).Seconds()
		out := evalOutput{Source: src, Split: ef.split, Models: r.models, Summary: sum}
		out.Models.FusionVersion = fuser.Model().Version

		if ef.perturb {
			for _, p := range eval.Perturbations() {
				ps, err := r.scoreAll(ctx, clips, &p)
				if err != nil {
					return err
				}
				out.Perturbed = append(out.Perturbed, perturbedSummary{Perturbation: p.Name, Desc: p.Desc, Summary: eval.Summarize(ps, th)})
			}
		}
		if ef.cv == "method" {
			cv, err := eval.CrossValidateByMethod(clips, r.reports, fuser.Model().Verdict.MinFaceFrames, fusion.FitOptions{Base: fuser.Model()})
			if err != nil {
				return err
			}
			out.CV = cv
		}
		if base != nil {
			out.Comparison = compareRuns(ef.compare, *base, out)
		}
		if ef.plot != "" {
			if err := eval.PlotROC(ef.plot, sum, fmt.Sprintf("%s (%s split)", filepath.Base(src), ef.split)); err != nil {
				return err
			}
		}
		if ef.json {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		printEval(os.Stdout, out)
		return nil
	}
}

func loadFuser(path string) (*fusion.Fuser, error) {
	var m *models.Fusion
	if path != "" {
		var err error
		if m, err = models.LoadFusion(path); err != nil {
			return nil, err
		}
	}
	return fusion.New(m)
}

func thresholds(f *fusion.Fuser) eval.Thresholds {
	v := f.Model().Verdict
	return eval.Thresholds{Suspicious: v.AuthenticBelow, LikelyManipulated: v.ManipulatedFrom}
}

type evalOutput struct {
	Source    string             `json:"source"`
	Split     string             `json:"split"`
	Models    scan.ModelInfo     `json:"models"`
	Summary   eval.Summary       `json:"summary"`
	Perturbed []perturbedSummary `json:"perturbed,omitempty"`
	CV        *eval.CVResult     `json:"cv,omitempty"`
	// Comparison sets these figures beside an earlier output's (--compare).
	Comparison *evalComparison `json:"comparison,omitempty"`
}

type perturbedSummary struct {
	Perturbation string       `json:"perturbation"`
	Desc         string       `json:"description"`
	Summary      eval.Summary `json:"summary"`
}

// newEvalRunner starts a warm worker for the detectors ef names and loads
// the models once.
func newEvalRunner(ctx context.Context, ef evalFlags, cards map[string]string, fuser *fusion.Fuser) (*evalRunner, error) {
	maxMem, err := parseBytes(ef.maxMemory)
	if err != nil {
		return nil, usageError{fmt.Errorf("--max-memory: %w", err)}
	}
	deps, err := depsDir(ef.deps)
	if err != nil {
		return nil, err
	}
	var names []string
	if ef.detectors != "" {
		names = strings.Split(ef.detectors, ",")
	}
	cardFiles := map[string]string{}
	for name, path := range cards {
		c, _, err := models.LoadCard(path)
		if err != nil {
			return nil, fmt.Errorf("--model %s: %w", name, err)
		}
		cardFiles[name] = c.SHA256
	}
	pool := isolate.NewPool(isolate.PoolOptions{Worker: workerOptions(deps, maxMem)})
	r := &evalRunner{cardFiles: cardFiles, pool: pool, pooled: &scan.Pooled{Pool: pool, Base: scan.Request{Detectors: names, ModelCards: cards}},
		fuser: fuser, cacheRoot: ef.cache, fresh: ef.fresh, timeout: ef.timeout, log: os.Stderr}
	if err := r.start(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return r, nil
}

// Close stops the worker.
func (r *evalRunner) Close() error { return r.pool.Close() }

// evalRunner analyses clips in a warm worker, keeping every analysis in a
// cache keyed by the file's SHA-256 and the versions of the detectors and
// models that made it; the fusion is applied afresh to each, so a new
// fusion model is evaluated without analysing anything again.
type evalRunner struct {
	pool      *isolate.Pool
	pooled    *scan.Pooled
	fuser     *fusion.Fuser
	cacheRoot string
	fresh     bool
	timeout   time.Duration
	log       io.Writer

	// cardFiles are the SHA-256s of the --model files by detector: they key
	// the cache beside the versions, which two trainings in the same minute
	// with the same seed share.
	cardFiles map[string]string
	models    scan.ModelInfo
	cacheDir  string
	// reports keeps the analyses of the unperturbed clips, by path, for
	// cross-validation.
	reports map[string]*scan.Report
}

// evalCacheKey is what names a cache of analyses: the versions of the
// models that made them, the SHA-256s of the --model files (cardFiles, by
// detector) and analysisPipeline. The fusion is applied afresh to cached
// analyses, so its version is no part of it.
func evalCacheKey(info scan.ModelInfo, cardFiles map[string]string) []byte {
	info.FusionVersion = ""
	b, _ := json.Marshal(struct {
		scan.ModelInfo
		ModelFiles map[string]string `json:"model_files,omitempty"`
		Pipeline   string            `json:"pipeline"`
	}{info, cardFiles, analysisPipeline})
	return b
}

// analysisPipeline names the code between a file and the detectors —
// decoding, face finding, tracking, alignment — in the cache key: a change
// there that moves scores must bump it, or cached analyses made before the
// change would be reused. (Detectors and models carry their own versions.)
const analysisPipeline = "2026-12-06 portable FFmpeg code, exact int8 products, faces in dim frames found on a brightened copy"

// start loads the models once in the worker; their versions name the cache.
func (r *evalRunner) start(ctx context.Context) error {
	info, err := r.pooled.Probe(ctx)
	if err != nil {
		return fmt.Errorf("loading the models: %w", err)
	}
	r.models = info
	b := evalCacheKey(info, r.cardFiles)
	sum := sha256.Sum256(b)
	r.cacheDir = filepath.Join(r.cacheRoot, hex.EncodeToString(sum[:6]))
	r.reports = map[string]*scan.Report{}
	if err := os.MkdirAll(r.cacheDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.cacheDir, "models.json"), b, 0o644)
}

// scoreAll scores every clip, on its perturbed copy when p is not nil. A
// clip that cannot be analysed is listed with its error, not fatal.
func (r *evalRunner) scoreAll(ctx context.Context, clips []eval.Clip, p *eval.Perturbation) ([]eval.Scored, error) {
	out := make([]eval.Scored, 0, len(clips))
	minFrames := r.fuser.Model().Verdict.MinFaceFrames
	for i, c := range clips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		label := filepath.Base(c.Path)
		if p != nil {
			label += " (" + p.Name + ")"
		}
		fmt.Fprintf(r.log, "\r\033[Keval: %d/%d %s", i+1, len(clips), label)
		rep, cached, err := r.analyse(ctx, c.Path, p)
		if err != nil {
			fmt.Fprintf(r.log, "\r\033[Keval: %s: %s\n", label, describeError(err))
			out = append(out, eval.Scored{Clip: c, Err: describeError(err)})
			continue
		}
		scan.Refuse(rep, r.fuser)
		s := eval.FromReport(c, rep, minFrames)
		if cached {
			s.Seconds = 0
		}
		if p == nil {
			r.reports[c.Path] = rep
		}
		out = append(out, s)
	}
	fmt.Fprint(r.log, "\r\033[K")
	return out, nil
}

// analyse returns the analysis of path (or of its perturbed copy), from the
// cache when it holds one.
func (r *evalRunner) analyse(ctx context.Context, path string, p *eval.Perturbation) (*scan.Report, bool, error) {
	sum, err := models.FileSHA256(path)
	if err != nil {
		return nil, false, err
	}
	name := sum
	if p != nil {
		copyPath := filepath.Join(r.cacheRoot, "perturbed", sum+"-"+p.Name+".mp4")
		if err := p.Apply(ctx, path, copyPath); err != nil {
			return nil, false, err
		}
		path, name = copyPath, sum+"-"+p.Name
	}
	cachePath := filepath.Join(r.cacheDir, name+".json")
	if !r.fresh {
		if b, err := os.ReadFile(cachePath); err == nil {
			var rep scan.Report
			if json.Unmarshal(b, &rep) == nil {
				return &rep, true, nil
			}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rep, err := r.pooled.Analyze(cctx, path, "", nil)
	if err != nil {
		return nil, false, err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, false, err
	}
	tmp := cachePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, false, err
	}
	return rep, false, os.Rename(tmp, cachePath)
}

// evalComparison is eval's figures set beside an earlier run's, run by run.
type evalComparison struct {
	Base     string          `json:"base"` // the earlier output's file
	BaseInfo string          `json:"base_models"`
	Runs     []runComparison `json:"runs"`
}

// runComparison compares one run: "original" or a perturbation's name.
type runComparison struct {
	Run string `json:"run"`
	eval.Comparison
}

// readEvalOutput reads an eval --json output.
func readEvalOutput(path string) (*evalOutput, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	var out evalOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("--compare %s: not an eval --json output: %w", path, err)
	}
	if out.Summary.Clips == 0 {
		return nil, fmt.Errorf("--compare %s: not an eval --json output (no clips)", path)
	}
	return &out, nil
}

// compareRuns compares the runs both outputs have: the original clips and
// each perturbation measured in both.
func compareRuns(path string, base, cur evalOutput) *evalComparison {
	c := &evalComparison{Base: path, BaseInfo: modelLine(base.Models)}
	c.Runs = append(c.Runs, runComparison{Run: "original", Comparison: eval.Compare(base.Summary, cur.Summary)})
	for _, p := range cur.Perturbed {
		for _, b := range base.Perturbed {
			if b.Perturbation == p.Perturbation {
				c.Runs = append(c.Runs, runComparison{Run: p.Perturbation, Comparison: eval.Compare(b.Summary, p.Summary)})
			}
		}
	}
	return c
}
