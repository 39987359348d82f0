package scan

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"

	"github.com/trueframe/trueframe/internal/worker"
	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/video"
)

// Request is what a parent asks of a worker process.
type Request struct {
	Path        string        `json:"path"`
	FaceModel   string        `json:"face_model,omitempty"`
	FusionPath  string        `json:"fusion_path,omitempty"` // empty: embedded model
	EvidenceDir string        `json:"evidence_dir,omitempty"`
	Limits      *video.Limits `json:"limits,omitempty"`
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
