package scan

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/internal/worker"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/video"
	"github.com/trueframe/trueframe/models"
)

// Request is what a parent asks of a worker process.
type Request struct {
	Path        string        `json:"path"`
	FaceModel   string        `json:"face_model,omitempty"`
	FusionPath  string        `json:"fusion_path,omitempty"` // empty: embedded model
	EvidenceDir string        `json:"evidence_dir,omitempty"`
	Limits      *video.Limits `json:"limits,omitempty"`
	// Probe asks the worker only to load the models and report them: a
	// service uses it to know it is ready before accepting work.
	Probe bool `json:"probe,omitempty"`
}

// errorCodes maps the failures a worker reports to the errors the parent
// re-creates, so that callers can use errors.Is across the process boundary.
var errorCodes = []struct {
	code string
	err  error
}{
	{"not_video", video.ErrNotVideo},
	{"no_video_stream", video.ErrNoVideoStream},
	{"unsupported_codec", video.ErrUnsupportedCodec},
	{"truncated", video.ErrTruncated},
	{"too_large", video.ErrTooLarge},
	{"not_found", os.ErrNotExist},
	{"bad_image", media.ErrBadImage},
	{"canceled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

// ErrorCode classifies an analysis error for the wire ("internal" when
// nothing more specific applies).
func ErrorCode(err error) string {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "internal"
}

// AnalysisError is a failure a worker reported. It unwraps to the sentinel
// its code stands for (video.ErrNotVideo, ...), if any.
type AnalysisError struct {
	Code    string
	Message string
}

func (e *AnalysisError) Error() string { return e.Message }

func (e *AnalysisError) Unwrap() error {
	for _, c := range errorCodes {
		if c.code == e.Code {
			return c.err
		}
	}
	return nil
}

// ServeWorker is the worker process's side: it reads one Request from in,
// analyses the file with the Analyzer that open returns, and reports back
// through the worker protocol.
func ServeWorker(ctx context.Context, in io.Reader, open func(Request) (*Analyzer, error)) error {
	return worker.Serve(ctx, in, func(ctx context.Context, raw json.RawMessage, progress func(float64)) (any, error) {
		var req Request
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		a, err := open(req)
		if err != nil {
			return nil, err
		}
		defer a.Close()
		if req.Probe {
			return a.Models(), nil
		}
		return a.Analyze(ctx, req.Path, progress)
	}, ErrorCode)
}

// Isolated analyses files in worker subprocesses, one per file.
type Isolated struct {
	Worker worker.Options // how to start the worker (binary, args, memory cap)
	Base   Request        // options copied into every request
}

// Analyze runs the analysis of path in a new worker process. A crash of the
// worker is returned as a *worker.CrashError; a failure it reported as an
// *AnalysisError.
func (iso *Isolated) Analyze(ctx context.Context, path string, progress func(float64)) (*Report, error) {
	req := iso.Base
	req.Path = path
	raw, err := worker.Run(ctx, iso.Worker, req, progress)
	if err != nil {
		var we *worker.Error
		if errors.As(err, &we) {
			return nil, &AnalysisError{Code: we.Code, Message: we.Message}
		}
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Probe starts a worker that loads every model and exits: it proves that
// the installation works without analysing anything.
func (iso *Isolated) Probe(ctx context.Context) (ModelInfo, error) {
	req := iso.Base
	req.Probe = true
	var info ModelInfo
	raw, err := worker.Run(ctx, iso.Worker, req, nil)
	if err != nil {
		var we *worker.Error
		if errors.As(err, &we) {
			return info, &AnalysisError{Code: we.Code, Message: we.Message}
		}
		return info, err
	}
	err = json.Unmarshal(raw, &info)
	return info, err
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
		Limits: req.Limits, EvidenceDir: req.EvidenceDir}
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
