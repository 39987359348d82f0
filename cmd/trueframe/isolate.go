package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/internal/worker"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/fingerprint"
)

// workRequest is what every worker request starts with: Kind picks the
// work ("" is a scan, for which the rest is a scan.Request).
type workRequest struct {
	Kind string `json:"kind,omitempty"`
	Path string `json:"path"`
	// Check fingerprints a file to verify (ledger.CheckOptions), laid out
	// per Geometry, instead of one to register.
	Check    bool                 `json:"check,omitempty"`
	Geometry fingerprint.Geometry `json:"geometry,omitzero"`
}

const kindFingerprint = "fingerprint"

// isolateCommand is the hidden subcommand a parent starts to do media work
// in its own process (see internal/worker): scans and fingerprints, so that
// a file that crashes OpenCV takes down this process, not the parent.
const isolateCommand = "isolate"

func cmdIsolate(*flag.FlagSet) action {
	return func(ctx context.Context, _ []string) error { return serveWork(ctx) }
}

func serveWork(ctx context.Context) error {
	deps, err := depsDir(os.Getenv("TRUEFRAME_DEPS"))
	if err != nil {
		return err
	}
	scans := &scan.WorkerHandler{Open: func(req scan.Request) (*scan.Analyzer, error) {
		return scan.OpenRequest(deps, req)
	}}
	defer scans.Close()
	var faces *fingerprint.FaceModels // loaded by the first fingerprint request
	defer func() { faces.Close() }()
	return worker.Serve(ctx, os.Stdin, func(ctx context.Context, raw json.RawMessage, progress func(float64)) (any, error) {
		var req workRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		switch req.Kind {
		case "":
			return scans.Handle(ctx, raw, progress)
		case kindFingerprint:
			if faces == nil {
				if err := ortutil.Init(filepath.Join(deps, "lib", scan.ORTLibrary)); err != nil {
					return nil, err
				}
				if faces, err = fingerprint.LoadFaceModels(filepath.Join(deps, "models")); err != nil {
					return nil, err
				}
			}
			opts := &fingerprint.Options{Faces: faces}
			if req.Check {
				opts = ledger.CheckOptions(opts, req.Geometry)
			}
			return fingerprint.Compute(ctx, req.Path, opts)
		}
		return nil, errors.New("unknown kind of work: " + req.Kind)
	}, scan.ErrorCode)
}

// workerRunner runs one request in a worker process: worker.Run with fixed
// options, or a warm pool's Run.
type workerRunner func(ctx context.Context, request any, progress func(float64)) (json.RawMessage, error)

// isolatedFingerprinter computes fingerprints in worker processes.
type isolatedFingerprinter struct{ run workerRunner }

func (f isolatedFingerprinter) Fingerprint(ctx context.Context, path string) (*fingerprint.Fingerprint, error) {
	return f.fingerprint(ctx, workRequest{Kind: kindFingerprint, Path: path})
}

// FingerprintToCheck fingerprints a file to verify (ledger.CheckFingerprinter).
func (f isolatedFingerprinter) FingerprintToCheck(ctx context.Context, path string, g fingerprint.Geometry) (*fingerprint.Fingerprint, error) {
	return f.fingerprint(ctx, workRequest{Kind: kindFingerprint, Path: path, Check: true, Geometry: g})
}

func (f isolatedFingerprinter) fingerprint(ctx context.Context, req workRequest) (*fingerprint.Fingerprint, error) {
	raw, err := f.run(ctx, req, nil)
	if err != nil {
		return nil, scan.RemoteError(err)
	}
	var fp fingerprint.Fingerprint
	if err := json.Unmarshal(raw, &fp); err != nil {
		return nil, err
	}
	return &fp, nil
}

// oneShot runs each request in a new worker process.
func oneShot(opts worker.Options) workerRunner {
	return func(ctx context.Context, request any, progress func(float64)) (json.RawMessage, error) {
		return worker.Run(ctx, opts, request, progress)
	}
}
