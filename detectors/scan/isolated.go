package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/video"
	"github.com/trueframe/trueframe/models"
	"github.com/trueframe/trueframe/models/registry"
)

// Request is what a parent asks of a worker process (isolate.KindScan).
type Request struct {
	Path        string        `json:"path"`
	FaceModel   string        `json:"face_model,omitempty"`
	FusionPath  string        `json:"fusion_path,omitempty"` // empty: embedded model
	EvidenceDir string        `json:"evidence_dir,omitempty"`
	Limits      *video.Limits `json:"limits,omitempty"`
	// MaxAnalysedFrames caps the frames analysed (Options.MaxAnalysedFrames).
	MaxAnalysedFrames int `json:"max_analysed_frames,omitempty"`
	// Detectors names the detectors to run; empty means DefaultDetectors.
	Detectors []string `json:"detectors,omitempty"`
	// ModelCards maps learned detectors to model cards of models to run
	// instead of the embedded ones.
	ModelCards map[string]string `json:"model_cards,omitempty"`
	// Probe asks the worker only to load the models and report them: a
	// service uses it to know it is ready before accepting work.
	Probe bool `json:"probe,omitempty"`
}

// ErrorCodes are the codes of the failures of media work a worker reports
// (isolate.Codes), scans' and fingerprints' alike: the parent's
// *isolate.Error unwraps to their sentinels, so that callers can use
// errors.Is across the process boundary.
var ErrorCodes = isolate.Codes{
	{Code: "not_video", Err: video.ErrNotVideo},
	{Code: "no_video_stream", Err: video.ErrNoVideoStream},
	{Code: "unsupported_codec", Err: video.ErrUnsupportedCodec},
	{Code: "truncated", Err: video.ErrTruncated},
	{Code: "too_large", Err: video.ErrTooLarge},
	{Code: "bad_frame_rate", Err: video.ErrBadFrameRate},
	{Code: "not_found", Err: os.ErrNotExist},
	{Code: "bad_image", Err: media.ErrBadImage},
	{Code: "canceled", Err: context.Canceled},
	{Code: "deadline", Err: context.DeadlineExceeded},
}

// ServeWorker is the worker process's side: it reads Requests from in one
// after another, analyses each file with an Analyzer from open, and reports
// back through the worker protocol.
func ServeWorker(ctx context.Context, in io.Reader, open func(Request) (*Analyzer, error)) error {
	h := &WorkerHandler{Open: open}
	defer h.Close()
	return isolate.Serve(ctx, in, isolate.Mux{isolate.KindScan: h.Handle}, ErrorCodes)
}

// WorkerHandler serves scan Requests in a worker process. The Analyzer
// (models loaded) is kept for the next request when that one asks for the
// same models, which is what makes a warm worker fast.
type WorkerHandler struct {
	Open func(Request) (*Analyzer, error)

	a      *Analyzer
	loaded Request // the request a was opened for
}

// Handle serves one request (the isolate.Func of isolate.KindScan).
func (h *WorkerHandler) Handle(ctx context.Context, raw json.RawMessage, progress func(float64)) (any, error) {
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	if h.a == nil || !sameModels(req, h.loaded) {
		h.Close()
		a, err := h.Open(req)
		if err != nil {
			return nil, err
		}
		h.a, h.loaded = a, req
	}
	if req.Probe {
		return h.a.Models(), nil
	}
	h.a.SetEvidenceDir(req.EvidenceDir)
	return h.a.Analyze(ctx, req.Path, progress)
}

// Close frees the kept Analyzer.
func (h *WorkerHandler) Close() error {
	if h.a == nil {
		return nil
	}
	err := h.a.Close()
	h.a = nil
	return err
}

// sameModels reports whether an Analyzer opened for a serves b.
func sameModels(a, b Request) bool {
	return a.FaceModel == b.FaceModel && a.FusionPath == b.FusionPath && slices.Equal(a.Detectors, b.Detectors) && maps.Equal(a.ModelCards, b.ModelCards) &&
		(a.Limits == nil) == (b.Limits == nil) && (a.Limits == nil || *a.Limits == *b.Limits) && a.MaxAnalysedFrames == b.MaxAnalysedFrames
}

// runner runs one request in some worker process.
type runner func(ctx context.Context, kind isolate.Kind, request any, progress func(float64)) (json.RawMessage, error)

