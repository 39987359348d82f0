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
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/video"
	"github.com/trueframe/trueframe/models/registry"
)

const scanHelp = `
Each FILE is analysed as named. Each DIR is walked recursively, in lexical
order, and its files that are videos by their content are analysed: those
whose first bytes are a video container, as the decoder itself judges one,
whatever their names (extensions lie both ways: a camera's files without
one, an HTML error page saved as .mp4); the other files are skipped and
counted. Files are analysed --jobs at a time, each in a worker process
(the same binary) with an address-space cap (--max-memory) and a time
limit (--timeout), so a file that crashes the decoder fails alone.

Output: a summary per file (--json: one JSON record per file and line, a
report or {"file", "error": {"code", "message"}}), in the inputs' order;
failures are also named on stderr. With more than one file, a summary of
the batch goes to stderr at the end: counts per verdict, failures, time.

Exit status: 0 every file analysed, 1 one failed, 2 bad usage, 130
interrupted (Ctrl-C), 143 terminated (SIGTERM).`

type scanFlags struct {
	json, inProcess bool
	jobs            int
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
	fs.BoolVar(&sf.json, "json", false, "print one JSON record per file (one per line): its report, or its error")
	// One analysis is a pipeline (decode, track, measure) that already
	// keeps about two cores busy, and each worker may take --max-memory:
	// more at once is the user's choice for a bigger machine.
	fs.IntVar(&sf.jobs, "jobs", 1, "files analysed at once, each in its own worker process")
	fs.BoolVar(&sf.inProcess, "in-process", false, "analyse in this process instead of a worker subprocess (no crash isolation)")
	fs.StringVar(&sf.deps, "deps", "", depsUsage)
	fs.StringVar(&sf.faceModel, "face-model", face.BlazeFace, "face detector: blazeface or ultraface")
	fs.StringVar(&sf.fusion, "fusion", "", "fusion model `file` (default: the embedded one)")
	fs.StringVar(&sf.evidence, "evidence-dir", "", "write evidence images under `DIR`/<file name>/ (default: the system temp dir)")
	fs.StringVar(&sf.maxMemory, "max-memory", "6GiB", "address-space cap of each worker process (0: none)")
	fs.DurationVar(&sf.timeout, "timeout", 30*time.Minute, "give up on one file after this long")
	fs.Int64Var(&sf.limits.MaxFileBytes, "max-file-size", def.MaxFileBytes, "largest file accepted, in bytes")
	fs.IntVar(&sf.limits.MaxPixels, "max-pixels", def.MaxPixels, "largest frame accepted, in pixels (width×height)")
	fs.DurationVar(&sf.limits.MaxDuration, "max-duration", def.MaxDuration, "longest video accepted")
	fs.IntVar(&sf.limits.MaxFrames, "max-frames", def.MaxFrames, "most frames decoded in one file")
	fs.IntVar(&sf.maxAnalysed, "max-analysed-frames", scan.DefaultMaxAnalysedFrames, "most frames analysed in one file")
	fs.BoolVar(&sf.provenance, "provenance", true, "check each file against the provenance ledger (in DATA/ledger, or --ledger-rpc)")
	fs.StringVar(&sf.data, "data", "data", "data directory holding the provenance ledger and the model registry")
	sf.ledger.registerChain(fs)
}

func cmdScan(fs *flag.FlagSet) action {
	var sf scanFlags
	sf.register(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 {
			return usageError{errors.New("scan takes at least one FILE or DIR")}
		}
		maxMem, err := parseBytes(sf.maxMemory)
		if err != nil {
			return usageError{fmt.Errorf("--max-memory: %w", err)}
		}
		switch {
		case sf.timeout <= 0:
			return usageError{errors.New("--timeout must be positive")}
		case sf.jobs < 1:
			return usageError{errors.New("--jobs must be at least 1")}
		case sf.faceModel != face.BlazeFace && sf.faceModel != face.UltraFace:
			return usageError{fmt.Errorf("--face-model %q: want %s or %s", sf.faceModel, face.BlazeFace, face.UltraFace)}
		}
		deps, err := depsDir(sf.deps)
		if err != nil {
			return err
		}
		s := &scanner{flags: &sf, deps: deps, maxMemory: maxMem, evidenceRoot: sf.evidence,
			progress: !sf.json && sf.jobs == 1 && term.IsTerminal(int(os.Stderr.Fd()))}
		if s.evidenceRoot == "" {
			s.evidenceRoot = filepath.Join(os.TempDir(), "trueframe-evidence")
		}
		if sf.provenance {
			sf.ledger.data, sf.ledger.deps, sf.ledger.maxMemory = sf.data, deps, sf.maxMemory
			s.prov = &provenance{flags: &sf.ledger}
			defer s.prov.Close()
		}
		if s.models, err = existingRegistry(sf.data); err != nil {
			return fmt.Errorf("model registry: %w", err)
		}
		inputs, skipped, walked := scanInputs(args)
		started := time.Now()
		t, err := s.scanAll(ctx, inputs)
		if len(inputs) > 1 || walked {
			t.print(os.Stderr, time.Since(started), len(inputs), skipped)
		}
		if err != nil {
			return err
		}
		if len(t.failed) > 0 {
			return fmt.Errorf("%d of %d files failed", len(t.failed), len(inputs))
		}
		return nil
	}
}

