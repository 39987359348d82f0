package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/trueframe/trueframe/detectors/eval"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/registry"
)

// gateReport is what promote measured: the parent's and the child's
// figures on the same clips, and the methods on which the child is worse.
type gateReport struct {
	Source      string            `json:"source"`
	Split       string            `json:"split,omitempty"`
	Clips       int               `json:"clips"`
	Tolerance   float64           `json:"tolerance"`
	Parent      gateFigures       `json:"parent"`
	Child       gateFigures       `json:"child"`
	Regressions []eval.Regression `json:"regressions"`
	// Alone names the detector whose own figures were compared, because
	// the active fusion gives it no weight (see eval.Summary.Alone); empty
	// when the fused figures were.
	Alone string `json:"measured_alone,omitempty"`
	// Test holds the new version's figures on the dev test split
	// (--test-figures): for the record, not for the decision.
	Test *gateFigures `json:"dev_test,omitempty"`
	// Registered is whether the version was added (Forced says why when
	// it was despite regressions); Active whether it was activated.
	Registered bool   `json:"registered"`
	Forced     string `json:"forced,omitempty"`
	Active     bool   `json:"active,omitempty"`
}

type gateFigures struct {
	ID      string                 `json:"id"`
	AUC     eval.Figure            `json:"auc"`
	Methods map[string]eval.Figure `json:"methods"`
	Summary *eval.Summary          `json:"-"`
}

func figuresOf(id string, s eval.Summary) gateFigures {
	g := gateFigures{ID: id, AUC: s.AUC, Methods: map[string]eval.Figure{}, Summary: &s}
	for _, m := range s.Methods {
		if m.Label == eval.Fake {
			g.Methods[m.Method] = m.AUC
		}
	}
	return g
}

const promoteHelp = `
FILE is a learned detector's model card or a fusion model; SOURCE the clips
both versions are measured on (as eval takes them; default: the dev set's
train split). Use clips the new version was not trained on. The version is
added only when its AUC is not lower than its parent's by more than
--tolerance overall and on every method; the comparison is kept in its
registry entry. A learned detector is measured inside the active fusion,
or on its own scores when that fusion gives it no weight.`