func analyze(ctx context.Context, run runner, req Request, progress func(float64)) (*Report, error) {
	raw, err := run(ctx, isolate.KindScan, req, progress)
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

func probe(ctx context.Context, run runner, req Request) (ModelInfo, error) {
	req.Probe = true
	var info ModelInfo
	raw, err := run(ctx, isolate.KindScan, req, nil)
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(raw, &info)
	return info, err
}

// Isolated analyses files in worker subprocesses, one new process per file.
type Isolated struct {
	Worker isolate.Options // how to start the worker (binary, args, memory cap, ErrorCodes)
	Base   Request         // options copied into every request
}

func (iso *Isolated) run(ctx context.Context, kind isolate.Kind, request any, progress func(float64)) (json.RawMessage, error) {
	return isolate.Run(ctx, iso.Worker, kind, request, progress)
}

// Analyze runs the analysis of path in a new worker process. A crash of the
// worker is returned as an *isolate.CrashError; a failure it reported as an
// *isolate.Error of isolate.KindScan.
func (iso *Isolated) Analyze(ctx context.Context, path string, progress func(float64)) (*Report, error) {
	req := iso.Base
	req.Path = path
	return analyze(ctx, iso.run, req, progress)
}

// Probe starts a worker that loads every model and exits: it proves that
// the installation works without analysing anything.
func (iso *Isolated) Probe(ctx context.Context) (ModelInfo, error) {
	return probe(ctx, iso.run, iso.Base)
}

// Pooled analyses files in warm worker processes from a pool: the same
// isolation as Isolated without loading the models for every file.
type Pooled struct {
	Pool *isolate.Pool // its workers' Options.Codes: ErrorCodes
	Base Request       // options copied into every request
	// Models, when set, chooses the model versions of each analysis as it
	// starts (the model registry's active ones), so activating a version
	// needs no restart and an analysis finishes on the version it started
	// with. A model Base names explicitly wins.
	Models ModelSource
}

// ModelSource chooses the model versions analyses run.
type ModelSource interface {
	ActiveSelection() (registry.Selection, error)
}

// request is Base with the models Models chooses.
func (p *Pooled) request() (Request, error) {
	req := p.Base
	if p.Models == nil {
		return req, nil
	}
	sel, err := p.Models.ActiveSelection()
	if err != nil {
		return Request{}, fmt.Errorf("scan: choosing the model versions: %w", err)
	}
	return req.WithModels(sel), nil
}

// WithModels returns req running the model versions sel names, except
// those req names itself.
func (req Request) WithModels(sel registry.Selection) Request {
	if req.FusionPath == "" {
		req.FusionPath = sel.Fusion
	}
	if len(sel.Cards) > 0 {
		cards := maps.Clone(sel.Cards)
		maps.Copy(cards, req.ModelCards)
		req.ModelCards = cards
	}
	return req
}

// Analyze analyses path, writing evidence to evidenceDir, in a pooled worker.
func (p *Pooled) Analyze(ctx context.Context, path, evidenceDir string, progress func(float64)) (*Report, error) {
	req, err := p.request()
	if err != nil {
		return nil, err
	}
	req.Path, req.EvidenceDir = path, evidenceDir
	return analyze(ctx, p.Pool.Run, req, progress)
}

// Probe loads the models in a pooled worker, which stays warm.
func (p *Pooled) Probe(ctx context.Context) (ModelInfo, error) {
	req, err := p.request()
	if err != nil {
		return ModelInfo{}, err
	}
	return probe(ctx, p.Pool.Run, req)
}

// OpenRequest builds the Analyzer a request asks for from an installation
// directory laid out by scripts/setup (deps/lib for ONNX Runtime,
// deps/models for the models). Worker processes and in-process scans share
// it. Callers must Close the Analyzer.
func OpenRequest(deps string, req Request) (*Analyzer, error) {
	if err := ortutil.Init(filepath.Join(deps, "lib", ORTLibrary)); err != nil {
		return nil, err
	}
	opts := Options{ModelDir: filepath.Join(deps, "models"), FaceModel: req.FaceModel,
		Limits: req.Limits, MaxAnalysedFrames: req.MaxAnalysedFrames, EvidenceDir: req.EvidenceDir, DetectorNames: req.Detectors,
		ModelCards: req.ModelCards}
	if req.FusionPath != "" {
		f, err := models.LoadFusion(req.FusionPath)
		if err != nil {
			return nil, err
		}
		opts.Fusion = f
	}
	return New(opts)
}

// ORTLibrary is the file name of the ONNX Runtime library scripts/setup installs.
const ORTLibrary = "libonnxruntime.so.1.30.0"
