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
		if err := initRuntime(deps); err != nil {
			return nil, err
		}
		var fusion *models.Fusion
		if req.FusionPath != "" {
			if fusion, err = models.LoadFusion(req.FusionPath); err != nil {
				return nil, err
			}
		}
		return scan.New(scan.Options{ModelDir: filepath.Join(deps, "models"), FaceModel: req.FaceModel,
			Fusion: fusion, Limits: req.Limits, EvidenceDir: req.EvidenceDir})
	})
}
