package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/trueframe/trueframe/api/store"
)

// The queue is River's (github.com/riverqueue/river), in the service's own
// database: SQLite for the embedded default, PostgreSQL for several nodes.
// The jobs table keeps what clients see (state, progress, report, error);
// River's tables keep who works on what, attempts, retries, and the rescue
// of jobs whose node died. A job is inserted in both in one transaction.

// AnalysisArgs is the River job of an analysis: the service's job id.
type AnalysisArgs struct {
	JobID string `json:"job_id" river:"unique"`
}

// Kind names the River job kind.
func (AnalysisArgs) Kind() string    { return "trueframe.analysis" }
func (a AnalysisArgs) jobID() string { return a.JobID }

// GeneratorArgs is the River job of a generator or training job.
type GeneratorArgs struct {
	JobID string `json:"job_id" river:"unique"`
}

// Kind names the River job kind.
func (GeneratorArgs) Kind() string    { return "trueframe.generator" }
func (a GeneratorArgs) jobID() string { return a.JobID }

// VerifyArgs is the River job of a verification.
type VerifyArgs struct {
	JobID string `json:"job_id" river:"unique"`
}

// Kind names the River job kind.
func (VerifyArgs) Kind() string    { return "trueframe.verify" }
func (a VerifyArgs) jobID() string { return a.JobID }

// River queues: analyses are short and many; generator jobs are long and
// take the whole machine, so only nodes that ask for them work them;
// verifications need the provenance ledger, so only nodes that have one
// work them.
const (
	QueueAnalyses  = "analyses"
	QueueGenerator = "generator"
	QueueVerify    = "verify"
	QueueWebhooks  = "webhooks"
)

// QueueOptions configure a Queue. The zero value inserts jobs and works none.
type QueueOptions struct {
	// Analyses and Generator are the runners whose jobs this process
	// works; nil means it leaves them to other nodes. Verify is the runner
	// of verifications, worked only when it has a ledger
	// (Options.Verify). Webhooks is the runner that delivers webhooks (it
	// renders their bodies: an API node's).
	Analyses, Generator, Verify, Webhooks *Runner
	// WebhookAttempts caps the attempts of a webhook delivery this process
	// queues (default 8: the last about 4 minutes after the first).
	WebhookAttempts int
	// JobTimeout is the limit of one analysis attempt (default 30
	// minutes), as every node's runners apply it (--job-timeout). Any node
	// may lead River's upkeep and rescue a dead node's analyses, so each
	// must know it, whether or not it runs analyses.
	JobTimeout time.Duration
	// MaxAttempts caps the attempts of the jobs this process inserts
	// (default 3); a worker's runner decides with its own.
	MaxAttempts int
	// Node names this process in River's records (default host-pid).
	Node string
	// PollInterval is how often an idle node looks for jobs inserted by
	// another process (default 250 ms; inserts in this process wake it at
	// once).
	PollInterval time.Duration
	Log          *slog.Logger
}

// Queue is a process's River client.
type Queue struct {
	client *river.Client[*sql.Tx]
	store  *store.Store
	opts   QueueOptions
}

// Migrate brings River's tables in the store's database up to date. On
// PostgreSQL it holds an advisory lock meanwhile: River's migrator does
// not expect company, and nodes starting together all migrate.
func Migrate(ctx context.Context, st *store.Store) error {
	var err error
	if st.Postgres() {
		err = migrateLocked(ctx, st.DB())
	} else {
		err = migrate(ctx, riversqlite.New(st.DB()))
	}
	if err != nil {
		return fmt.Errorf("jobs: migrating the queue: %w", err)
	}
	return nil
}

// riverMigrationLock is the advisory lock of River's migrations
// ("tfriver" in ASCII).
const riverMigrationLock int64 = 0x7466726976657200

func migrateLocked(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A session lock, on a connection of its own: the migrator uses the
	// pool's other connections.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", riverMigrationLock); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrationLock)
	return migrate(ctx, riverdatabasesql.New(db))
}

