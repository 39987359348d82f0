// Package jobs runs the service's background work: analyses and generator
// jobs, queued in River (queue.go) and each run by a Runner, which drives a
// worker subprocess, records the outcome in the store, and sends the
// webhooks of finished jobs.
package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
	"github.com/trueframe/trueframe/detectors/scan"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
	"github.com/trueframe/trueframe/internal/isolate"
)

// Analyzer analyses a job's upload. *Pooled (warm worker subprocesses) is
// the one the service uses.
type Analyzer interface {
	Analyze(ctx context.Context, job store.Job, progress func(float64)) (*scan.Report, error)
}

// Pooled runs each job in a worker subprocess from a pool of warm ones: a
// crash kills one job's process, never the service.
type Pooled struct {
	scan.Pooled
}

// Analyze analyses the job's upload, writing evidence to the job's directory.
func (p *Pooled) Analyze(ctx context.Context, job store.Job, progress func(float64)) (*scan.Report, error) {
	return p.Pooled.Analyze(ctx, job.FilePath, job.EvidenceDir, progress)
}

// Generator runs the jobs of kinds other than analyses (the face-swap
// generator's train, swap and dataset jobs) and returns their result.
type Generator interface {
	Generate(ctx context.Context, job store.Job, h genjobs.Hooks) (json.RawMessage, error)
}

// Options tune a Runner. The zero value is usable.
type Options struct {
	// Kinds are the job kinds this runner works (default: analyses only).
	// Analyses go to the Analyzer, every other kind to Generator.
	Kinds       []string
	Generator   Generator
	Workers     int           // concurrent jobs on this node; default: the number of CPUs
	MaxAttempts int           // tries of a job whose worker crashes; default 3
	JobTimeout  time.Duration // one attempt's limit; default 30 minutes
	// Lease is how long after a running job's last heartbeat another node
	// may take it over when River hands it out again (default 30 s;
	// heartbeats come every 5 s).
	Lease time.Duration
	// Payload renders the webhook body of a finished job; without it no
	// webhook is sent.
	Payload func(store.Job) ([]byte, error)
	// WebhookConcurrency bounds the deliveries in progress (default 16);
	// WebhooksPerHost those to one receiver (default 4).
	WebhookConcurrency int
	WebhooksPerHost    int
	// Provenance, when set, checks a finished job's file against the
	// provenance ledger; its answer goes into the report.
	Provenance func(ctx context.Context, job store.Job) json.RawMessage
	// Files fetches an analysis's upload from the blob store and stores
	// its evidence there; nil: the job's paths are local.
	Files *Files
	// GeneratorFiles does the same for generator jobs: their inputs,
	// artifacts and what they resume from.
	GeneratorFiles *GeneratorFiles
	// Verify, when set, runs verifications (kind store.KindVerify): the
	// upload at path fingerprinted and checked against the provenance
	// ledger, the result being the ledger's verification. A failure to
	// fingerprint the file is an *isolate.Error; any other error is
	// retried, and its message is shown to the client.
	Verify func(ctx context.Context, path string) (json.RawMessage, error)
}

// Runner owns the analysis goroutines and the webhook sender.
type Runner struct {
	opts     Options
	store    *store.Store
	analyzer Analyzer
	hooks    *webhook.Client
	metrics  *metrics.Metrics
	log      *slog.Logger

	mu       sync.Mutex
	running  map[string]runningJob
	finished chan struct{} // closed and replaced whenever a job finishes
}

// runningJob is a job being analysed: how to stop it, and a channel closed
// once its attempt has ended.
type runningJob struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// errDeleted cancels the analysis of a job that was deleted.
var errDeleted = errors.New("job deleted")

