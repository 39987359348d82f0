package store

import (
	"context"
	"database/sql"
	"errors"
)

// SetOriginalOwner records that the key keyID registered the original
// whose file hash is sha256 (lower-case hex). A registration succeeds once
// per file, so a row left by an earlier life of the ledger is replaced.
func (s *Store) SetOriginalOwner(ctx context.Context, sha256, keyID string) error {
	_, err := s.exec(ctx, `INSERT INTO originals(sha256, key_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT(sha256) DO UPDATE SET key_id = excluded.key_id, created_at = excluded.created_at`, sha256, keyID, now())
	return err
}

// OriginalOwner returns the id of the key that registered an original, or
// ErrNotFound when the service does not know (registered by another
// program, such as trueframe ledger register).
func (s *Store) OriginalOwner(ctx context.Context, sha256 string) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT key_id FROM originals WHERE sha256 = ?`, sha256).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
}
