package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/media/video"
)

// Analysis is a job as the API shows it (GET /v1/analyses/{id}, the 202
// answer and the webhook body).
type Analysis struct {
	ID         string          `json:"id"`
	URL        string          `json:"url"`
	Status     store.State     `json:"status"`
	Progress   float64         `json:"progress"`
	File       FileInfo        `json:"file"`
	Attempts   int             `json:"attempts"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Error      *ErrorDetail    `json:"error,omitempty"`   // when failed
	Summary    *Summary        `json:"summary,omitempty"` // when done, in lists too
	Result     json.RawMessage `json:"result,omitempty"`  // the scan report, when done
	Evidence   []EvidenceFile  `json:"evidence,omitempty"`
	Webhook    *WebhookStatus  `json:"webhook,omitempty"`
}

// FileInfo describes the uploaded file.
type FileInfo struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	SizeBytes int64  `json:"size_bytes"`
}

// Summary is the verdict and score of a finished analysis: what a list of
// analyses shows without carrying every report.
type Summary struct {
	Verdict string  `json:"verdict"`
	Score   float64 `json:"score"`
}

// EvidenceFile is one evidence image of a finished analysis.
type EvidenceFile struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// WebhookStatus is the delivery status of a job's callback.
type WebhookStatus struct {
	URL           string     `json:"url"`
	State         string     `json:"state"` // pending, delivered, failed; "" until the job ends
	Attempts      int        `json:"attempts"`
	LastCode      int        `json:"last_status_code,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// analysisView renders a job; withResult adds the report and evidence.
func (s *Server) analysisView(ctx context.Context, j store.Job, withResult bool) Analysis {
	a := Analysis{ID: j.ID, URL: "/v1/analyses/" + j.ID, Status: j.State, Progress: j.Progress,
		File:     FileInfo{Name: j.FileName, SHA256: j.SHA256, SizeBytes: j.SizeBytes},
		Attempts: j.Attempts, CreatedAt: j.CreatedAt, StartedAt: timePtr(j.StartedAt), FinishedAt: timePtr(j.FinishedAt)}
	if j.State == store.Failed {
		a.Error = &ErrorDetail{Code: j.ErrorCode, Message: j.ErrorMessage}
	}
	if j.State != store.Done && j.State != store.Failed {
		a.FinishedAt = nil
	}
	if j.State == store.Done {
		sum := Summary{Verdict: j.Verdict, Score: j.Score}
		if j.Result != nil {
			json.Unmarshal(j.Result, &sum)
		}
		if sum.Verdict != "" {
			a.Summary = &sum
		}
	}
	if withResult && j.State == store.Done {
		a.Result = j.Result
		a.Evidence = s.evidenceFiles(ctx, j, a.URL)
	}
	if j.CallbackURL != "" {
		a.Webhook = &WebhookStatus{URL: j.CallbackURL, State: j.Webhook.State, Attempts: j.Webhook.Attempts,
			LastCode: j.Webhook.LastCode, LastError: j.Webhook.LastError}
		if j.Webhook.State == store.WebhookPending {
			a.Webhook.NextAttemptAt = timePtr(j.Webhook.NextAt)
		}
	}
	return a
}

// evidenceFiles lists a done analysis's evidence images, from the blob
// store. A store that does not answer leaves the list empty (and is
// logged): the report, from the database, is still worth showing.
func (s *Server) evidenceFiles(ctx context.Context, j store.Job, url string) []EvidenceFile {
	objs, err := s.blobs.List(ctx, j.EvidenceDir)
	if err != nil {
		s.log.Warn("listing an analysis's evidence", "job_id", j.ID, "err", err)
		return nil
	}
	var files []EvidenceFile
	for _, o := range objs {
		if name := strings.TrimPrefix(o.Key, j.EvidenceDir); evidenceName.MatchString(name) {
			files = append(files, EvidenceFile{Name: name, URL: url + "/evidence/" + name})
		}
	}
	return files
}

// WebhookPayload is the body POSTed to a callback URL.
type WebhookPayload struct {
	Event    string    `json:"event"` // analysis.completed or analysis.failed
	SentAt   time.Time `json:"sent_at"`
	Analysis Analysis  `json:"analysis"`
}

// WebhookBody renders the webhook body of a finished job; the job runner
// calls it for each delivery.
func (s *Server) WebhookBody(j store.Job) ([]byte, error) {
	// The runner gives no context; the evidence listing must not hold up
	// deliveries for long.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := s.analysisView(ctx, j, true)
	a.Webhook = nil // the delivery status is being written as we speak
	return json.Marshal(WebhookPayload{Event: jobs.WebhookEvent(j), SentAt: time.Now().UTC(), Analysis: a})
}

var (
	jobIDPattern = regexp.MustCompile(`^an_[0-9a-f]{24}$`)
	evidenceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

func newJobID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "an_" + hex.EncodeToString(b)
}

// POST /v1/analyses
func (s *Server) createAnalysis(c *gin.Context) (*result, error) {
	key := callerKey(c)
	wait, err := s.parseWait(c.Query("wait"))
	if err != nil {
		return nil, err
	}
	f, err := s.receiveForm(c, uploadForm{
		hint: "send the video as multipart/form-data with the file in the field \"file\"",
		// Slack for the multipart headers and small fields around the file.
		overhead: 64 << 10,
		files:    map[string]int{"file": 1}, required: "file",
		fields: map[string]int{"callback_url": 2048}, fieldsInQuery: true,
		analysis: true,
		check:    func() error { return s.analysisQueueRoom(c, key.ID) },
	})
	if err != nil {
		return nil, err
	}
	defer f.discard()
	up, callback := f.file("file"), f.fields["callback_url"]
	if callback != "" {
		if err := s.hooks.Check(callback); err != nil {
			return nil, err
		}
	}

	id := newJobID()
	upload := uploadKey(id, up.container)
	if err := s.keep(c, up, upload); err != nil {
		return nil, err
	}
	// After keep: storing a large file on a remote store takes a while.
	f.rc.SetWriteDeadline(time.Now().Add(wait + 30*time.Second))
	job := store.Job{ID: id, KeyID: key.ID, FileName: up.name, FilePath: upload,
		EvidenceDir: evidencePrefix(id), SHA256: up.sha256, SizeBytes: up.size, CallbackURL: callback}
	// Not the request's context: a client leaving at this instant must not
	// interrupt the insert after its commit and make us delete the upload.
	if err := s.store.CreateJob(context.WithoutCancel(c), &job); err != nil {
		s.blobs.Delete(context.WithoutCancel(c), upload)
		return nil, fmt.Errorf("queueing the job: %w", err)
	}
	// Queued: it counts in the queue now, no longer as an upload.
	f.release()
	c.Set("job_id", id)
	s.metrics.UploadBytes.Add(float64(job.SizeBytes))
	s.log.Info("analysis queued", "job_id", id, "key_id", key.ID, "bytes", job.SizeBytes, "sha256", job.SHA256)

	c.Header("Location", "/v1/analyses/"+id)
	if wait > 0 {
		if j, ok := s.waitFor(c, id, wait); ok {
			return ok200(s.analysisView(c, j, true)), nil
		}
	}
	return accepted(s.analysisView(c, job, false)), nil
}

// analysisQueueRoom refuses an analysis when the queue, or the key's share
// of it, is full. Uploads in progress count too (this one included), so
// that many at once cannot all pass the check (and fill the disk) before
// any of them is queued; they stop counting once queued.
func (s *Server) analysisQueueRoom(c *gin.Context, keyID string) error {
	all, mine, err := s.store.AnalysesUploading(c, keyID)
	if err != nil {
		return fmt.Errorf("counting uploads in progress: %w", err)
	}
	uploading, up := all-1, mine-1 // not this one
	if n, err := s.store.Waiting(c, store.KindAnalysis); err != nil {
		return fmt.Errorf("counting queued jobs: %w", err)
	} else if n+uploading >= s.opts.MaxWaiting {
		return refuseRetry(errQueueFull,
			fmt.Sprintf("the queue is full (%d jobs waiting, %d being uploaded); try again later", n, uploading), 30*time.Second)
	}
	// And per key, so that one key cannot take the whole queue.
	if n, err := s.store.WaitingFor(c, keyID, store.KindAnalysis); err != nil {
		return fmt.Errorf("counting the key's queued jobs: %w", err)
	} else if n+up >= s.opts.MaxQueuedPerKey {
		return refuseRetry(errQueueFull,
			fmt.Sprintf("this key has %d analyses waiting and %d being uploaded, its limit of %d; try again when one has finished",
				n, up, s.opts.MaxQueuedPerKey), 30*time.Second)
	}
	return nil
}

// cleanName keeps the base name of the client's file name, for display,
// at most 255 bytes (a file name's limit on most file systems).
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == ".." || name == "/" {
		return "upload"
	}
	return strings.ToValidUTF8(shorten(name, 255), "_")
}