// New returns a Runner; Run starts it.
func New(st *store.Store, a Analyzer, hooks *webhook.Client, m *metrics.Metrics, log *slog.Logger, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 30 * time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.WebhookConcurrency <= 0 {
		opts.WebhookConcurrency = 16
	}
	if opts.WebhooksPerHost <= 0 {
		opts.WebhooksPerHost = 4
	}
	if opts.Verify != nil && !slices.Contains(opts.Kinds, store.KindVerify) {
		if len(opts.Kinds) == 0 {
			opts.Kinds = []string{store.KindAnalysis}
		}
		opts.Kinds = append(slices.Clone(opts.Kinds), store.KindVerify)
	}
	return &Runner{opts: opts, store: st, analyzer: a, hooks: hooks, metrics: m, log: log,
		running: map[string]runningJob{}, finished: make(chan struct{})}
}

// Run wakes the clients waiting for a job to finish, until ctx is
// cancelled. The jobs and webhook deliveries themselves are River's: a
// Queue started with this runner works them.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	// Other nodes finish jobs too: waiters look again every second.
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				r.wake()
			}
		}
	})
	wg.Wait()
	return nil
}

// Finished returns a channel closed when a job may have finished (one did
// on this node, or a second passed): wait on it, then read the job again.
func (r *Runner) Finished() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finished
}

func (r *Runner) wake() {
	r.mu.Lock()
	close(r.finished)
	r.finished = make(chan struct{})
	r.mu.Unlock()
}

func (r *Runner) announce() { r.wake() }

// Cancel stops the analysis of a job being deleted. When the job was
// running on this node it returns a channel closed once the attempt has
// ended, else nil (a node running it elsewhere stops at its next
// heartbeat, finding the job gone).
func (r *Runner) Cancel(id string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	job, ok := r.running[id]
	if !ok {
		return nil
	}
	job.cancel(errDeleted)
	return job.done
}

// heartbeatEvery is how often a running job's node says it is alive.
const heartbeatEvery = 5 * time.Second

