package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
)

// Generator job kinds, as stored.
const (
	KindTrain   = "generate.train"
	KindSwap    = "generate.swap"
	KindDataset = "generate.dataset"
	// KindRetrain is a training job (POST /v1/training-jobs): self-blends
	// of the operator's real clips, the fusion refitted on them, measured
	// against the active one on a held-apart part, registered if not worse.
	KindRetrain = "train.fusion"
)

// GeneratorKinds are the kinds the generator's runner works.
var GeneratorKinds = []string{KindTrain, KindSwap, KindDataset, KindRetrain}

// GeneratorParams are a generator job's parameters (generator/jobs.Params).
type GeneratorParams = genjobs.Params

// GeneratorJob is a generator job as the API shows it.
type GeneratorJob struct {
	ID         string          `json:"id"`
	URL        string          `json:"url"`
	Type       string          `json:"type"`
	Status     store.State     `json:"status"`
	Progress   float64         `json:"progress"`
	Detail     json.RawMessage `json:"detail,omitempty"` // e.g. training step, loss, steps/s, ETA
	Attempts   int             `json:"attempts"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Error      *ErrorDetail    `json:"error,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	Artifacts  []EvidenceFile  `json:"artifacts,omitempty"`
}

// ProgressFile is where a generator job writes its detailed progress.
const ProgressFile = genjobs.ProgressFile

var generatorIDPattern = regexp.MustCompile(`^gen_[0-9a-f]{24}$`)

// A generator job's files are in the blob store under generator/<id>/ (its
// EvidenceDir; see jobs.GeneratorFiles), where any generator node reaches
// them: the API node stores its inputs there, the node that runs it its
// artifacts and what it resumes from.

func (s *Server) generatorView(ctx context.Context, j store.Job, withResult bool) GeneratorJob {
	var p GeneratorParams
	json.Unmarshal(j.Params, &p)
	g := GeneratorJob{ID: j.ID, URL: "/v1/generator/jobs/" + j.ID, Type: p.Type, Status: j.State, Progress: j.Progress,
		Attempts: j.Attempts, CreatedAt: j.CreatedAt, StartedAt: timePtr(j.StartedAt)}
	if j.State == store.Done || j.State == store.Failed {
		g.FinishedAt = timePtr(j.FinishedAt)
	}
	if j.State == store.Failed {
		g.Error = &ErrorDetail{Code: j.ErrorCode, Message: j.ErrorMessage}
	}
	// A list reads the detail of the running jobs only: one request to the
	// store per job.
	if withResult || j.State == store.Running {
		if b := jobs.GeneratorProgress(ctx, s.blobs, j.EvidenceDir); json.Valid(b) {
			g.Detail = b
		}
	}
	if withResult && j.State == store.Done {
		g.Result = j.Result
		prefix := j.EvidenceDir + jobs.GeneratorArtifacts
		objs, err := s.blobs.List(ctx, prefix)
		if err != nil {
			s.log.Warn("listing a generator job's artifacts", "job_id", j.ID, "err", err)
		}
		for _, o := range objs[:min(len(objs), 1000)] {
			name := strings.TrimPrefix(o.Key, prefix)
			g.Artifacts = append(g.Artifacts, EvidenceFile{Name: name, URL: g.URL + "/artifacts/" + name})
		}
	}
	return g
}