func migrate(ctx context.Context, driver riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// NewQueue migrates River's tables and returns the process's client; Run
// works the jobs.
func NewQueue(ctx context.Context, st *store.Store, opts QueueOptions) (*Queue, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 8
	}
	if opts.Node == "" {
		host, _ := os.Hostname()
		opts.Node = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 30 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if err := Migrate(ctx, st); err != nil {
		return nil, err
	}
	// Every node registers every kind, and works the queues of the
	// runners it was given. The node leading River's upkeep rescues the
	// jobs of a node that died, of any kind, once they have run longer
	// than their kind's timeout; a kind it did not know, it would discard.
	workers := river.NewWorkers()
	queues := map[string]river.QueueConfig{}
	analysisTimeout := opts.JobTimeout + timeoutGrace
	if r := opts.Analyses; r != nil {
		river.AddWorker(workers, &riverWorker[AnalysisArgs]{r: r})
		queues[QueueAnalyses] = river.QueueConfig{MaxWorkers: r.opts.Workers}
		analysisTimeout = r.riverTimeout()
	} else {
		river.AddWorker(workers, &elsewhere[AnalysisArgs]{timeout: analysisTimeout})
	}
	if r := opts.Generator; r != nil {
		river.AddWorker(workers, &riverWorker[GeneratorArgs]{r: r})
		queues[QueueGenerator] = river.QueueConfig{MaxWorkers: r.opts.Workers}
	} else {
		river.AddWorker(workers, &elsewhere[GeneratorArgs]{timeout: GeneratorTimeout + timeoutGrace})
	}
	if r := opts.Verify; r != nil && r.opts.Verify != nil {
		river.AddWorker(workers, &riverWorker[VerifyArgs]{r: r})
		queues[QueueVerify] = river.QueueConfig{MaxWorkers: r.opts.Workers}
	} else {
		opts.Verify = nil
		river.AddWorker(workers, &elsewhere[VerifyArgs]{timeout: analysisTimeout})
	}
	if r := opts.Webhooks; r != nil && r.opts.Payload != nil {
		river.AddWorker(workers, &webhookWorker{r: r, perHost: map[string]int{}})
		queues[QueueWebhooks] = river.QueueConfig{MaxWorkers: r.opts.WebhookConcurrency}
	} else {
		river.AddWorker(workers, &elsewhere[WebhookArgs]{timeout: webhookTimeout})
	}
	// River's rescuer looks every 30 s for jobs running longer than
	// RescueStuckJobsAfter, then skips those within their kind's timeout.
	timeout := analysisTimeout
	config := &river.Config{
		ID:                   opts.Node,
		FetchPollInterval:    opts.PollInterval,
		FetchCooldown:        min(opts.PollInterval, river.FetchCooldownDefault),
		JobTimeout:           timeout,
		RescueStuckJobsAfter: timeout + time.Second,
		Logger:               opts.Log.With("component", "river"),
		// The jobs table is the record clients read; River's rows are
		// only the queue's bookkeeping.
		CompletedJobRetentionPeriod: time.Hour,
		// A node inserts kinds it does not work: an API node queues the
		// analyses that worker nodes run.
		SkipUnknownJobCheck: true,
	}
	if len(queues) > 0 {
		config.Queues, config.Workers = queues, workers
	}
	var client *river.Client[*sql.Tx]
	var err error
	if st.Postgres() {
		client, err = river.NewClient(riverdatabasesql.New(st.DB()), config)
	} else {
		client, err = river.NewClient(riversqlite.New(st.DB()), config)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q := &Queue{client: client, store: st, opts: opts}
	// From now on the store queues what it creates, and the webhooks of
	// the jobs that end, in River.
	st.SetEnqueue(q.Enqueue)
	st.SetEnqueueWebhook(q.EnqueueWebhook)
	return q, nil
}

// EnqueueWebhook inserts the River job of a finished job's webhook, in the
// transaction that ends the job (store.Options.EnqueueWebhook).
func (q *Queue) EnqueueWebhook(ctx context.Context, tx *sql.Tx, jobID string) error {
	_, err := q.client.InsertTx(ctx, tx, WebhookArgs{JobID: jobID}, &river.InsertOpts{Queue: QueueWebhooks,
		MaxAttempts: q.opts.WebhookAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// Enqueue inserts the River job of a service job, in the transaction that
// inserts the job's row (store.Options.Enqueue).
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, j store.Job) error {
	// One attempt more than the runner makes: River's last one only
	// records the failure of a job whose node died on its last attempt.
	opts := &river.InsertOpts{MaxAttempts: q.opts.MaxAttempts + 1, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	var args river.JobArgs = AnalysisArgs{JobID: j.ID}
	opts.Queue = QueueAnalyses
	if j.Kind == store.KindVerify {
		args, opts.Queue = VerifyArgs{JobID: j.ID}, QueueVerify
	} else if j.Kind != store.KindAnalysis && j.Kind != "" {
		// Any generator node takes any generator job: its files are in
		// the blob store.
		args, opts.Queue = GeneratorArgs{JobID: j.ID}, QueueGenerator
	}
	_, err := q.client.InsertTx(ctx, tx, args, opts)
	return err
}

// Run works jobs until ctx is cancelled, then stops River: jobs still
// running are cancelled and go back to the queue (their runner releases
// them). In the embedded SQLite database, which only this process uses,
// the jobs a killed predecessor left running are first given back.
func (q *Queue) Run(ctx context.Context) error {
	if q.opts.Analyses == nil && q.opts.Generator == nil && q.opts.Verify == nil && q.opts.Webhooks == nil {
		// Inserting needs no start: a node that works no jobs (an API
		// node with --workers 0) leaves River's upkeep to those that do.
		<-ctx.Done()
		return nil
	}
	if !q.store.Postgres() {
		// (Webhook deliveries a killed predecessor left running are
		// requeued too.)
		if err := q.requeueOrphans(ctx); err != nil {
			return fmt.Errorf("jobs: requeue: %w", err)
		}
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: starting the queue: %w", err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := q.client.StopAndCancel(stopCtx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("jobs: stopping the queue: %w", err)
	}
	return nil
}

// requeueOrphans makes the jobs a previous life of this process left
// running available again at once, without counting the attempt: the
// service died, not their worker. (With PostgreSQL, several nodes share
// the queue and River's rescuer does this once the job's timeout is over.)
func (q *Queue) requeueOrphans(ctx context.Context) error {
	res, err := q.store.DB().ExecContext(ctx, `UPDATE river_job SET state = 'available',
		attempt = MAX(attempt - 1, 0), scheduled_at = datetime('now', 'subsec')
		WHERE state = 'running'`)
	if err != nil {
		return err
	}
	var kinds []string
	for _, r := range []*Runner{q.opts.Analyses, q.opts.Generator, q.opts.Verify} {
		if r != nil {
			kinds = append(kinds, r.opts.Kinds...)
		}
	}
	n, err := q.store.RequeueRunning(ctx, kinds)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k > 0 || n > 0 {
		q.opts.Log.Info("requeued jobs left running by the previous run", "jobs", n)
	}
	return nil
}

// GeneratorTimeout is the limit of one generator or training job:
// training takes every core for hours.
const GeneratorTimeout = 48 * time.Hour

// timeoutGrace is what River adds to a runner's limit, so that the runner
// records the timeout itself before River gives up on the attempt.
const timeoutGrace = 10 * time.Second

// elsewhere stands for a kind this node does not work (it has no queue
// for it), so that, leading River's upkeep, it knows the kind's timeout.
type elsewhere[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	timeout time.Duration
}

func (w *elsewhere[T]) Work(context.Context, *river.Job[T]) error {
	return river.JobSnooze(time.Second) // not fetched here: this node has no queue for it
}

func (w *elsewhere[T]) Timeout(*river.Job[T]) time.Duration { return w.timeout }

// riverWorker works the River jobs of one runner.
type riverWorker[T interface {
	river.JobArgs
	jobID() string
}] struct {
	river.WorkerDefaults[T]
	r *Runner
}

func (w *riverWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return w.r.process(ctx, job.Args.jobID(), job.Attempt >= job.MaxAttempts)
}

// Timeout is the runner's limit of one attempt, and a grace for the
// runner to record that the limit was reached before River gives up.
func (w *riverWorker[T]) Timeout(*river.Job[T]) time.Duration { return w.r.riverTimeout() }

// NextRetry retries a crashed attempt at once, as a worker restarts.
func (w *riverWorker[T]) NextRetry(*river.Job[T]) time.Time { return time.Now() }