// process runs one attempt of a job that River handed to this node, and
// records its outcome. last is River's last attempt, which only exists to
// fail a job whose node died during its runner's last attempt. The error
// tells River what to do next: nil when the job is over, a retryable error
// when it goes back to the queue, a cancel when it failed for good.
func (r *Runner) process(ctx context.Context, id string, last bool) error {
	// Outcomes are written even while the node stops.
	bg := context.WithoutCancel(ctx)
	job, err := r.store.Take(bg, id, r.opts.Lease)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil // deleted, or finished: a second delivery of a job
	case errors.Is(err, store.ErrBusy):
		// Another node still works on it: River thought it dead. Look
		// again once its lease would have run out.
		return river.JobSnooze(r.opts.Lease)
	case err != nil:
		return fmt.Errorf("taking job %s: %w", id, err)
	}
	log := r.log.With("job_id", job.ID, "attempt", job.Attempts)
	if last || job.Attempts > r.opts.MaxAttempts {
		message := fmt.Sprintf("the node analysing it stopped answering (after %d attempts)", job.Attempts-1)
		if job.ErrorMessage != "" {
			message = fmt.Sprintf("%s (after %d attempts)", job.ErrorMessage, job.Attempts-1)
		}
		code := cmp.Or(job.ErrorCode, "worker_lost")
		log.Warn("job failed: out of attempts", "code", code)
		if err := r.store.Fail(bg, job.ID, code, message); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if job.Kind == store.KindVerify {
			r.opts.Files.DropUpload(bg, job.FilePath)
		}
		r.metrics.JobSeconds.WithLabelValues(job.Kind, "failed").Observe(0)
		r.announce()
		return nil
	}
	log.Info("job started", "file", job.FileName, "bytes", job.SizeBytes)
	jctx, cancel := context.WithCancelCause(ctx)
	jctx, cancelTimeout := context.WithTimeout(jctx, r.opts.JobTimeout)
	defer cancelTimeout()
	done := make(chan struct{})
	r.mu.Lock()
	r.running[job.ID] = runningJob{cancel: cancel, done: done}
	r.mu.Unlock()
	var beats sync.WaitGroup
	defer func() {
		r.mu.Lock()
		delete(r.running, job.ID)
		r.mu.Unlock()
		cancel(nil)
		beats.Wait()
		close(done)
	}()
	beats.Go(func() { r.heartbeat(jctx, cancel, job.ID) })

	var lastWrite time.Time
	progress := func(p float64) {
		if time.Since(lastWrite) < 500*time.Millisecond {
			return
		}
		lastWrite = time.Now()
		if err := r.store.SetProgress(bg, job.ID, p); err != nil {
			log.Warn("recording progress", "err", err)
		}
	}
	started := time.Now()
	var rep *scan.Report
	var generated json.RawMessage
	evidence := job.EvidenceDir // the stored evidence's prefix, before job names local copies
	upload := job.FilePath      // the stored upload's key
	if job.Kind == store.KindVerify {
		// Like an analysis, from a local copy of the upload; the result is
		// the ledger's verification.
		var cleanup func()
		if r.opts.Verify == nil {
			err = errors.New("no provenance ledger on this node")
		} else if job, cleanup, err = r.opts.Files.Local(jctx, job); err == nil {
			defer cleanup()
			generated, err = r.opts.Verify(jctx, job.FilePath)
		}
	} else if job.Kind == store.KindAnalysis {
		// Blobs: from here on job names a local copy of the upload and a
		// local evidence directory, stored once the analysis succeeds.
		remote := job
		var cleanup func()
		if job, cleanup, err = r.opts.Files.Local(jctx, remote); err == nil {
			rep, err = r.analyzer.Analyze(jctx, job, progress)
		}
		defer cleanup()
		if err == nil && r.opts.Provenance != nil {
			rep.SetProvenance(r.opts.Provenance(jctx, job))
			err = jctx.Err() // deleted, stopping or out of time meanwhile
		}
		if err == nil {
			err = r.opts.Files.SaveEvidence(jctx, remote, job.EvidenceDir)
		}
	} else if r.opts.Generator == nil {
		err = fmt.Errorf("no runner for %s jobs", job.Kind)
	} else {
		// Blobs: job names the local directory of this attempt from here
		// on, and what it made is stored as its stages end and when it
		// ends, whatever the end, so that the next attempt (here or on
		// another node) resumes from it; unless the job was deleted.
		var attempt *generatorAttempt
		if job, attempt, err = r.opts.GeneratorFiles.Local(jctx, job); err == nil {
			defer attempt.cleanup()
			hooks := genjobs.Hooks{
				Progress:  func(p float64) { progress(p); attempt.progress(jctx) },
				StageDone: attempt.Save,
			}
			generated, err = r.opts.Generator.Generate(jctx, job, hooks)
			saveCtx, cancel := context.WithTimeout(bg, 5*time.Minute)
			if context.Cause(jctx) == errDeleted {
				attempt.drop(saveCtx)
			} else if serr := attempt.Save(saveCtx); serr != nil {
				log.Warn("storing the job's files", "err", serr)
				if err == nil {
					err = serr
				}
			}
			cancel()
		}
	}
	elapsed := time.Since(started)

	var outcome string
	var recordErr, next error
	switch {
	case err == nil && rep == nil:
		outcome = "done"
		recordErr = r.store.Complete(bg, job.ID, generated)
		if errors.Is(recordErr, store.ErrNotFound) {
			// Deleted while its files were being stored.
			r.opts.GeneratorFiles.Drop(bg, evidence)
		}
	case err == nil:
		outcome = "done"
		rep.File = job.FileName // not the server's path
		recordErr = r.complete(bg, job, rep)
		if errors.Is(recordErr, store.ErrNotFound) {
			// Deleted while its evidence was being stored: the delete
			// removed what was there then, this removes the rest.
			r.opts.Files.DropEvidence(bg, evidence)
		}
	case context.Cause(jctx) == errDeleted:
		log.Info("job deleted while running")
		r.announce() // waiters find it gone
		return nil
	case ctx.Err() != nil:
		log.Info("node stopping: job back in the queue")
		if err := r.store.Release(bg, job.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Error("releasing job", "err", err)
		}
		// A snooze is not counted as an attempt.
		return river.JobSnooze(0)
	default:
		outcome, next = r.failed(bg, log, job, jctx, err)
	}
	if recordErr != nil && !errors.Is(recordErr, store.ErrNotFound) {
		log.Error("recording job outcome", "err", recordErr)
		next = recordErr
	}
	if outcome != "" && job.Kind == store.KindVerify {
		// Verified (or never to be): the file has served its purpose, and
		// a verification keeps only what the ledger said.
		r.opts.Files.DropUpload(bg, upload)
	}
	if outcome != "" {
		r.metrics.JobSeconds.WithLabelValues(job.Kind, outcome).Observe(elapsed.Seconds())
		log.Info("job finished", "state", outcome, "seconds", elapsed.Seconds())
	}
	r.announce()
	return next
}