// POST /v1/generator/jobs: multipart with "type" (train, swap, dataset),
// the parameters as fields, and the videos as files.
func (s *Server) createGeneratorJob(c *gin.Context) (*result, error) {
	key := callerKey(c)
	f, err := s.receiveForm(c, uploadForm{
		hint:     "send a multipart/form-data body: type, parameters, and the videos as files",
		overhead: 1 << 20,
		files:    map[string]int{"a": 64, "b": 64, "target": 64, "real": 64},
		fields: map[string]int{"type": 256, "steps": 256, "checkpoint_every": 256, "model": 256, "direction": 256,
			"activate": 256, "tolerance": 256, "detector": 256},
		strict: true,
		check:  func() error { return s.generatorQueueRoom(c, key.ID) },
	})
	if err != nil {
		return nil, err
	}
	defer f.discard()
	id := newGeneratorID()
	prefix := jobs.GeneratorPrefix(id)
	// Not the request's context: a client leaving at this instant must not
	// interrupt the insert after its commit and make us delete the inputs.
	ctx := context.WithoutCancel(c)
	keep := false
	defer func() {
		if !keep {
			s.blobs.DeleteAll(ctx, prefix)
		}
	}()
	p := GeneratorParams{Inputs: map[string][]string{}}
	for _, field := range slices.Sorted(maps.Keys(f.files)) {
		for i, up := range f.files[field] {
			// The stored name gains a prefix (the client may send one name
			// twice): the client's part is shortened to keep it a valid name.
			rel := jobs.GeneratorInputs + field + "/" + fmt.Sprintf("%02d-%s", i, inputName(shorten(up.name, 200)))
			if _, _, err := s.blobs.PutFile(ctx, prefix+rel, up.path, nil); err != nil {
				return nil, fmt.Errorf("storing an input: %w", err)
			}
			p.Inputs[field] = append(p.Inputs[field], rel)
		}
	}
	kind, msg := s.checkGeneratorParams(c, &p, f.fields)
	if msg != "" {
		return nil, badRequest("%s", msg)
	}
	params, _ := json.Marshal(p)
	job := store.Job{ID: id, KeyID: key.ID, Kind: kind, Params: params, FileName: p.Type, EvidenceDir: prefix}
	if err := s.store.CreateJob(ctx, &job); err != nil {
		return nil, fmt.Errorf("queueing the job: %w", err)
	}
	keep = true
	c.Set("job_id", id)
	c.Header("Location", "/v1/generator/jobs/"+id)
	return accepted(s.generatorView(c, job, false)), nil
}

// inputName makes a client's file name a valid last segment of a blob key.
func inputName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(name, "_"))
	if strings.HasSuffix(name, ".attrs") { // a suffix blob stores refuse
		name += "_"
	}
	return name
}

// generatorQueueRoom refuses a generator job when too many wait, in all
// or for the key.
func (s *Server) generatorQueueRoom(c *gin.Context, keyID string) error {
	if n, err := s.store.Waiting(c, GeneratorKinds...); err != nil {
		return fmt.Errorf("counting generator jobs: %w", err)
	} else if n >= s.opts.MaxWaiting {
		return refuseRetry(errQueueFull, fmt.Sprintf("%d generator jobs are waiting; try again later", n), time.Minute)
	}
	if n, err := s.store.WaitingFor(c, keyID, GeneratorKinds...); err != nil {
		return fmt.Errorf("counting the key's generator jobs: %w", err)
	} else if n >= s.opts.MaxQueuedPerKey {
		return refuseRetry(errQueueFull,
			fmt.Sprintf("this key has %d generator jobs waiting, its limit; try again when one has finished", n), time.Minute)
	}
	return nil
}

// checkGeneratorParams validates the parameters of a new job and returns
// its kind, or a message for the 400 answer.
func (s *Server) checkGeneratorParams(c *gin.Context, p *GeneratorParams, fields map[string]string) (string, string) {
	p.Type = fields["type"]
	if forced := c.GetString(ctxJobType); forced != "" {
		if p.Type != "" && p.Type != forced {
			return "", "this route makes " + forced + " jobs; leave type out"
		}
		p.Type = forced
	}
	need := func(field string, min int) string {
		if len(p.Inputs[field]) < min {
			return fmt.Sprintf("a %s job needs at least %d video(s) in the file field %q", p.Type, min, field)
		}
		return ""
	}
	model := func() string {
		id := fields["model"]
		if id == "" {
			return ""
		}
		if !generatorIDPattern.MatchString(id) {
			return "model must be the id of a finished train job"
		}
		j, err := s.store.Job(c, id)
		key := callerKey(c)
		if err != nil || j.Kind != KindTrain || j.State != store.Done || (j.KeyID != key.ID && key.Role != store.RoleAdmin) {
			return "model must be the id of one of your finished train jobs"
		}
		p.Model = id
		return ""
	}
	switch p.Type {
	case "train":
		p.Steps = 5000
		if v := fields["steps"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10_000_000 {
				return "", "steps must be an integer from 1 to 10,000,000"
			}
			p.Steps = n
		}
		if v := fields["checkpoint_every"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10_000_000 {
				return "", "checkpoint_every must be an integer from 1 to 10,000,000"
			}
			p.CheckpointEvery = n
		}
		if m := need("a", 1) + need("b", 1); m != "" {
			return "", m
		}
		return KindTrain, ""
	case "swap":
		p.Direction = fields["direction"]
		if p.Direction == "" {
			p.Direction = "a2b"
		}
		if p.Direction != "a2b" && p.Direction != "b2a" {
			return "", "direction must be a2b (the target shows A; it gets B's face) or b2a"
		}
		if fields["model"] == "" {
			return "", "a swap job needs model: the id of a finished train job"
		}
		if m := model(); m != "" {
			return "", m
		}
		if len(p.Inputs["target"]) != 1 {
			return "", "a swap job needs exactly one video in the file field \"target\""
		}
		return KindSwap, ""
	case "dataset":
		if m := model(); m != "" {
			return "", m
		}
		if m := need("real", 1); m != "" {
			return "", m
		}
		return KindDataset, ""
	case "retrain":
		if c.GetString(ctxJobType) != "retrain" {
			return "", "training jobs are made at POST /v1/training-jobs (admin)"
		}
		return s.checkRetrainParams(c, p, fields, model)
	}
	return "", "type must be train, swap, dataset or retrain"
}

