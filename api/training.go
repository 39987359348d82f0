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
// was fitted on, or (detector=face_cnn) the active face_cnn fine-tuned on
// them (and on the swaps of a finished generator train job, model=ID),
// measured against the active version on a held-apart quarter of the
// clips, and registered only when it is not worse (activate=true
// activates it).
// It runs on the generator's runner and is followed, cancelled and its
// artifacts fetched at /v1/generator/jobs/{id}.
func (s *Server) createTrainingJob(c *gin.Context) (*result, error) {
	c.Set(ctxJobType, "retrain")
	return s.createGeneratorJob(c)
}

// checkRetrainParams validates a training job's parameters.
// model checks the field "model", a finished train job whose swaps join
// face_cnn's training fakes.
func (s *Server) checkRetrainParams(c *gin.Context, p *GeneratorParams, fields map[string]string, model func() string) (string, string) {
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
	switch p.Detector = fields["detector"]; p.Detector {
	case "", "fusion":
		p.Detector = ""
		if fields["steps"] != "" || fields["model"] != "" {
			return "", "steps and model are for a detector's training (detector=face_cnn); a fusion is fitted, not trained in steps"
		}
	case "face_cnn":
		p.Steps = 300
		if v := fields["steps"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100_000 {
				return "", "steps must be an integer from 0 to 100,000"
			}
			p.Steps = n
		}
		if m := model(); m != "" {
			return "", m
		}
	default:
		return "", "detector must be fusion or face_cnn"
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
