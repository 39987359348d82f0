package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/fingerprint"
)

// isolateCommand is the hidden subcommand a parent starts to do media work
// in its own process (see internal/isolate): scans and fingerprints, so
// that a file that crashes OpenCV takes down this process, not the parent.
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
	fingerprints := &ledger.FingerprintHandler{Open: func() (*fingerprint.FaceModels, error) {
		if err := ortutil.Init(filepath.Join(deps, "lib", scan.ORTLibrary)); err != nil {
			return nil, err
		}
		return fingerprint.LoadFaceModels(filepath.Join(deps, "models"))
	}}
	defer fingerprints.Close()
	return isolate.Serve(ctx, os.Stdin, isolate.Mux{
		isolate.KindScan:        scans.Handle,
		isolate.KindFingerprint: fingerprints.Handle,
	}, scan.ErrorCodes)
}

// workerOptions start this binary's isolate command with the installation
// in deps, its address space capped at maxMemory bytes (0: no cap).
func workerOptions(deps string, maxMemory int64) isolate.Options {
	return isolate.Options{Args: []string{isolateCommand}, MaxMemory: maxMemory,
		Env: []string{"TRUEFRAME_DEPS=" + deps}, Codes: scan.ErrorCodes}
}

// oneShot runs each request in a new worker process.
func oneShot(opts isolate.Options) func(context.Context, isolate.Kind, any, func(float64)) (json.RawMessage, error) {
	return func(ctx context.Context, kind isolate.Kind, request any, progress func(float64)) (json.RawMessage, error) {
		return isolate.Run(ctx, opts, kind, request, progress)
	}
}
