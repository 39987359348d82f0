package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Uploads in progress are rows, not a node's memory: a key's cap on them,
// and the room they take in the queue, hold across API nodes. The node
// receiving an upload touches its row (TouchUpload) more often than
// UploadStale; a row left untouched longer belongs to a node that died and
// no longer counts.

// UploadStale is how long an upload's row counts without being touched.
const UploadStale = time.Minute

// ErrTooManyUploads is returned by BeginUpload when the key has its cap of
// uploads in progress.
var ErrTooManyUploads = errors.New("store: too many uploads in progress")

// BeginUpload records an upload in progress for a key, unless the key has
// max of them already (ErrTooManyUploads, with the count). The count and
// the insert are one transaction under the database's write lock (SQLite)
// or a lock on the key (PostgreSQL), so nodes admitting uploads of one key
// at once cannot all pass.
func (s *Store) BeginUpload(ctx context.Context, id, keyID string, analysis bool, max int) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE on SQLite
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if s.d.postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "uploads:"+keyID); err != nil {
			return 0, err
		}
	}
	t := now()
	var n int
	if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM uploads WHERE key_id = ? AND touched_at > ?`),
		keyID, t-UploadStale.Milliseconds()).Scan(&n); err != nil {
		return 0, err
	}
	if n >= max {
		return n, fmt.Errorf("%w: %d", ErrTooManyUploads, n)
	}
	a := 0
	if analysis {
		a = 1
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO uploads(id, key_id, analysis, touched_at) VALUES (?, ?, ?, ?)`),
		id, keyID, a, t); err != nil {
		return 0, err
	}
	return n + 1, tx.Commit()
}

// TouchUpload says the upload is still being received.
func (s *Store) TouchUpload(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `UPDATE uploads SET touched_at = ? WHERE id = ?`, now(), id)
	return err
}

// EndUpload removes an upload that ended (queued, refused or abandoned),
// and the rows of uploads whose node died, now long untouched.
func (s *Store) EndUpload(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `DELETE FROM uploads WHERE id = ? OR touched_at < ?`, id, now()-10*UploadStale.Milliseconds())
	return err
}

// AnalysesUploading counts the analyses being uploaded, by every key and
// by keyID.
func (s *Store) AnalysesUploading(ctx context.Context, keyID string) (all, key int, err error) {
	err = s.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN key_id = ? THEN 1 ELSE 0 END), 0)
		FROM uploads WHERE analysis = 1 AND touched_at > ?`, keyID, now()-UploadStale.Milliseconds()).Scan(&all, &key)
	return all, key, err
}