// shorten cuts name to at most n bytes, keeping its extension (when short)
// and whole UTF-8 characters.
func shorten(name string, n int) string {
	if len(name) <= n {
		return name
	}
	ext := filepath.Ext(name)
	if len(ext) > 16 {
		ext = ""
	}
	cut := n - len(ext)
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + ext
}

func (s *Server) parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
		return 0, badRequest("wait must be a finite number of seconds ≥ 0, got %q", truncate(v, 32))
	}
	// Clamped in seconds, before the conversion: a huge float converted to
	// a Duration overflows (to a negative one on amd64, which became a
	// write deadline in the past and a request never answered).
	if n >= s.opts.MaxWait.Seconds() {
		return s.opts.MaxWait, nil
	}
	return time.Duration(n * float64(time.Second)), nil
}

// truncate shortens a client's value quoted back in an error message.
func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	return strings.ToValidUTF8(v[:n], "") + "…"
}

// waitFor waits up to d for a job to finish; it reports the job and
// whether it finished.
func (s *Server) waitFor(c *gin.Context, id string, d time.Duration) (store.Job, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		finished := s.runner.Finished() // before reading, so no finish is missed
		j, err := s.store.Job(c, id)
		if err != nil {
			return j, false
		}
		if j.State == store.Done || j.State == store.Failed {
			return j, true
		}
		select {
		case <-finished:
		case <-timer.C:
			return j, false
		case <-c.Done():
			return j, false
		case <-s.closing:
			return j, false
		}
	}
}

