package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/api"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/webhook"

	"github.com/trueframe/trueframe/api/store"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
)

// generatorJobs runs the service's generator and training jobs with
// generator/jobs, from their stored parameters.
type generatorJobs struct{ genjobs.Executor }

func (g generatorJobs) Generate(ctx context.Context, job store.Job, h genjobs.Hooks) (json.RawMessage, error) {
	var p genjobs.Params
	if err := json.Unmarshal(job.Params, &p); err != nil {
		return nil, err
	}
	return g.Run(ctx, p, h)
}

// generatorRunner returns the runner of this node's generator and
// training jobs: one at a time (training takes every core for hours), in
// child processes of this binary, with their files fetched from the blob
// store into the local cache and stored back as they end. With a shared
// database, training jobs measure against and add to the shared registry.
func (n *node) generatorRunner(hooks *webhook.Client) (*jobs.Runner, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ex := genjobs.Executor{Exe: exe, Deps: n.deps, Data: n.dataDir}
	if n.flags.distributed() {
		ex.Models = n.models
	}
	return jobs.New(n.store, nil, hooks, n.metrics, n.log, jobs.Options{Workers: 1, Kinds: api.GeneratorKinds,
		JobTimeout: jobs.GeneratorTimeout, Generator: generatorJobs{ex},
		GeneratorFiles: &jobs.GeneratorFiles{Blobs: n.blobs, CacheDir: filepath.Join(n.dataDir, "cache")}}), nil
}