// scanInput is a file to scan, or what went wrong finding one.
type scanInput struct {
	path string
	err  error
}

// scanInputs expands scan's arguments into files: a file as named (one
// that is not a video fails, saying so), a directory walked recursively in
// lexical order for the files that are videos by their content (see
// scanHelp); skipped counts its other files.
func scanInputs(args []string) (inputs []scanInput, skipped int, walked bool) {
	for _, arg := range args {
		if st, err := os.Stat(arg); err != nil || !st.IsDir() {
			inputs = append(inputs, scanInput{path: arg})
			continue
		}
		walked = true
		filepath.WalkDir(arg, func(path string, d iofs.DirEntry, err error) error {
			switch {
			case err != nil:
				inputs = append(inputs, scanInput{path: path, err: err})
			case d.IsDir():
			default:
				if ok, err := isVideo(path); err != nil || ok {
					inputs = append(inputs, scanInput{path: path, err: err})
				} else {
					skipped++
				}
			}
			return nil
		})
	}
	return inputs, skipped, walked
}

// isVideo tells whether path is a regular file (symbolic links followed)
// whose first bytes are a video container. Other kinds of file (pipes,
// devices) are not opened: reading a pipe could wait forever.
func isVideo(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return video.Container(head[:n]) != "", nil
}

// scanner analyses files as scan's flags say.
type scanner struct {
	flags        *scanFlags
	deps         string
	maxMemory    int64
	evidenceRoot string
	prov         *provenance        // nil: no provenance check
	models       *registry.Registry // nil: the embedded models
	progress     bool               // draw a progress bar on stderr (one file at a time, on a terminal)
	terminal     sync.Mutex         // the bar and the reports take turns on the terminal
}

func (s *scanner) evidenceDir(file string) string {
	return filepath.Join(s.evidenceRoot, evidenceName(file))
}

// analyse analyses one file and checks its provenance.
func (s *scanner) analyse(ctx context.Context, file string) (*scan.Report, error) {
	sf := s.flags
	req := scan.Request{FaceModel: sf.faceModel, FusionPath: sf.fusion, Limits: &sf.limits, MaxAnalysedFrames: sf.maxAnalysed,
		EvidenceDir: s.evidenceDir(file)}
	if s.models != nil {
		// The registry's active versions, read per file: one activated
		// during a long batch applies to the files after it.
		sel, err := s.models.ActiveSelection()
		if err != nil {
			return nil, fmt.Errorf("model registry: %w", err)
		}
		req = req.WithModels(sel)
	}
	var progress func(float64)
	if s.progress {
		bar := progressBar(os.Stderr, filepath.Base(file))
		progress = func(p float64) {
			s.terminal.Lock()
			defer s.terminal.Unlock()
			bar(p)
		}
	}
	fileCtx, cancel := context.WithTimeout(ctx, sf.timeout)
	defer cancel()
	var rep *scan.Report
	var err error
	if sf.inProcess {
		rep, err = scanInProcess(fileCtx, s.deps, file, req, progress)
	} else {
		iso := &scan.Isolated{Worker: workerOptions(s.deps, s.maxMemory), Base: req}
		rep, err = iso.Analyze(fileCtx, file, progress)
	}
	if err != nil {
		return nil, err
	}
	if s.prov != nil {
		// Not fileCtx: the ledger opened on the first check serves the
		// whole batch.
		rep.SetProvenance(s.prov.check(ctx, file))
	}
	return rep, nil
}

// scanOutcome is what became of one input.
type scanOutcome struct {
	file   string
	report *scan.Report
	err    error
}

// scanAll analyses the inputs, --jobs at a time, and prints each one's
// record in the inputs' order as soon as those before it are printed.
func (s *scanner) scanAll(ctx context.Context, inputs []scanInput) (scanTally, error) {
	t := scanTally{verdicts: map[fusion.Verdict]int{}}
	results := make([]chan scanOutcome, len(inputs))
	for i := range results {
		results[i] = make(chan scanOutcome, 1) // a worker never waits for the printer
	}
	next := make(chan int)
	var wg sync.WaitGroup
	defer wg.Wait()
	workCtx, cancel := context.WithCancel(ctx)
	defer cancel() // before the wait: an early return stops the work
	for range min(s.flags.jobs, len(inputs)) {
		wg.Go(func() {
			for i := range next {
				o := scanOutcome{file: inputs[i].path, err: inputs[i].err}
				if o.err == nil {
					o.report, o.err = s.analyse(workCtx, o.file)
				}
				results[i] <- o
			}
		})
	}
	go func() {
		defer close(next)
		for i := range inputs {
			select {
			case next <- i:
			case <-workCtx.Done():
				return
			}
		}
	}()
	for i := range inputs {
		var o scanOutcome
		select {
		case o = <-results[i]:
		case <-ctx.Done():
			return t, ctx.Err()
		}
		if ctx.Err() != nil {
			return t, ctx.Err()
		}
		if err := s.print(o); err != nil {
			return t, err
		}
		t.add(o)
	}
	return t, nil
}