// ownJob loads the analysis named by the :id parameter, if the caller may
// see it.
func (s *Server) ownJob(c *gin.Context) (store.Job, error) {
	return s.visibleJob(c, jobIDPattern, []string{store.KindAnalysis}, "analysis")
}

// visibleJob loads the job named by the :id parameter when the caller may
// see it (its own, or any for admins) and it is of one of the route's
// kinds. Other keys' jobs are reported missing, not forbidden, so ids
// leak nothing.
func (s *Server) visibleJob(c *gin.Context, pattern *regexp.Regexp, kinds []string, what string) (store.Job, error) {
	id := c.Param("id")
	c.Set("job_id", id)
	missing := notFound("no " + what + " with this id")
	if !pattern.MatchString(id) {
		return store.Job{}, missing
	}
	j, err := s.store.Job(c, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, missing
	}
	if err != nil {
		return store.Job{}, fmt.Errorf("reading the job: %w", err)
	}
	key := callerKey(c)
	if (j.KeyID != key.ID && key.Role != store.RoleAdmin) || !slices.Contains(kinds, j.Kind) {
		return store.Job{}, missing
	}
	return j, nil
}

// GET /v1/analyses/{id}
func (s *Server) getAnalysis(c *gin.Context) (*result, error) {
	j, err := s.ownJob(c)
	if err != nil {
		return nil, err
	}
	if j, err = s.awaitEnd(c, j); err != nil {
		return nil, err
	}
	return ok200(s.analysisView(c, j, true)), nil
}

// awaitEnd long-polls: with ?wait=, a job still queued or running is
// answered when it ends or the wait runs out, as it is then.
func (s *Server) awaitEnd(c *gin.Context, j store.Job) (store.Job, error) {
	wait, err := s.parseWait(c.Query("wait"))
	if err != nil {
		return j, err
	}
	if wait > 0 && j.State != store.Done && j.State != store.Failed {
		http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(wait + 30*time.Second))
		j, _ = s.waitFor(c, j.ID, wait)
	}
	return j, nil
}

