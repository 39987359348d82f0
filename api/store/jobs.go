package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// State is where a job is in its life: queued → running → done or failed.
// A running job goes back to queued when its worker crashed and it has
// retries left, or when the service stopped while it ran.
type State string

const (
	Queued  State = "queued"
	Running State = "running"
	Done    State = "done"
	Failed  State = "failed"
)

// States lists every state, for metrics.
var States = [...]State{Queued, Running, Done, Failed}

// Webhook delivery states.
const (
	WebhookPending   = "pending"
	WebhookDelivered = "delivered"
	WebhookFailed    = "failed"
)

// KindAnalysis is the kind of analysis jobs; other kinds (the generator's)
// are named by their runner.
const KindAnalysis = "analysis"

// KindVerify is the kind of verifications (POST /v1/verify): an upload
// fingerprinted and checked against the provenance ledger; the result is
// the ledger's verification.
const KindVerify = "verify"

// Job is one piece of queued work: an analysis, or a generator job.
type Job struct {
	Seq          int64 // insertion order; pagination cursor
	ID           string
	KeyID        string
	Kind         string          // KindAnalysis when empty at creation
	Params       json.RawMessage // kind-specific parameters
	State        State
	Progress     float64
	FileName     string // as uploaded, for display only
	FilePath     string // the stored upload
	EvidenceDir  string // evidence images, or a generator job's working directory
	SHA256       string
	SizeBytes    int64
	Attempts     int
	ErrorCode    string
	ErrorMessage string
	Result       json.RawMessage // the report, when done
	// Verdict and Score summarise a done job's report in lists, which
	// leave the report itself out.
	Verdict     string
	Score       float64
	CallbackURL string
	Webhook     Webhook
	CreatedAt   time.Time
	StartedAt   time.Time
	FinishedAt  time.Time
}

// Webhook is the delivery status of a job's callback.
type Webhook struct {
	State     string // "", pending, delivered or failed
	Attempts  int
	NextAt    time.Time
	LastError string
	LastCode  int // HTTP status of the last attempt
}

