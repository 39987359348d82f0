package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

// sendWebhooks delivers the webhooks of finished jobs, retrying with
// backoff. The schedule lives in the store, so deliveries pending when the
// service stops are sent after it restarts.
//
// Deliveries run side by side, so that a receiver slow to answer holds its
// own deliveries back, not everyone's: at most WebhookConcurrency at once
// and WebhooksPerHost to one receiver. Each runs in a goroutine this
// function owns and waits for before it returns; ctx stops them.
func (r *Runner) sendWebhooks(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, r.opts.WebhookConcurrency)
	ended := make(chan struct{}, 1) // a delivery ended: a slot or a host is free
	var mu sync.Mutex
	perHost := map[string]int{} // deliveries in progress by receiver (host:port)
	// A delivery in progress is leased: not due again until it has had
	// its time.
	lease := r.hooks.Timeout() + time.Minute

	for ctx.Err() == nil {
		due, err := r.store.DueWebhooks(ctx, 4*cap(slots))
		if err != nil && ctx.Err() == nil {
			r.log.Error("listing due webhooks", "err", err)
		}
		full := false
		for _, job := range due {
			host := callbackHost(job.CallbackURL)
			mu.Lock()
			busy := perHost[host] >= r.opts.WebhooksPerHost
			mu.Unlock()
			if busy {
				// Behind the others, so that a receiver with many
				// deliveries waiting does not keep them in front.
				if _, err := r.store.LeaseWebhook(ctx, job.ID, time.Now().Add(hostBusyDelay)); err != nil && ctx.Err() == nil {
					r.log.Error("putting back a webhook", "job_id", job.ID, "err", err)
				}
				continue
			}
			select {
			case slots <- struct{}{}:
			default:
				full = true
			}
			if full {
				break
			}
			// Another node may have taken it since it was listed.
			if taken, err := r.store.LeaseWebhook(ctx, job.ID, time.Now().Add(lease)); err != nil || !taken {
				<-slots
				if err != nil && ctx.Err() == nil {
					r.log.Error("leasing a webhook", "job_id", job.ID, "err", err)
				}
				continue
			}
			mu.Lock()
			perHost[host]++
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					perHost[host]--
					mu.Unlock()
					<-slots
					select {
					case ended <- struct{}{}:
					default:
					}
				}()
				r.deliver(ctx, job)
			})
		}
		wait := 5 * time.Second
		if !full {
			if at, ok, err := r.store.NextWebhook(ctx); err == nil && ok {
				wait = min(wait, max(time.Until(at), 10*time.Millisecond))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-r.hookKick:
		case <-ended:
		case <-t.C:
		}
		t.Stop()
	}
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

func (r *Runner) deliver(ctx context.Context, job store.Job) {
	log := r.log.With("job_id", job.ID)
	w := job.Webhook
	w.Attempts++
	key, err := r.store.Key(ctx, job.KeyID)
	var d webhook.Delivery
	summary := "" // what the job's owner is told; d.Err has the details
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.Err, summary = fmt.Errorf("the job's key is gone: %w", err), "the job's key is gone"
		w.Attempts = r.opts.MaxWebhookAttempts
	case err != nil:
		d.Err, summary = fmt.Errorf("reading the job's key: %w", err), "internal error; retried" // transient
	case !key.RevokedAt.IsZero():
		d.Err, summary = errors.New("the job's key was revoked"), "the job's key was revoked"
		w.Attempts = r.opts.MaxWebhookAttempts
	default:
		var body []byte
		if body, err = r.opts.Payload(job); err != nil {
			d.Err, summary = err, "internal error; retried"
			break
		}
		// One delivery per job: the job's id is the delivery's, the same
		// on every attempt.
		d = r.hooks.Deliver(ctx, job.CallbackURL, key.WebhookSecret,
			webhook.Message{Event: WebhookEvent(job), ID: job.ID, Attempt: w.Attempts, Body: body})
		summary = d.Summary()
	}
	if ctx.Err() != nil {
		// Stopping: the attempt does not count, and the delivery is due
		// again at once (as it was listed), not when its lease ends.
		if err := r.store.SetWebhook(context.WithoutCancel(ctx), job.ID, job.Webhook); err != nil {
			log.Error("giving back a webhook", "err", err)
		}
		return
	}
	w.LastCode, w.LastError, w.NextAt = d.Code, "", time.Time{}
	switch {
	case d.OK():
		w.State = store.WebhookDelivered
	case w.Attempts >= r.opts.MaxWebhookAttempts:
		w.State, w.LastError = store.WebhookFailed, summary
	default:
		w.State, w.LastError, w.NextAt = store.WebhookPending, summary, time.Now().Add(webhook.JitteredBackoff(w.Attempts))
	}
	outcome := map[string]string{store.WebhookDelivered: "delivered", store.WebhookFailed: "failed", store.WebhookPending: "retry"}[w.State]
	r.metrics.Webhooks.WithLabelValues(outcome).Inc()
	log.Info("webhook attempt", "attempt", w.Attempts, "state", w.State, "code", d.Code, "err", d.Err)
	if err := r.store.SetWebhook(context.WithoutCancel(ctx), job.ID, w); err != nil {
		log.Error("recording webhook attempt", "err", err)
	}
}
