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
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/worker"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/video"
)

type scanFlags struct {
	json, inProcess bool
	deps, faceModel string
	fusion          string
	evidence        string
	maxMemory       string
	timeout         time.Duration
	limits          video.Limits
	maxAnalysed     int
	provenance      bool
	data            string
	ledger          ledgerFlags
}

func (sf *scanFlags) register(fs *flag.FlagSet) {
	def := video.DefaultLimits()
	fs.BoolVar(&sf.json, "json", false, "print one JSON report per file (one per line)")
	fs.BoolVar(&sf.inProcess, "in-process", false, "analyse in this process instead of a worker subprocess (no crash isolation)")
	fs.StringVar(&sf.deps, "deps", os.Getenv("TRUEFRAME_DEPS"), "directory with the installed models and ONNX Runtime ($TRUEFRAME_DEPS)")
	fs.StringVar(&sf.faceModel, "face-model", envOr("TRUEFRAME_FACE_MODEL", "blazeface"), "face detector: blazeface or ultraface ($TRUEFRAME_FACE_MODEL)")
	fs.StringVar(&sf.fusion, "fusion", os.Getenv("TRUEFRAME_FUSION"), "fusion model file (default: the embedded one) ($TRUEFRAME_FUSION)")
	fs.StringVar(&sf.evidence, "evidence-dir", os.Getenv("TRUEFRAME_EVIDENCE_DIR"), "write evidence images under DIR/<file name>/ (default: the system temp dir)")
	fs.StringVar(&sf.maxMemory, "max-memory", envOr("TRUEFRAME_MAX_MEMORY", "6GiB"), "address-space cap of each worker process (0: none)")
	fs.DurationVar(&sf.timeout, "timeout", 30*time.Minute, "give up on one file after this long")
	fs.Int64Var(&sf.limits.MaxFileBytes, "max-file-size", def.MaxFileBytes, "largest file accepted, in bytes")
	fs.IntVar(&sf.limits.MaxPixels, "max-pixels", def.MaxPixels, "largest frame accepted, in pixels (width×height)")
	fs.DurationVar(&sf.limits.MaxDuration, "max-duration", def.MaxDuration, "longest video accepted")
	fs.IntVar(&sf.limits.MaxFrames, "max-frames", envInt("TRUEFRAME_MAX_FRAMES", def.MaxFrames), "most frames decoded in one file ($TRUEFRAME_MAX_FRAMES)")
	fs.IntVar(&sf.maxAnalysed, "max-analysed-frames", envInt("TRUEFRAME_MAX_ANALYSED_FRAMES", scan.DefaultMaxAnalysedFrames), "most frames analysed in one file ($TRUEFRAME_MAX_ANALYSED_FRAMES)")
	fs.BoolVar(&sf.provenance, "provenance", envOr("TRUEFRAME_PROVENANCE", "on") != "off", "check each file against the provenance ledger (in DATA/ledger, or --ledger-rpc)")
	fs.StringVar(&sf.data, "data", envOr("TRUEFRAME_DATA", "data"), "data directory holding the provenance ledger and the model registry")
	sf.ledger.registerChain(fs)
}

