package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

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

func (s *Server) generatorDir() string { return filepath.Join(s.opts.DataDir, "generator") }

func (s *Server) generatorView(j store.Job, withResult bool) GeneratorJob {
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
	if b, err := os.ReadFile(filepath.Join(j.EvidenceDir, ProgressFile)); err == nil && json.Valid(b) {
		g.Detail = b
	}
	if withResult && j.State == store.Done {
		g.Result = j.Result
		out := filepath.Join(j.EvidenceDir, "out")
		filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || len(g.Artifacts) >= 1000 {
				return nil
			}
			rel, _ := filepath.Rel(out, path)
			g.Artifacts = append(g.Artifacts, EvidenceFile{Name: filepath.ToSlash(rel), URL: g.URL + "/artifacts/" + filepath.ToSlash(rel)})
			return nil
		})
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
		fields: map[string]int{"type": 256, "steps": 256, "model": 256, "direction": 256,
			"activate": 256, "tolerance": 256},
		strict: true,
		check:  func() error { return s.generatorQueueRoom(c, key.ID) },
	})
	if err != nil {
		return nil, err
	}
	defer f.discard()
	id := newGeneratorID()
	dir := filepath.Join(s.generatorDir(), id)
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	p := GeneratorParams{Inputs: map[string][]string{}, WorkDir: dir}
	for _, field := range slices.Sorted(maps.Keys(f.files)) {
		for i, up := range f.files[field] {
			// The stored name gains a prefix (the client may send one name
			// twice): the client's part is shortened to keep it a valid name.
			dst := filepath.Join(dir, "inputs", field, fmt.Sprintf("%02d-%s", i, shorten(up.name, 200)))
			err := os.MkdirAll(filepath.Dir(dst), 0o750)
			if err == nil {
				err = os.Rename(up.path, dst)
			}
			if err != nil {
				return nil, fmt.Errorf("storing an input: %w", err)
			}
			up.path = "" // moved into the job's directory
			p.Inputs[field] = append(p.Inputs[field], dst)
		}
	}
	kind, msg := s.checkGeneratorParams(c, &p, f.fields)
	if msg != "" {
		return nil, badRequest("%s", msg)
	}
	params, _ := json.Marshal(p)
	job := store.Job{ID: id, KeyID: key.ID, Kind: kind, Params: params, FileName: p.Type, EvidenceDir: dir}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("storing the inputs: %w", err)
	}
	// Not the request's context: a client leaving at this instant must not
	// interrupt the insert after its commit and make us delete the upload.
	if err := s.store.CreateJob(context.WithoutCancel(c), &job); err != nil {
		return nil, fmt.Errorf("queueing the job: %w", err)
	}
	keep = true
	c.Set("job_id", id)
	c.Header("Location", "/v1/generator/jobs/"+id)
	return accepted(s.generatorView(job, false)), nil
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
		p.Model, p.ModelDir = id, filepath.Join(j.EvidenceDir, "out", "model")
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
		return s.checkRetrainParams(c, p, fields)
	}
	return "", "type must be train, swap, dataset or retrain"
}

func newGeneratorID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "gen_" + hex.EncodeToString(b)
}

func syncDir(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
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
	return ok200(s.generatorView(j, true)), nil
}

// GET /v1/generator/jobs/{id}/artifacts/{name...}
func (s *Server) getArtifact(c *gin.Context) (*result, error) {
	j, err := s.ownGeneratorJob(c)
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(c.Param("name"), "/")
	out := filepath.Join(j.EvidenceDir, "out")
	path := filepath.Join(out, filepath.FromSlash(name))
	rel, err := filepath.Rel(out, path)
	st, statErr := os.Stat(path)
	if j.State != store.Done || name == "" || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) ||
		statErr != nil || !st.Mode().IsRegular() {
		return nil, notFound("no artifact with this name")
	}
	return written(func(c *gin.Context) {
		c.Header("X-Content-Type-Options", "nosniff")
		c.FileAttachment(path, filepath.Base(path))
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
		out = append(out, s.generatorView(j, false))
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
	os.RemoveAll(j.EvidenceDir)
	return noContent(), nil
}
