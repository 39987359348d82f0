package main

import (
	"context"
	"encoding/json"

	"github.com/trueframe/trueframe/api/store"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
)

// generatorJobs runs the service's generator and training jobs with
// generator/jobs, from their stored parameters.
type generatorJobs struct{ genjobs.Executor }

func (g generatorJobs) Generate(ctx context.Context, job store.Job, progress func(float64)) (json.RawMessage, error) {
	var p genjobs.Params
	if err := json.Unmarshal(job.Params, &p); err != nil {
		return nil, err
	}
	return g.Run(ctx, p, progress)
}