// cmdModelsPromote evaluates a new model version against the active one
// (or --parent) on the same clips and adds it to the registry only when it
// is not worse on any method by more than --tolerance.
func cmdModelsPromote(fs *flag.FlagSet) action {
	var ef evalFlags
	data := fs.String("data", "data", "data directory of the service")
	parentID := fs.String("parent", "", "the version to compare with (default: the active one of the same kind)")
	fs.StringVar(&ef.split, "split", "train", "dev-manifest split of the comparison clips: test, train or all")
	tolerance := fs.Float64("tolerance", 0.02, "largest AUC drop allowed on any method and overall")
	force := fs.String("force", "", "add the version although it is worse, recording this reason")
	activate := fs.Bool("activate", false, "activate the version once added")
	reportPath := fs.String("report", "", "also write the comparison, and whether the version was added, to this JSON file")
	testSplit := fs.Bool("test-figures", false, "also measure the new version once on the dev set's test split and keep the figures in its entry (reported, never used to decide)")
	cards := ef.registerAnalysis(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) < 1 || len(args) > 2 {
			return usageError{errors.New("models promote takes FILE and an optional SOURCE")}
		}
		if !(*tolerance >= 0 && *tolerance < 1) {
			return usageError{fmt.Errorf("--tolerance %v: want 0 <= t < 1", *tolerance)}
		}
		path, src := args[0], defaultDevManifest()
		if len(args) == 2 {
			src = args[1]
		}
		reg, err := registry.Open(registryDir(*data))
		if err != nil {
			return err
		}
		kind, childID := registry.KindFusion, ""
		if isFusionFile(path) {
			f, err := models.LoadFusion(path)
			if err != nil {
				return err
			}
			childID = f.Version
		} else {
			card, _, err := models.LoadCard(path)
			if err != nil {
				return err
			}
			kind, childID = card.Name, card.Version
		}
		if _, err := reg.Get(childID); err == nil {
			return fmt.Errorf("version %q is already in the registry: give the new model its own version", childID)
		}
		sel, err := reg.ActiveSelection()
		if err != nil {
			return err
		}
		if *parentID == "" {
			active, err := reg.Active()
			if err != nil {
				return err
			}
			*parentID = active[kind]
		}
		parent, err := reg.Get(*parentID)
		if err != nil {
			return fmt.Errorf("parent: %w", err)
		}
		if parent.Kind != kind {
			return fmt.Errorf("parent %s is a %s model, the new one a %s model", parent.ID, parent.Kind, kind)
		}
		clips, err := eval.Load(src, ef.split)
		if err != nil {
			return err
		}
		if kind == registry.KindFusion {
			var left int
			if clips, left, err = heldApart(path, src, ef.split, clips); err != nil {
				return err
			}
			if left > 0 {
				fmt.Fprintf(os.Stderr, "%d clips of %s left out: %s was fitted on them\n", left, src, childID)
			}
		}
		base := maps.Clone(sel.Cards)
		maps.Copy(base, cards)

		// Both versions on the same clips, each with the other active models.
		// One warm worker per set of detector models: two fusions compare
		// on the same analyses, re-fused, not on a second worker's.
		runners := map[string]*evalRunner{}
		defer func() {
			for _, r := range runners {
				r.Close()
			}
		}()
		measure := func(clips []eval.Clip, cards map[string]string, fusionPath string) (eval.Summary, error) {
			fuser, err := loadFuser(fusionPath)
			if err != nil {
				return eval.Summary{}, err
			}
			key := fmt.Sprint(cards) // fmt prints maps sorted by key
			r := runners[key]
			if r == nil {
				if r, err = newEvalRunner(ctx, ef, cards, fuser); err != nil {
					return eval.Summary{}, err
				}
				runners[key] = r
			}
			r.fuser = fuser
			scored, err := r.scoreAll(ctx, clips, nil)
			if err != nil {
				return eval.Summary{}, err
			}
			return eval.Summarize(scored, thresholds(fuser)), nil
		}
		parentCards, childCards := maps.Clone(base), maps.Clone(base)
		parentFusion, childFusion := sel.Fusion, sel.Fusion
		alone := "" // a detector compared on its own scores, not the fused ones
		if kind == registry.KindFusion {
			parentFusion, childFusion = reg.Path(parent), path
		} else {
			parentCards[kind], childCards[kind] = reg.Path(parent), path
			active, err := loadFuser(sel.Fusion)
			if err != nil {
				return err
			}
			if active.Model().Detectors[kind].Weight == 0 {
				alone = kind // inside a fusion that ignores it, any child would tie its parent
			}
		}
		ps, err := measure(clips, parentCards, parentFusion)
		if err != nil {
			return fmt.Errorf("measuring %s: %w", parent.ID, err)
		}
		cs, err := measure(clips, childCards, childFusion)
		if err != nil {
			return fmt.Errorf("measuring %s: %w", childID, err)
		}
		if alone != "" {
			pa, ok1 := ps.Alone(alone)
			ca, ok2 := cs.Alone(alone)
			if !ok1 || !ok2 {
				return fmt.Errorf("the active fusion gives %s no weight, and it scored none of the %d clips to compare on its own", alone, len(clips))
			}
			ps, cs = pa, ca
		}
		split := ef.split
		if !strings.HasSuffix(src, ".tsv") {
			split = "" // folders and generator datasets have no splits
		}
		gate := gateReport{Source: src, Split: split, Clips: len(clips), Tolerance: *tolerance, Alone: alone,
			Parent: figuresOf(parent.ID, ps), Child: figuresOf(childID, cs), Regressions: eval.Regressions(ps, cs, *tolerance)}
		printGate(gate)
		if *testSplit {
			// Measured only after the decision's figures, and never compared:
			// the test split reports a model, it does not choose one.
			testClips, err := eval.Load(defaultDevManifest(), "test")
			if err != nil {
				return fmt.Errorf("--test-figures: %w", err)
			}
			ts, err := measure(testClips, childCards, childFusion)
			if err != nil {
				return fmt.Errorf("measuring %s on the test split: %w", childID, err)
			}
			if alone != "" {
				if a, ok := ts.Alone(alone); ok {
					ts = a
				}
			}
			f := figuresOf(childID, ts)
			gate.Test = &f
			fmt.Printf("dev test split (for the record): AUC %.3f over %d clips\n", float64(ts.AUC), len(testClips))
		}
		raw, err := json.Marshal(gate)
		if err != nil {
			return err
		}
		opts := registry.AddOptions{Parent: parent.ID, Gate: raw}
		if len(gate.Regressions) > 0 {
			if *force == "" {
				if err := writeGateReport(*reportPath, gate); err != nil {
					return err
				}
				return fmt.Errorf("%w: %s is worse than %s on %d figure(s) by more than %.3f (add it anyway with --force REASON)",
					errRefused, childID, parent.ID, len(gate.Regressions), *tolerance)
			}
			opts.Forced = *force
		}
		var e registry.Entry
		if kind == registry.KindFusion {
			e, err = reg.AddFusion(path, opts)
		} else {
			e, err = reg.AddCard(path, opts)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "added %s model %s (parent %s)\n", e.Kind, e.ID, parent.ID)
		gate.Registered, gate.Forced = true, opts.Forced
		if *activate {
			if _, err := reg.Activate(e.ID); err != nil {
				return err
			}
			gate.Active = true
			fmt.Fprintf(os.Stderr, "active %s model: %s\n", e.Kind, e.ID)
		}
		return writeGateReport(*reportPath, gate)
	}
}