// riverTimeout is River's limit of one attempt of this runner's jobs: the
// runner's own, and a grace to record that it was reached.
func (r *Runner) riverTimeout() time.Duration { return r.opts.JobTimeout + timeoutGrace }

// heartbeat tells other nodes that this one still works on the job, and
// stops the job when it was deleted (by a request to any node).
func (r *Runner) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, id string) {
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := r.store.Heartbeat(context.WithoutCancel(ctx), id)
		if errors.Is(err, store.ErrNotFound) {
			cancel(errDeleted)
			return
		}
		if err != nil {
			r.log.Warn("job heartbeat", "job_id", id, "err", err)
		}
	}
}

func (r *Runner) complete(ctx context.Context, job store.Job, rep *scan.Report) error {
	body, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	if err := r.store.Complete(ctx, job.ID, body); err != nil {
		return err
	}
	// Scores by model version, so that a newly activated version's
	// distribution can be compared with its parent's on live traffic.
	r.metrics.VideoScores.WithLabelValues(rep.Models.FusionVersion).Observe(rep.Score)
	for name, d := range rep.Detectors {
		r.metrics.DetectorScores.WithLabelValues(name, rep.Models.Detectors[name]).Observe(d.Score)
	}
	return nil
}

// failed records a failed attempt: a retry for crashes and unexpected
// errors while attempts remain, a final failure otherwise. It returns the
// outcome for metrics ("" when the job was retried) and River's next step.
func (r *Runner) failed(ctx context.Context, log *slog.Logger, job store.Job, jctx context.Context, err error) (string, error) {
	code, message, retry := "internal", ClientMessage(err.Error(), job), true
	var crash *isolate.CrashError
	var reported *isolate.Error
	switch {
	case errors.Is(jctx.Err(), context.DeadlineExceeded):
		code, message, retry = "timeout", fmt.Sprintf("analysis took longer than %s", r.opts.JobTimeout), false
	case errors.As(err, &crash):
		r.metrics.WorkerCrashes.Inc()
		code, message = "worker_crashed", "the analysis process crashed: "+ClientMessage(crash.Error(), job)
		if crash.OutOfMemory {
			code = "out_of_memory"
		}
	case errors.As(err, &reported):
		// The worker judged the file itself, or a generator command failed
		// and said why: another try would say the same.
		code, retry = reported.Code, false
	}
	log.Warn("job attempt failed", "code", code, "err", message)
	if retry && job.Attempts < r.opts.MaxAttempts {
		if err := r.store.Retry(ctx, job.ID, code, message); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.Error("requeueing job", "err", err)
		}
		return "", fmt.Errorf("%s: %s", code, message) // River retries it
	}
	if retry {
		message = fmt.Sprintf("%s (after %d attempts)", message, job.Attempts)
	}
	if err := r.store.Fail(ctx, job.ID, code, message); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("failing job", "err", err)
	}
	return "failed", river.JobCancel(fmt.Errorf("%s: %s", code, message))
}

// ClientMessage rewrites an error message about a job for its client:
// users know their file by its name, not by the server's path, and the
// server's directories are none of their business. A job without an
// upload (a generator job) has an empty path, which must not be replaced.
func ClientMessage(msg string, job store.Job) string {
	var pairs []string
	if job.FilePath != "" {
		pairs = append(pairs, job.FilePath, job.FileName)
	}
	if job.EvidenceDir != "" {
		pairs = append(pairs, job.EvidenceDir, "(the job's directory)")
	}
	if len(pairs) == 0 {
		return msg
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}
