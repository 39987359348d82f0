package store

import (
	"context"
	"fmt"
)

// The model registry's active pointer, when the registry's files are in a
// blob store the nodes share (models/registry.Pointer): one row per kind,
// so that an activation changes its kind in one statement and two
// activations of two kinds at once both hold.

// ActiveModels returns the active model version of each kind.
func (s *Store) ActiveModels(ctx context.Context) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT kind, version FROM models_active`)
	if err != nil {
		return nil, fmt.Errorf("store: active models: %w", err)
	}
	defer rows.Close()
	active := map[string]string{}
	for rows.Next() {
		var kind, version string
		if err := rows.Scan(&kind, &version); err != nil {
			return nil, fmt.Errorf("store: active models: %w", err)
		}
		active[kind] = version
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: active models: %w", err)
	}
	return active, nil
}

// SetActiveModel makes id the active version of kind; with ifUnset only
// when kind has none (what nodes starting together do with the embedded
// models: the first one's stays, and an operator's choice is never undone).
func (s *Store) SetActiveModel(ctx context.Context, kind, id string, ifUnset bool) error {
	q := `INSERT INTO models_active(kind, version, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(kind) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`
	if ifUnset {
		q = `INSERT INTO models_active(kind, version, updated_at) VALUES (?, ?, ?) ON CONFLICT(kind) DO NOTHING`
	}
	if _, err := s.exec(ctx, q, kind, id, now()); err != nil {
		return fmt.Errorf("store: activating model %s: %w", id, err)
	}
	return nil
}