// errRefused is promote's answer to a child worse than its parent.
var errRefused = errors.New("refused")

func writeGateReport(path string, g gateReport) error {
	if path == "" {
		return nil
	}
	raw, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func printGate(g gateReport) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%d clips of %s %s\n", g.Clips, g.Source, g.Split)
	if g.Alone != "" {
		fmt.Fprintf(tw, "%s's own scores compared: the active fusion gives it no weight\n", g.Alone)
	}
	fmt.Fprintf(tw, "AUC\t%s\t%s\tdrop\n", g.Parent.ID, g.Child.ID)
	row := func(name string, p, c eval.Figure) {
		mark := ""
		for _, r := range g.Regressions {
			if r.Method == name {
				mark = "  worse"
			}
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%+.3f%s\n", name, float64(p), float64(c), float64(p-c), mark)
	}
	row("all", g.Parent.AUC, g.Child.AUC)
	names := make([]string, 0, len(g.Parent.Methods))
	for m := range g.Parent.Methods {
		names = append(names, m)
	}
	slices.Sort(names)
	for _, m := range names {
		c, ok := g.Child.Methods[m]
		if !ok {
			c = eval.Figure(math.NaN())
		}
		row(m, g.Parent.Methods[m], c)
	}
	tw.Flush()
}

// heldApart drops from clips those the fusion at path was fitted on, as
// its fit record tells (the sources, split and licence filter of
// detectors train fusion): a comparison on them would favour it. Of a dev
// manifest it was fitted on with --permissive, the clips of other licences
// remain.
func heldApart(path, src, split string, clips []eval.Clip) ([]eval.Clip, int, error) {
	m, err := models.LoadFusion(path)
	if err != nil || len(m.Fit) == 0 {
		return clips, 0, err
	}
	var fit struct {
		Sources    []string `json:"sources"`
		Split      string   `json:"split"`
		Permissive bool     `json:"permissive_only"`
	}
	if err := json.Unmarshal(m.Fit, &fit); err != nil {
		return nil, 0, fmt.Errorf("%s: its fit record: %w", path, err)
	}
	same := func(a, b string) bool {
		aa, err1 := filepath.Abs(a)
		bb, err2 := filepath.Abs(b)
		return err1 == nil && err2 == nil && aa == bb
	}
	fitted := slices.ContainsFunc(fit.Sources, func(s string) bool { return same(s, src) })
	if !fitted || strings.HasSuffix(src, ".tsv") && fit.Split != "" && fit.Split != split && split != "all" {
		return clips, 0, nil
	}
	if !fit.Permissive {
		return nil, 0, usageError{fmt.Errorf("%s was fitted on every clip of %s (%s): compare on clips held apart from it", m.Version, src, split)}
	}
	var out []eval.Clip
	for _, c := range clips {
		if !c.Permissive() {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, 0, usageError{fmt.Errorf("%s was fitted on every clip of %s: compare on clips held apart from it", m.Version, src)}
	}
	return out, len(clips) - len(out), nil
}
