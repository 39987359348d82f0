package main

import (
	"context"
	"os"

	"github.com/trueframe/trueframe/detectors/scan"
)

// cmdWorker is the hidden subcommand a parent starts to analyse one file in
// its own process (see internal/worker).
func cmdWorker(ctx context.Context) error {
	deps, err := depsDir(os.Getenv("TRUEFRAME_DEPS"))
	if err != nil {
		return err
	}
	return scan.ServeWorker(ctx, os.Stdin, func(req scan.Request) (*scan.Analyzer, error) {
		return scan.OpenRequest(deps, req)
	})
}
