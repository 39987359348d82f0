package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ErrBusy is returned by Take for a job that another node is working on:
// it is running and its heartbeat is fresh.
var ErrBusy = errors.New("store: job is running elsewhere")

// Take marks a queued job running, or takes over a running one whose
// heartbeat is older than lease (its node died), counting the attempt. It
// returns ErrNotFound when the job was deleted or has finished, and ErrBusy
// when another node is still working on it.
//
// The queue may hand a job out twice (a node it thought dead was only
// slow); Take is what makes sure only one node works on it at a time.
func (s *Store) Take(ctx context.Context, id string, lease time.Duration) (Job, error) {
	t := now()
	j, err := scanJob(s.queryRow(ctx, `UPDATE jobs SET state = 'running', progress = 0,
		attempts = attempts + 1, started_at = ?, heartbeat_at = ?
		WHERE id = ? AND (state = 'queued' OR (state = 'running' AND heartbeat_at < ?))
		RETURNING `+jobColumns, t, t, id, t-lease.Milliseconds()))
	if !errors.Is(err, ErrNotFound) {
		return j, err
	}
	var state string
	err = s.queryRow(ctx, `SELECT state FROM jobs WHERE id = ?`, id).Scan(&state)
	switch {
	case err != nil:
		return Job{}, ErrNotFound
	case State(state) == Running:
		return Job{}, ErrBusy
	}
	return Job{}, ErrNotFound
}

// Heartbeat records that a running job's node is still at work on it. It
// returns ErrNotFound when the job is no longer running (it was deleted):
// the node should stop.
func (s *Store) Heartbeat(ctx context.Context, id string) error {
	return s.finish(ctx, `UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND state = 'running'`, now(), id)
}

// SetEnqueue sets Options.Enqueue on an open store: the queue needs the
// store's pool to be built, and its runners the store, so it can only be
// given afterwards. Set it once, before the first CreateJob.
func (s *Store) SetEnqueue(f EnqueueFunc) { s.opts.Enqueue = f }

// SetEnqueueWebhook sets Options.EnqueueWebhook on an open store, for the
// same reason; set it before the first job ends.
func (s *Store) SetEnqueueWebhook(f func(ctx context.Context, tx *sql.Tx, jobID string) error) {
	s.opts.EnqueueWebhook = f
}
