package api

import (
	"math"
	"strconv"

	"github.com/gin-gonic/gin"
)

// ctxJobType, set by a route that makes one type of generator job, is the
// type its multipart body may leave out.
const ctxJobType = "job_type"

// POST /v1/training-jobs (admin): a training job — the fusion refitted on
// the operator's real clips (as self-blends) plus what the active fusion
// was fitted on, measured against it on a held-apart quarter of the clips,
// and registered only when it is not worse (activate=true activates it).
// It runs on the generator's runner and is followed, cancelled and its
// artifacts fetched at /v1/generator/jobs/{id}.
func (s *Server) createTrainingJob(c *gin.Context) (*result, error) {
	c.Set(ctxJobType, "retrain")
	return s.createGeneratorJob(c)
}

// checkRetrainParams validates a training job's parameters.
func (s *Server) checkRetrainParams(c *gin.Context, p *GeneratorParams, fields map[string]string) (string, string) {
	if s.opts.Models == nil {
		return "", "this service runs without a model registry"
	}
	if len(p.Inputs["real"]) < 2 {
		return "", "a training job needs at least 2 real videos in the file field \"real\" (a quarter of them, at least one, is held apart to measure the new model)"
	}
	if v := fields["activate"]; v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return "", "activate must be true or false"
		}
		p.Activate = b
	}
	p.Tolerance = 0.02
	if v := fields["tolerance"]; v != "" {
		t, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(t) || t < 0 || t >= 1 {
			return "", "tolerance must be a number from 0 to below 1"
		}
		p.Tolerance = t
	}
	return KindRetrain, ""
}
