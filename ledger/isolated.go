package ledger

import (
	"context"
	"encoding/json"

	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/ledger/fingerprint"
)

// FingerprintRequest is what a parent asks of a worker process
// (isolate.KindFingerprint): the file at Path fingerprinted to register
// or, with Check, to verify (CheckOptions), laid out per Geometry.
type FingerprintRequest struct {
	Path     string               `json:"path"`
	Check    bool                 `json:"check,omitempty"`
	Geometry fingerprint.Geometry `json:"geometry,omitzero"`
}

// Isolated fingerprints files in worker processes (a CheckFingerprinter),
// so that a file that crashes OpenCV ends the worker, not the caller. A
// failure the worker reports is an *isolate.Error of
// isolate.KindFingerprint; a crash an *isolate.CrashError.
type Isolated struct {
	// Run runs one request in a worker: isolate.Run with fixed options,
	// or an isolate.Pool's Run.
	Run func(ctx context.Context, kind isolate.Kind, request any, progress func(float64)) (json.RawMessage, error)
}

// Fingerprint computes the fingerprint of the video at path to register.
func (f Isolated) Fingerprint(ctx context.Context, path string) (*fingerprint.Fingerprint, error) {
	return f.fingerprint(ctx, FingerprintRequest{Path: path})
}

// FingerprintToCheck computes the fingerprint of a file to verify.
func (f Isolated) FingerprintToCheck(ctx context.Context, path string, g fingerprint.Geometry) (*fingerprint.Fingerprint, error) {
	return f.fingerprint(ctx, FingerprintRequest{Path: path, Check: true, Geometry: g})
}

func (f Isolated) fingerprint(ctx context.Context, req FingerprintRequest) (*fingerprint.Fingerprint, error) {
	raw, err := f.Run(ctx, isolate.KindFingerprint, req, nil)
	if err != nil {
		return nil, err
	}
	var fp fingerprint.Fingerprint
	if err := json.Unmarshal(raw, &fp); err != nil {
		return nil, err
	}
	return &fp, nil
}

// FingerprintHandler serves FingerprintRequests in a worker process. The
// face models are loaded by the first request and kept for the next.
type FingerprintHandler struct {
	Open func() (*fingerprint.FaceModels, error) // loads the face models

	faces *fingerprint.FaceModels
}

// Handle serves one request (the isolate.Func of isolate.KindFingerprint).
func (h *FingerprintHandler) Handle(ctx context.Context, raw json.RawMessage, _ func(float64)) (any, error) {
	var req FingerprintRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	if h.faces == nil {
		faces, err := h.Open()
		if err != nil {
			return nil, err
		}
		h.faces = faces
	}
	fp := InProcess{Options: &fingerprint.Options{Faces: h.faces}}
	if req.Check {
		return fp.FingerprintToCheck(ctx, req.Path, req.Geometry)
	}
	return fp.Fingerprint(ctx, req.Path)
}

// Close frees the face models.
func (h *FingerprintHandler) Close() error {
	err := h.faces.Close()
	h.faces = nil
	return err
}