// GET /v1/analyses/{id}/evidence/{name}
func (s *Server) getEvidence(c *gin.Context) (*result, error) {
	j, err := s.ownJob(c)
	if err != nil {
		return nil, err
	}
	name := c.Param("name")
	missing := notFound("no evidence file with this name")
	if !evidenceName.MatchString(name) {
		return nil, missing
	}
	r, err := s.blobs.NewReader(c, j.EvidenceDir+name)
	if errors.Is(err, blobs.ErrNotFound) || errors.Is(err, blobs.ErrInvalidKey) {
		return nil, missing
	}
	if err != nil {
		return nil, fmt.Errorf("reading evidence: %w", err)
	}
	return written(func(c *gin.Context) {
		defer r.Close()
		c.Header("Cache-Control", "private, max-age=3600")
		c.Header("X-Content-Type-Options", "nosniff")
		// Typed from the name's extension, as a file server does.
		http.ServeContent(c.Writer, c.Request, name, r.ModTime(), r)
	}), nil
}

// containerType is the media type of a container media/video recognises;
// others are served as application/octet-stream.
func containerType(container string) string {
	switch container {
	case "mp4":
		return "video/mp4"
	case "mov":
		return "video/quicktime"
	case "matroska":
		return "video/x-matroska"
	case "webm":
		return "video/webm"
	case "avi":
		return "video/x-msvideo"
	case "mpeg-ps", "mpeg-video":
		return "video/mpeg"
	case "mpeg-ts":
		return "video/mp2t"
	case "ogg":
		return "video/ogg"
	}
	return "application/octet-stream"
}

// GET /v1/analyses/{id}/file: the uploaded file as it was received, so
// that the browser page can play a past analysis beside its timeline.
func (s *Server) getUploadedFile(c *gin.Context) (*result, error) {
	j, err := s.ownJob(c)
	if err != nil {
		return nil, err
	}
	gone := notFound("the uploaded file is no longer kept")
	f, err := s.blobs.NewReader(c, j.FilePath)
	if errors.Is(err, blobs.ErrNotFound) || errors.Is(err, blobs.ErrInvalidKey) {
		return nil, gone
	}
	if err != nil {
		return nil, fmt.Errorf("reading the upload: %w", err)
	}
	return written(func(c *gin.Context) {
		defer f.Close()
		// The type is judged from the bytes, as the upload was; never from
		// the client's file name.
		head := make([]byte, 512)
		n, _ := f.ReadAt(head, 0)
		c.Header("Content-Type", containerType(video.Container(head[:n])))
		c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": j.FileName}))
		c.Header("Cache-Control", "private, max-age=3600")
		c.Header("X-Content-Type-Options", "nosniff")
		// A large video takes longer than an ordinary answer: allow it as
		// long as its upload was allowed.
		http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(s.opts.UploadTimeout))
		http.ServeContent(c.Writer, c.Request, "", f.ModTime(), f)
	}), nil
}

// DELETE /v1/analyses/{id}
func (s *Server) deleteAnalysis(c *gin.Context) (*result, error) {
	j, err := s.ownJob(c)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.DeleteJob(c, j.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("deleting the job: %w", err)
	}
	if stopped := s.runner.Cancel(j.ID); stopped != nil {
		// Wait for its worker, so that it writes no evidence after the removal.
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
		}
	}
	// The row is gone first: a crash now leaves orphan blobs, never a job
	// pointing to missing ones. Orphans are swept at start (Prepare).
	if err := s.deleteBlobs(c, j); err != nil {
		s.log.Warn("removing a deleted job's files", "job_id", j.ID, "err", err)
	}
	return noContent(), nil
}

// AnalysisPage is one page of GET /v1/analyses.
type AnalysisPage struct {
	Analyses   []Analysis `json:"analyses"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// GET /v1/analyses?limit=N&cursor=C
func (s *Server) listAnalyses(c *gin.Context) (*result, error) {
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return nil, badRequest("limit must be an integer from 1 to 500")
		}
		limit = n
	}
	var before int64
	if v := c.Query("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) != 8 {
			return nil, badRequest("cursor is not one this service gave")
		}
		before = int64(binary.BigEndian.Uint64(b))
	}
	key := callerKey(c)
	owner := key.ID
	if key.Role == store.RoleAdmin {
		owner = ""
	}
	jobs, next, err := s.store.Jobs(c, owner, []string{store.KindAnalysis}, before, limit)
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	page := AnalysisPage{Analyses: make([]Analysis, 0, len(jobs))}
	for _, j := range jobs {
		page.Analyses = append(page.Analyses, s.analysisView(c, j, false))
	}
	if next != 0 {
		page.NextCursor = base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(next)))
	}
	return ok200(page), nil
}