// print writes one file's record: its report, or its error (on stderr,
// and with --json also as a record on stdout, so that the output lines up
// with the inputs).
func (s *scanner) print(o scanOutcome) error {
	if s.progress {
		s.terminal.Lock()
		defer s.terminal.Unlock()
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if o.err != nil {
		fmt.Fprintf(os.Stderr, "trueframe: %s: %s\n", o.file, describeError(o.err))
		if s.flags.json {
			return json.NewEncoder(os.Stdout).Encode(failureRecord(o.file, o.err))
		}
		return nil
	}
	if s.flags.json {
		return json.NewEncoder(os.Stdout).Encode(o.report)
	}
	printSummary(os.Stdout, o.report, s.evidenceDir(o.file))
	return nil
}

// scanFailure is the JSON record of a file that was not analysed.
type scanFailure struct {
	File  string `json:"file"`
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func failureRecord(file string, err error) scanFailure {
	f := scanFailure{File: file}
	f.Error.Code, f.Error.Message = failureCode(err), describeError(err)
	return f
}

// failureCode classifies a failure: the worker's codes (not_video,
// too_large, ...), worker_crashed, or unreadable for a file that could not
// be opened while looking for videos.
func failureCode(err error) string {
	var ce *isolate.CrashError
	switch {
	case errors.As(err, &ce):
		return "worker_crashed"
	case errors.Is(err, iofs.ErrPermission):
		return "unreadable"
	}
	return scan.ErrorCodes.Of(err)
}

// scanTally counts a batch's outcomes for its summary.
type scanTally struct {
	verdicts map[fusion.Verdict]int
	failed   []string
}

func (t *scanTally) add(o scanOutcome) {
	if o.err != nil {
		t.failed = append(t.failed, o.file)
		return
	}
	t.verdicts[o.report.Verdict]++
}

// print writes the batch's summary: of inputs files, how many were
// scanned (fewer when interrupted), with which verdicts.
func (t scanTally) print(w io.Writer, elapsed time.Duration, inputs, skipped int) {
	n := len(t.failed)
	for _, c := range t.verdicts {
		n += c
	}
	if n < inputs {
		fmt.Fprintf(w, "scanned %d of %d files in %.1f s:", n, inputs, elapsed.Seconds())
	} else {
		fmt.Fprintf(w, "scanned %d files in %.1f s:", n, elapsed.Seconds())
	}
	for _, v := range []fusion.Verdict{fusion.LikelyAuthentic, fusion.Suspicious, fusion.LikelyManipulated, fusion.Inconclusive} {
		fmt.Fprintf(w, " %s %d,", v, t.verdicts[v])
	}
	fmt.Fprintf(w, " failed %d\n", len(t.failed))
	if skipped > 0 {
		fmt.Fprintf(w, "skipped %d files that are not videos (by their content)\n", skipped)
	}
	if len(t.failed) > 0 {
		fmt.Fprintf(w, "failed: %s\n", strings.Join(t.failed, ", "))
	}
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
	var ce *isolate.CrashError
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

// provenance checks scanned files against the ledger, opened on first use;
// files scanned at once check at once.
type provenance struct {
	flags   *ledgerFlags
	open    sync.Once
	ledger  *openedLedger
	openErr error
}

func (p *provenance) check(ctx context.Context, file string) json.RawMessage {
	p.open.Do(func() {
		embedded := filepath.Join(p.flags.data, "ledger", "embedded", "chain")
		if _, err := os.Stat(embedded); p.flags.rpcURL == "" && err != nil {
			p.openErr = fmt.Errorf("no provenance ledger in %s (trueframe register creates it)", p.flags.data)
		} else {
			p.ledger, p.openErr = p.flags.open(ctx, nil, cliLogger(), ledger.Options{})
		}
	})
	if p.openErr != nil {
		return scan.ProvenanceUnavailable(p.openErr.Error())
	}
	res, err := p.ledger.Verify(ctx, file)
	if err != nil {
		return scan.ProvenanceUnavailable(err.Error())
	}
	b, _ := json.Marshal(res)
	return b
}

func (p *provenance) Close() {
	if p.ledger != nil {
		p.ledger.Close()
	}
}
