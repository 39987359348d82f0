package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

// sendWebhooks delivers the webhooks of finished jobs, retrying with
// backoff. The schedule lives in the store, so deliveries pending when the
// service stops are sent after it restarts.
func (r *Runner) sendWebhooks(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := r.store.DueWebhooks(ctx, 16)
		if err != nil && ctx.Err() == nil {
			r.log.Error("listing due webhooks", "err", err)
		}
		for _, job := range due {
			r.deliver(ctx, job)
		}
		if len(due) > 0 {
			continue
		}
		wait := 5 * time.Second
		if at, ok, err := r.store.NextWebhook(ctx); err == nil && ok {
			wait = min(wait, max(time.Until(at), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-r.hookKick:
		case <-t.C:
		}
		t.Stop()
	}
}

func (r *Runner) deliver(ctx context.Context, job store.Job) {
	log := r.log.With("job_id", job.ID)
	w := job.Webhook
	w.Attempts++
	key, err := r.store.Key(ctx, job.KeyID)
	var d webhook.Delivery
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.Err = fmt.Errorf("the job's key is gone: %w", err)
		w.Attempts = r.opts.MaxWebhookAttempts
	case err != nil:
		d.Err = fmt.Errorf("reading the job's key: %w", err) // transient: retried
	case !key.RevokedAt.IsZero():
		d.Err = errors.New("the job's key was revoked")
		w.Attempts = r.opts.MaxWebhookAttempts
	default:
		var body []byte
		if body, err = r.opts.Payload(job); err != nil {
			d.Err = err
			break
		}
		d = r.hooks.Deliver(ctx, job.CallbackURL, key.WebhookSecret, fmt.Sprintf("%s.%d", job.ID, w.Attempts), body)
	}
	if ctx.Err() != nil {
		return // stopping: the attempt does not count
	}
	w.LastCode, w.LastError, w.NextAt = d.Code, "", time.Time{}
	switch {
	case d.OK():
		w.State = store.WebhookDelivered
	case w.Attempts >= r.opts.MaxWebhookAttempts:
		w.State, w.LastError = store.WebhookFailed, d.Err.Error()
	default:
		w.State, w.LastError, w.NextAt = store.WebhookPending, d.Err.Error(), time.Now().Add(webhook.Backoff(w.Attempts))
	}
	outcome := map[string]string{store.WebhookDelivered: "delivered", store.WebhookFailed: "failed", store.WebhookPending: "retry"}[w.State]
	r.metrics.Webhooks.WithLabelValues(outcome).Inc()
	log.Info("webhook attempt", "attempt", w.Attempts, "state", w.State, "code", d.Code, "err", w.LastError)
	if err := r.store.SetWebhook(context.WithoutCancel(ctx), job.ID, w); err != nil {
		log.Error("recording webhook attempt", "err", err)
	}
}
