package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

// Webhook deliveries are River jobs: one per finished job with a callback
// URL, queued in the transaction that ends the job (store.EnqueueWebhook),
// worked by the nodes whose runner renders webhook bodies (the API nodes).
// River retries a failed attempt with backoff and jitter, counts the
// attempts, and hands the delivery of a node that died to another.
//
// Deliveries run side by side, so that a receiver slow to answer holds its
// own deliveries back, not everyone's: River runs WebhookConcurrency at
// once on a node, and a node sends at most WebhooksPerHost to one receiver
// (a delivery beyond that is put back for hostBusyDelay).

// WebhookArgs is the River job of a webhook delivery: the finished job's id.
type WebhookArgs struct {
	JobID string `json:"job_id" river:"unique"`
}

// Kind names the River job kind.
func (WebhookArgs) Kind() string { return "trueframe.webhook" }

// webhookWorker delivers webhooks for one runner.
type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	r *Runner

	mu      sync.Mutex
	perHost map[string]int // deliveries in progress on this node, by receiver (host:port)
}

func (w *webhookWorker) Work(ctx context.Context, rj *river.Job[WebhookArgs]) error {
	r := w.r
	job, err := r.store.Job(ctx, rj.Args.JobID)
	if errors.Is(err, store.ErrNotFound) || err == nil && job.Webhook.State != store.WebhookPending {
		return nil // deleted, or delivered already
	}
	if err != nil {
		return err
	}
	host := callbackHost(job.CallbackURL)
	w.mu.Lock()
	busy := w.perHost[host] >= r.opts.WebhooksPerHost
	if !busy {
		w.perHost[host]++
	}
	w.mu.Unlock()
	if busy {
		// Behind the others, so that a receiver with many deliveries
		// waiting does not keep them in front. Not an attempt.
		return river.JobSnooze(hostBusyDelay)
	}
	defer func() {
		w.mu.Lock()
		w.perHost[host]--
		w.mu.Unlock()
	}()
	return r.deliver(ctx, job, rj.Attempt, rj.Attempt >= rj.MaxAttempts)
}

// webhookTimeout bounds one delivery attempt in River: well above the
// sender's own timeout (webhook.Options.Timeout, 10 s by default).
const webhookTimeout = 2 * time.Minute

// Timeout gives an attempt the sender's own timeout and a margin.
func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration {
	return max(webhookTimeout, w.r.hooks.Timeout()+30*time.Second)
}

// NextRetry is when the failed attempt's record says the next is due
// (exponential backoff with jitter, chosen once by deliver), so that the
// job's webhook status tells clients the truth.
func (w *webhookWorker) NextRetry(rj *river.Job[WebhookArgs]) time.Time {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if job, err := w.r.store.Job(ctx, rj.Args.JobID); err == nil && !job.Webhook.NextAt.IsZero() {
		return job.Webhook.NextAt
	}
	return time.Now().Add(webhook.JitteredBackoff(rj.Attempt))
}

// WebhookEvent names the event a finished job's webhook reports.
func WebhookEvent(job store.Job) string {
	if job.State == store.Failed {
		return "analysis.failed"
	}
	return "analysis.completed"
}

// hostBusyDelay puts back a due delivery whose receiver already has its
// share of deliveries in progress.
const hostBusyDelay = 2 * time.Second

// callbackHost names a callback's receiver for the per-receiver limit.
func callbackHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Host)
}

// deliver makes one attempt (attempt, counting from 1) at a finished
// job's webhook and records its outcome on the job. It returns nil when
// the delivery is over (delivered, or failed for good: last is River's
// last attempt), an error for River to retry it.
func (r *Runner) deliver(ctx context.Context, job store.Job, attempt int, last bool) error {
	log := r.log.With("job_id", job.ID)
	w := job.Webhook
	w.Attempts = attempt
	final := last
	key, err := r.store.Key(ctx, job.KeyID)
	var d webhook.Delivery
	summary := "" // what the job's owner is told; d.Err has the details
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.Err, summary, final = fmt.Errorf("the job's key is gone: %w", err), "the job's key is gone", true
	case err != nil:
		d.Err, summary = fmt.Errorf("reading the job's key: %w", err), "internal error; retried" // transient
	case !key.RevokedAt.IsZero():
		d.Err, summary, final = errors.New("the job's key was revoked"), "the job's key was revoked", true
	default:
		var body []byte
		if body, err = r.opts.Payload(job); err != nil {
			d.Err, summary = err, "internal error; retried"
			break
		}
		// One delivery per job: the job's id is the delivery's, the same
		// on every attempt.
		d = r.hooks.Deliver(ctx, job.CallbackURL, key.WebhookSecret,
			webhook.Message{Event: WebhookEvent(job), ID: job.ID, Attempt: attempt, Body: body})
		summary = d.Summary()
	}
	if ctx.Err() != nil {
		// Stopping: the attempt does not count; the delivery is due again
		// when a node works the queue.
		if err := r.store.SetWebhook(context.WithoutCancel(ctx), job.ID, job.Webhook); err != nil {
			log.Error("giving back a webhook", "err", err)
		}
		return river.JobSnooze(0)
	}
	w.LastCode, w.LastError, w.NextAt = d.Code, "", time.Time{}
	switch {
	case d.OK():
		w.State = store.WebhookDelivered
	case final:
		w.State, w.LastError = store.WebhookFailed, summary
	default:
		w.State, w.LastError, w.NextAt = store.WebhookPending, summary, time.Now().Add(webhook.JitteredBackoff(attempt))
	}
	outcome := map[string]string{store.WebhookDelivered: "delivered", store.WebhookFailed: "failed", store.WebhookPending: "retry"}[w.State]
	r.metrics.Webhooks.WithLabelValues(outcome).Inc()
	log.Info("webhook attempt", "attempt", attempt, "state", w.State, "code", d.Code, "err", d.Err)
	if err := r.store.SetWebhook(context.WithoutCancel(ctx), job.ID, w); err != nil {
		log.Error("recording webhook attempt", "err", err)
	}
	if w.State == store.WebhookPending {
		return fmt.Errorf("webhook attempt %d: %s", attempt, summary)
	}
	return nil
}