const jobColumns = `seq, id, key_id, kind, params, state, progress, file_name, file_path, evidence_dir, sha256, size_bytes,
	attempts, error_code, error_message, callback_url, webhook_state, webhook_attempts, webhook_next_at,
	webhook_last_error, webhook_last_code, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }, extra ...any) (Job, error) {
	var j Job
	var state string
	var next, created, started, finished int64
	var params []byte
	dest := []any{&j.Seq, &j.ID, &j.KeyID, &j.Kind, &params, &state, &j.Progress, &j.FileName, &j.FilePath, &j.EvidenceDir,
		&j.SHA256, &j.SizeBytes, &j.Attempts, &j.ErrorCode, &j.ErrorMessage, &j.CallbackURL,
		&j.Webhook.State, &j.Webhook.Attempts, &next, &j.Webhook.LastError, &j.Webhook.LastCode,
		&created, &started, &finished}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Job{}, ErrNotFound
		}
		return Job{}, err
	}
	j.State, j.Params = State(state), params
	j.Webhook.NextAt, j.CreatedAt, j.StartedAt, j.FinishedAt = fromMillis(next), fromMillis(created), fromMillis(started), fromMillis(finished)
	return j, nil
}

// CreateJob stores a new queued job. It fills in Seq, State and CreatedAt.
// With Options.Enqueue set, the insert and the enqueue commit together or
// not at all.
func (s *Store) CreateJob(ctx context.Context, j *Job) error {
	j.State, j.CreatedAt = Queued, time.UnixMilli(now()).UTC()
	if j.Kind == "" {
		j.Kind = KindAnalysis
	}
	var params any
	if len(j.Params) > 0 {
		params = []byte(j.Params)
	}
	// RETURNING, not LastInsertId, which the pgx driver does not have.
	const insert = `INSERT INTO jobs(id, key_id, kind, params, state, file_name, file_path, evidence_dir, sha256,
		size_bytes, callback_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`
	args := []any{j.ID, j.KeyID, j.Kind, params, string(j.State), j.FileName, j.FilePath, j.EvidenceDir, j.SHA256, j.SizeBytes,
		j.CallbackURL, j.CreatedAt.UnixMilli()}
	if s.opts.Enqueue == nil {
		if err := s.queryRow(ctx, insert, args...).Scan(&j.Seq); err != nil {
			return fmt.Errorf("store: create job: %w", err)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: create job: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if err := tx.QueryRowContext(ctx, s.d.rebind(insert), args...).Scan(&j.Seq); err != nil {
		return fmt.Errorf("store: create job: %w", err)
	}
	if err := s.opts.Enqueue(ctx, tx, *j); err != nil {
		return fmt.Errorf("store: create job: enqueueing: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: create job: %w", err)
	}
	return nil
}

// Job returns a job with its result.
func (s *Store) Job(ctx context.Context, id string) (Job, error) {
	var result []byte
	j, err := scanJob(s.queryRow(ctx, `SELECT `+jobColumns+`, result FROM jobs WHERE id = ?`, id), &result)
	j.Result = result
	return j, err
}

// Jobs lists jobs of the given kinds newest first, without their results
// but with a done analysis's Verdict and Score: those of keyID, or of
// every key when keyID is "". before is the Seq to
// continue below (0: from the newest). It returns the Seq to pass to get
// the next page, 0 when there is none.
func (s *Store) Jobs(ctx context.Context, keyID string, kinds []string, before int64, limit int) ([]Job, int64, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	in, args := kindFilter(kinds)
	summary, from := s.d.reportSummary()
	rows, err := s.query(ctx, `SELECT `+jobColumns+`, `+summary+`
		FROM `+from+` WHERE seq < ? AND (? = '' OR key_id = ?) AND kind IN (`+in+`) ORDER BY seq DESC LIMIT ?`,
		append(append([]any{before, keyID, keyID}, args...), limit+1)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	jobs := []Job{}
	for rows.Next() {
		var verdict any
		var score float64
		j, err := scanJob(rows, &verdict, &score)
		if err != nil {
			return nil, 0, err
		}
		// A report's verdict is a string; anything else is no verdict.
		if v, ok := verdict.(string); ok && j.State == Done {
			j.Verdict, j.Score = v, score
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(jobs) > limit {
		jobs = jobs[:limit]
		next = jobs[limit-1].Seq
	}
	return jobs, next, nil
}

// kindFilter returns the placeholders and arguments of "kind IN (...)";
// no kinds means analyses.
func kindFilter(kinds []string) (string, []any) {
	if len(kinds) == 0 {
		kinds = []string{KindAnalysis}
	}
	marks := strings.Repeat("?, ", len(kinds)-1) + "?"
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return marks, args
}

// SetProgress records the progress of a running job.
func (s *Store) SetProgress(ctx context.Context, id string, p float64) error {
	_, err := s.exec(ctx, `UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'`, p, id)
	return err
}

// Complete stores the result of a running job and, when it has a
// callback URL, schedules the webhook (Options.EnqueueWebhook, in the same
// transaction).
func (s *Store) Complete(ctx context.Context, id string, result []byte) error {
	return s.end(ctx, id, `UPDATE jobs SET state = 'done', progress = 1, result = ?, finished_at = ?,
		webhook_state = CASE WHEN callback_url != '' THEN 'pending' ELSE '' END, webhook_next_at = ?
		WHERE id = ? AND state = 'running' RETURNING callback_url`, result, now(), now(), id)
}

// Fail marks a running job failed for good and, when it has a callback
// URL, schedules the webhook.
func (s *Store) Fail(ctx context.Context, id, code, message string) error {
	return s.end(ctx, id, `UPDATE jobs SET state = 'failed', error_code = ?, error_message = ?, finished_at = ?,
		webhook_state = CASE WHEN callback_url != '' THEN 'pending' ELSE '' END, webhook_next_at = ?
		WHERE id = ? AND state = 'running' RETURNING callback_url`, code, message, now(), now(), id)
}

