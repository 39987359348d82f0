package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/models"
)

// cmdWorker is the hidden subcommand a parent starts to analyse one file in
// its own process (see internal/worker).
func cmdWorker(ctx context.Context) error {
	deps, err := depsDir(os.Getenv("TRUEFRAME_DEPS"))
	if err != nil {
		return err
	}
	return scan.ServeWorker(ctx, os.Stdin, func(req scan.Request) (*scan.Analyzer, error) {
		return openAnalyzer(deps, req)
	})
}

// openAnalyzer builds the Analyzer a request asks for, from the models in
// deps; the worker and --in-process scans share it. Callers must Close it.
func openAnalyzer(deps string, req scan.Request) (*scan.Analyzer, error) {
	if err := initRuntime(deps); err != nil {
		return nil, err
	}
	opts := scan.Options{ModelDir: filepath.Join(deps, "models"), FaceModel: req.FaceModel,
		Limits: req.Limits, EvidenceDir: req.EvidenceDir}
	if req.FusionPath != "" {
		f, err := models.LoadFusion(req.FusionPath)
		if err != nil {
			return nil, err
		}
		opts.Fusion = f
	}
	return scan.New(opts)
}