func cmdScan(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: trueframe scan [--json] [flags] FILE...")
		fs.PrintDefaults()
	}
	var sf scanFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	maxMem, err := parseBytes(sf.maxMemory)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trueframe: --max-memory:", err)
		return 2
	}
	if sf.timeout <= 0 {
		fmt.Fprintln(os.Stderr, "trueframe: --timeout must be positive")
		return 2
	}
	if sf.faceModel != face.BlazeFace && sf.faceModel != face.UltraFace {
		fmt.Fprintf(os.Stderr, "trueframe: --face-model %q: want %s or %s\n", sf.faceModel, face.BlazeFace, face.UltraFace)
		return 2
	}
	deps, err := depsDir(sf.deps)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trueframe:", err)
		return 1
	}
	evidenceRoot := sf.evidence
	if evidenceRoot == "" {
		evidenceRoot = filepath.Join(os.TempDir(), "trueframe-evidence")
	}

	var prov *provenance
	if sf.provenance {
		sf.ledger.data, sf.ledger.deps, sf.ledger.maxMemory = sf.data, deps, sf.maxMemory
		prov = &provenance{flags: &sf.ledger}
		defer prov.Close()
	}
	reg, err := activeSelection(sf.data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "trueframe: model registry: %v\n", err)
		return 1
	}
	showProgress := !sf.json && term.IsTerminal(int(os.Stderr.Fd()))
	failed := 0
	for _, file := range fs.Args() {
		if ctx.Err() != nil {
			return 130
		}
		req := scan.Request{FaceModel: sf.faceModel, FusionPath: sf.fusion, Limits: &sf.limits, MaxAnalysedFrames: sf.maxAnalysed,
			EvidenceDir: filepath.Join(evidenceRoot, evidenceName(file))}
		if reg != nil {
			// The registry's active versions, read per file: one activated
			// during a long batch applies to the files after it.
			sel, err := reg.ActiveSelection()
			if err != nil {
				fmt.Fprintf(os.Stderr, "trueframe: model registry: %v\n", err)
				return 1
			}
			req = req.WithModels(sel)
		}
		var progress func(float64)
		if showProgress {
			progress = progressBar(os.Stderr, filepath.Base(file))
		}
		fctx, cancel := context.WithTimeout(ctx, sf.timeout)
		var rep *scan.Report
		if sf.inProcess {
			rep, err = scanInProcess(fctx, deps, file, req, progress)
		} else {
			iso := &scan.Isolated{Worker: worker.Options{Args: []string{"worker"}, MaxMemory: maxMem,
				Env: []string{"TRUEFRAME_DEPS=" + deps}}, Base: req}
			rep, err = iso.Analyze(fctx, file, progress)
		}
		cancel()
		if showProgress {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		if err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "trueframe: %s: %s\n", file, describeError(err))
			continue
		}
		if prov != nil {
			rep.Provenance = prov.check(ctx, file)
			rep.Warnings = withProvenanceAlert(rep.Warnings, rep.Provenance)
		}
		if sf.json {
			enc := json.NewEncoder(os.Stdout)
			if err := enc.Encode(rep); err != nil {
				fmt.Fprintln(os.Stderr, "trueframe:", err)
				return 1
			}
		} else {
			printSummary(os.Stdout, rep, req.EvidenceDir)
		}
	}
	if ctx.Err() != nil {
		return 130
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// evidenceName names a file's evidence folder: its base name, readable, and
// a hash of its absolute path, so that a/clip.mp4 and b/clip.mp4 scanned
// together never overwrite each other's images.
func evidenceName(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	sum := sha256.Sum256([]byte(abs))
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)) + "-" + hex.EncodeToString(sum[:4])
}

func scanInProcess(ctx context.Context, deps, file string, req scan.Request, progress func(float64)) (*scan.Report, error) {
	a, err := scan.OpenRequest(deps, req)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return a.Analyze(ctx, file, progress)
}

// describeError words an analysis failure for a person.
func describeError(err error) string {
	var ce *worker.CrashError
	switch {
	case errors.As(err, &ce):
		return err.Error() + " — the file was not analysed; the worker process died on it"
	case errors.Is(err, context.DeadlineExceeded):
		return "analysis timed out (see --timeout)"
	case errors.Is(err, video.ErrTooLarge):
		return err.Error() + " (see --max-file-size, --max-pixels, --max-duration, --max-frames, --max-analysed-frames)"
	}
	return err.Error()
}

// parseBytes reads sizes like 512MiB, 4GiB, 1e9 or 0.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) || !(v*float64(mult) <= 1<<62) { // also rejects NaN and Inf
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(v * float64(mult)), nil
}

// progressBar returns a progress callback drawing one line on w.
func progressBar(w io.Writer, label string) func(float64) {
	const width = 30
	last := -1
	return func(p float64) {
		n := int(p * 100)
		if n == last {
			return
		}
		last = n
		filled := int(p * width)
		fmt.Fprintf(w, "\r\033[K%s [%s%s] %3d%%", label, strings.Repeat("█", filled), strings.Repeat("·", width-filled), n)
	}
}

// provenance checks scanned files against the ledger, opened on first use.
type provenance struct {
	flags   *ledgerFlags
	ledger  *openedLedger
	openErr error
	tried   bool
}

func (p *provenance) check(ctx context.Context, file string) json.RawMessage {
	if !p.tried {
		p.tried = true
		embedded := filepath.Join(p.flags.data, "ledger", "embedded", "chain")
		if _, err := os.Stat(embedded); p.flags.rpcURL == "" && err != nil {
			p.openErr = fmt.Errorf("no provenance ledger in %s (trueframe register creates it)", p.flags.data)
		} else {
			p.ledger, p.openErr = p.flags.open(ctx, nil, cliLogger(), ledger.Options{})
		}
	}
	var v any
	if p.openErr != nil {
		v = map[string]string{"status": "unavailable", "error": p.openErr.Error()}
	} else if res, err := p.ledger.Verify(ctx, file); err != nil {
		v = map[string]string{"status": "unavailable", "error": err.Error()}
	} else {
		v = res
	}
	b, _ := json.Marshal(v)
	return b
}

func (p *provenance) Close() {
	if p.ledger != nil {
		p.ledger.Close()
	}
}

// withProvenanceAlert puts the provenance check's alert (faces differ from
// a registered original) first among a report's warnings, so that it
// leads whatever the detectors scored.
func withProvenanceAlert(warnings []string, provenance json.RawMessage) []string {
	var p struct{ Alert string }
	if json.Unmarshal(provenance, &p) != nil || p.Alert == "" {
		return warnings
	}
	return append([]string{p.Alert}, warnings...)
}