// end runs the update that ends a job (returning its callback URL) and
// queues its webhook in the same transaction, so that a finished job with
// a callback always has its delivery queued.
func (s *Store) end(ctx context.Context, id, query string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var callback string
	if err := tx.QueryRowContext(ctx, s.d.rebind(query), args...).Scan(&callback); errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound // deleted meanwhile, or not running
	} else if err != nil {
		return err
	}
	if callback != "" && s.opts.EnqueueWebhook != nil {
		if err := s.opts.EnqueueWebhook(ctx, tx, id); err != nil {
			return fmt.Errorf("store: queueing the webhook: %w", err)
		}
	}
	return tx.Commit()
}

// Retry puts a running job whose attempt failed back in the queue, keeping
// the reason in case the next attempt fails too.
func (s *Store) Retry(ctx context.Context, id, code, message string) error {
	return s.finish(ctx, `UPDATE jobs SET state = 'queued', progress = 0, error_code = ?, error_message = ?
		WHERE id = ? AND state = 'running'`, code, message, id)
}

// Release puts a running job back in the queue without counting the
// attempt: the service is stopping, the job did nothing wrong.
func (s *Store) Release(ctx context.Context, id string) error {
	return s.finish(ctx, `UPDATE jobs SET state = 'queued', progress = 0, attempts = `+s.d.greatest("attempts - 1", "0")+`
		WHERE id = ? AND state = 'running'`, id)
}

func (s *Store) finish(ctx context.Context, query string, args ...any) error {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound // deleted meanwhile, or not running
	}
	return nil
}

// RequeueRunning puts back in the queue the jobs a previous life of the
// service left running (it was killed), and returns how many. Their
// attempt is not counted against them: the service died, not their worker.
//
// Only jobs of the given kinds are requeued: each runner owns its kinds,
// and must not take back the jobs another runner is running. For the same
// reason it is for one node alone: with several nodes on one database, it
// would take back the jobs the others are running.
func (s *Store) RequeueRunning(ctx context.Context, kinds []string) (int, error) {
	in, args := kindFilter(kinds)
	res, err := s.exec(ctx, `UPDATE jobs SET state = 'queued', progress = 0,
		attempts = `+s.d.greatest("attempts - 1", "0")+` WHERE state = 'running' AND kind IN (`+in+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteJob removes a job and returns it, so that the caller can remove
// its files.
func (s *Store) DeleteJob(ctx context.Context, id string) (Job, error) {
	j, err := scanJob(s.queryRow(ctx, `DELETE FROM jobs WHERE id = ? RETURNING `+jobColumns, id))
	return j, err
}

// Counts returns the number of jobs in each state.
func (s *Store) Counts(ctx context.Context) (map[State]int, error) {
	rows, err := s.query(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := make(map[State]int, len(States))
	for _, st := range States {
		counts[st] = 0
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		counts[State(st)] = n
	}
	return counts, rows.Err()
}

// Waiting counts the jobs of the given kinds not yet finished (queued or
// running).
func (s *Store) Waiting(ctx context.Context, kinds ...string) (int, error) {
	in, args := kindFilter(kinds)
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running') AND kind IN (`+in+`)`, args...).Scan(&n)
	return n, err
}

// WaitingFor counts the jobs of one key, of the given kinds, not yet
// finished.
func (s *Store) WaitingFor(ctx context.Context, keyID string, kinds ...string) (int, error) {
	in, args := kindFilter(kinds)
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE key_id = ? AND state IN ('queued', 'running') AND kind IN (`+in+`)`,
		append([]any{keyID}, args...)...).Scan(&n)
	return n, err
}

// SetWebhook records the outcome of a delivery attempt.
func (s *Store) SetWebhook(ctx context.Context, id string, w Webhook) error {
	var next int64
	if !w.NextAt.IsZero() {
		next = w.NextAt.UnixMilli()
	}
	_, err := s.exec(ctx, `UPDATE jobs SET webhook_state = ?, webhook_attempts = ?, webhook_next_at = ?,
		webhook_last_error = ?, webhook_last_code = ? WHERE id = ?`, w.State, w.Attempts, next, w.LastError, w.LastCode, id)
	return err
}
