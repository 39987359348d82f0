package api

import (
	"context"
	"time"

	"github.com/trueframe/trueframe/api/store"
)

// The Server's dependencies, as small as its handlers use them, so that a
// handler can be tested with an in-memory fake instead of SQLite and
// worker processes. *store.Store, *jobs.Runner and *webhook.Client are the
// real ones.

// Store is what the handlers need of the service's database.
type Store interface {
	Ping(ctx context.Context) error

	Authenticate(ctx context.Context, token string) (store.Key, error)
	NewKey(ctx context.Context, name string, role store.Role) (store.Key, string, error)
	Keys(ctx context.Context) ([]store.Key, error)
	RevokeKey(ctx context.Context, id string) error

	CreateJob(ctx context.Context, j *store.Job) error
	Job(ctx context.Context, id string) (store.Job, error)
	Jobs(ctx context.Context, keyID string, kinds []string, before int64, limit int) ([]store.Job, int64, error)
	DeleteJob(ctx context.Context, id string) (store.Job, error)
	Waiting(ctx context.Context, kinds ...string) (int, error)
	WaitingFor(ctx context.Context, keyID string, kinds ...string) (int, error)

	BeginUpload(ctx context.Context, id, keyID string, analysis bool, max int) (int, error)
	TouchUpload(ctx context.Context, id string) error
	EndUpload(ctx context.Context, id string) error
	AnalysesUploading(ctx context.Context, keyID string) (all, key int, err error)

	SetOriginalOwner(ctx context.Context, sha256, keyID string) error
	OriginalOwner(ctx context.Context, sha256 string) (string, error)

	// TakeToken takes a request token from a key's bucket (burst tokens,
	// refilled at perSecond), or says how long until one is there.
	TakeToken(ctx context.Context, keyID string, perSecond float64, burst int) (ok bool, retryAfter time.Duration, err error)
}

// Runner is what the handlers need of the analysis runner: to learn that
// jobs finished, and to stop a deleted one. (A new job needs no call: the
// store queues it with its row.)
type Runner interface {
	// Finished returns a channel closed when the next job finishes.
	Finished() <-chan struct{}
	// Cancel stops a running job; the channel (nil when it was not
	// running) is closed when its worker has stopped.
	Cancel(id string) <-chan struct{}
}

// Webhooks is what the handlers need of the webhook sender: the check of
// a callback URL when a job is submitted (deliveries are the runner's).
type Webhooks interface {
	Check(rawURL string) error
}