func newGeneratorID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "gen_" + hex.EncodeToString(b)
}

// ownGeneratorJob loads the generator job named by the :id parameter, if
// the caller may see it.
func (s *Server) ownGeneratorJob(c *gin.Context) (store.Job, error) {
	return s.visibleJob(c, generatorIDPattern, GeneratorKinds, "generator job")
}

// GET /v1/generator/jobs/{id}
func (s *Server) getGeneratorJob(c *gin.Context) (*result, error) {
	j, err := s.ownGeneratorJob(c)
	if err != nil {
		return nil, err
	}
	return ok200(s.generatorView(c, j, true)), nil
}

// GET /v1/generator/jobs/{id}/artifacts/{name...}
func (s *Server) getArtifact(c *gin.Context) (*result, error) {
	j, err := s.ownGeneratorJob(c)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(c.Param("name"), "/")
	missing := notFound("no artifact with this name")
	if j.State != store.Done || name == "" {
		return nil, missing
	}
	// The key's checks refuse names that climb out of the job's artifacts.
	r, err := s.blobs.NewReader(c, j.EvidenceDir+jobs.GeneratorArtifacts+name)
	if errors.Is(err, blobs.ErrNotFound) || errors.Is(err, blobs.ErrInvalidKey) {
		return nil, missing
	}
	if err != nil {
		return nil, fmt.Errorf("reading an artifact: %w", err)
	}
	return written(func(c *gin.Context) {
		defer r.Close()
		c.Header("X-Content-Type-Options", "nosniff")
		base := path.Base(name)
		c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": base}))
		http.ServeContent(c.Writer, c.Request, base, r.ModTime(), r)
	}), nil
}

// GET /v1/generator/jobs
func (s *Server) listGeneratorJobs(c *gin.Context) (*result, error) {
	key := callerKey(c)
	owner := key.ID
	if key.Role == store.RoleAdmin {
		owner = ""
	}
	jobs, _, err := s.store.Jobs(c, owner, GeneratorKinds, 0, 200)
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	out := make([]GeneratorJob, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.generatorView(c, j, false))
	}
	return ok200(gin.H{"jobs": out}), nil
}

// DELETE /v1/generator/jobs/{id}
func (s *Server) deleteGeneratorJob(c *gin.Context) (*result, error) {
	j, err := s.ownGeneratorJob(c)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.DeleteJob(c, j.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("deleting the job: %w", err)
	}
	if s.generatorCancel != nil {
		if stopped := s.generatorCancel(j.ID); stopped != nil {
			http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(3 * time.Minute))
			// The child may be saving a checkpoint; give it its grace time.
			select {
			case <-stopped:
			case <-time.After(150 * time.Second):
			}
		}
	}
	// A node running it elsewhere stops at its next heartbeat and removes
	// what it stored meanwhile.
	if _, err := s.blobs.DeleteAll(context.WithoutCancel(c), j.EvidenceDir); err != nil {
		return nil, fmt.Errorf("deleting the job's files: %w", err)
	}
	return noContent(), nil
}
