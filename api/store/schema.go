package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schemaVersion is the schema this program writes. SQLite keeps a
// database's version in PRAGMA user_version, PostgreSQL in the one row of
// the schema_version table; Migrate brings older databases up to it.
//
// Both databases share the numbering: migration n of one is migration n
// of the other in its own spelling, so "schema 4" means the same tables
// wherever it is.
const schemaVersion = 8

// sqliteMigrations are SQLite's steps, numbered as the databases made by
// earlier versions of the service know them: never renumber or edit one,
// only append.
var sqliteMigrations = []string{
	1: `
CREATE TABLE keys (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	secret_hash    BLOB NOT NULL,
	webhook_secret TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	revoked_at     INTEGER
);
CREATE TABLE jobs (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT,
	id                 TEXT NOT NULL UNIQUE,
	key_id             TEXT NOT NULL,
	state              TEXT NOT NULL,
	progress           REAL NOT NULL DEFAULT 0,
	file_name          TEXT NOT NULL,
	file_path          TEXT NOT NULL,
	evidence_dir       TEXT NOT NULL,
	sha256             TEXT NOT NULL,
	size_bytes         INTEGER NOT NULL,
	attempts           INTEGER NOT NULL DEFAULT 0,
	error_code         TEXT NOT NULL DEFAULT '',
	error_message      TEXT NOT NULL DEFAULT '',
	result             BLOB,
	callback_url       TEXT NOT NULL DEFAULT '',
	webhook_state      TEXT NOT NULL DEFAULT '',
	webhook_attempts   INTEGER NOT NULL DEFAULT 0,
	webhook_next_at    INTEGER NOT NULL DEFAULT 0,
	webhook_last_error TEXT NOT NULL DEFAULT '',
	webhook_last_code  INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	started_at         INTEGER NOT NULL DEFAULT 0,
	finished_at        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs(state, seq);
CREATE INDEX jobs_by_key ON jobs(key_id, seq);
CREATE INDEX jobs_by_webhook ON jobs(webhook_state, webhook_next_at);
`,
	2: `
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'analysis';
ALTER TABLE jobs ADD COLUMN params BLOB;
CREATE INDEX jobs_by_kind ON jobs(kind, state, seq);
`,
	// Which key registered each original through the service: only that
	// key (or an admin) may revoke it.
	3: `
CREATE TABLE originals (
	sha256     TEXT PRIMARY KEY,
	key_id     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
`,
	// Each key's request token bucket, shared by every API node that uses
	// the database (TakeToken).
	4: `
CREATE TABLE rate_limits (
	key_id     TEXT PRIMARY KEY,
	tokens     REAL NOT NULL,
	updated_at INTEGER NOT NULL
);
`,
	// A running job's node touches heartbeat_at while it works, so that
	// another node can tell a job whose node died from one still at work
	// (Take, Heartbeat).
	5: `
ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;
`,
	// The provenance ledger on several nodes: which node signs with each
	// account (one at a time, or their nonces collide), and the registry
	// contract the nodes of each chain agreed on.
	6: `
CREATE TABLE ledger_signers (
	address TEXT PRIMARY KEY,
	node    TEXT NOT NULL,
	expires INTEGER NOT NULL
);
CREATE TABLE ledger_contracts (
	chain_id   INTEGER PRIMARY KEY,
	address    TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
`,
	// Uploads in progress, with the node receiving each, so that a key's
	// cap on them and the queue's room hold across API nodes. A node
	// touches its rows while it receives; an untouched row is one whose
	// node died, and no longer counts.
	7: `
CREATE TABLE uploads (
	id         TEXT PRIMARY KEY,
	key_id     TEXT NOT NULL,
	analysis   INTEGER NOT NULL,
	touched_at INTEGER NOT NULL
);
CREATE INDEX uploads_by_key ON uploads(key_id, touched_at);
`,
	// The active version of each kind of model, when the model registry's
	// files are in a blob store every node shares (ActiveModels).
	8: `
CREATE TABLE models_active (
	kind       TEXT PRIMARY KEY,
	version    TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
`,
}

// postgresMigrations are the same steps for PostgreSQL. Times stay
// milliseconds since the epoch in a BIGINT, as in SQLite, so that the Go
// code reads both alike; results and parameters stay the bytes the
// service wrote (BYTEA), not jsonb, which would reorder their keys.
var postgresMigrations = []string{
	1: `
CREATE TABLE keys (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	secret_hash    BYTEA NOT NULL,
	webhook_secret TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	revoked_at     BIGINT
);
CREATE TABLE jobs (
	seq                BIGSERIAL PRIMARY KEY,
	id                 TEXT NOT NULL UNIQUE,
	key_id             TEXT NOT NULL,
	state              TEXT NOT NULL,
	progress           DOUBLE PRECISION NOT NULL DEFAULT 0,
	file_name          TEXT NOT NULL,
	file_path          TEXT NOT NULL,
	evidence_dir       TEXT NOT NULL,
	sha256             TEXT NOT NULL,
	size_bytes         BIGINT NOT NULL,
	attempts           INTEGER NOT NULL DEFAULT 0,
	error_code         TEXT NOT NULL DEFAULT '',
	error_message      TEXT NOT NULL DEFAULT '',
	result             BYTEA,
	callback_url       TEXT NOT NULL DEFAULT '',
	webhook_state      TEXT NOT NULL DEFAULT '',
	webhook_attempts   INTEGER NOT NULL DEFAULT 0,
	webhook_next_at    BIGINT NOT NULL DEFAULT 0,
	webhook_last_error TEXT NOT NULL DEFAULT '',
	webhook_last_code  INTEGER NOT NULL DEFAULT 0,
	created_at         BIGINT NOT NULL,
	started_at         BIGINT NOT NULL DEFAULT 0,
	finished_at        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs(state, seq);
CREATE INDEX jobs_by_key ON jobs(key_id, seq);
CREATE INDEX jobs_by_webhook ON jobs(webhook_state, webhook_next_at);
`,
	2: `
ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'analysis';
ALTER TABLE jobs ADD COLUMN params BYTEA;
CREATE INDEX jobs_by_kind ON jobs(kind, state, seq);
`,
	3: `
CREATE TABLE originals (
	sha256     TEXT PRIMARY KEY,
	key_id     TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
`,
	// UNLOGGED: a bucket is written on every request, and writing no WAL
	// for it spares each request a WAL flush. A crash empties the table,
	// which only refills every key's burst.
	4: `
CREATE UNLOGGED TABLE rate_limits (
	key_id     TEXT PRIMARY KEY,
	tokens     DOUBLE PRECISION NOT NULL,
	updated_at BIGINT NOT NULL
);
`,
	5: `
ALTER TABLE jobs ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0;
`,
	6: `
CREATE TABLE ledger_signers (
	address TEXT PRIMARY KEY,
	node    TEXT NOT NULL,
	expires BIGINT NOT NULL
);
CREATE TABLE ledger_contracts (
	chain_id   BIGINT PRIMARY KEY,
	address    TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
`,
	7: `
CREATE TABLE uploads (
	id         TEXT PRIMARY KEY,
	key_id     TEXT NOT NULL,
	analysis   INTEGER NOT NULL,
	touched_at BIGINT NOT NULL
);
CREATE INDEX uploads_by_key ON uploads(key_id, touched_at);
`,
	8: `
CREATE TABLE models_active (
	kind       TEXT PRIMARY KEY,
	version    TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
`,
}

// migrationLock is the PostgreSQL advisory lock Migrate holds, so that
// nodes starting together migrate one after the other. Any constant
// works; this one spells "tfschema" in ASCII.
const migrationLock int64 = 0x7466736368656d61

// ErrSchemaTooNew is returned when the database was migrated by a newer
// version of the service than this one.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this program's")

// Migrate brings the database's schema up to this program's. It is
// idempotent, and safe to run from several processes at once: all of it
// happens in one transaction that first takes the database's write lock
// (SQLite's BEGIN IMMEDIATE, a PostgreSQL advisory lock), so a second
// migrator waits, then finds nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.MigrateVersions(ctx)
	return err
}

// MigrateVersions is Migrate, and returns the schema version it found,
// read under the lock: of migrators running at once, only the one that
// did the work finds an older version than this program's.
func (s *Store) MigrateVersions(ctx context.Context) (from int, err error) {
	// On a new SQLite file, connections opening at once race to switch it
	// to WAL, and the loser is told SQLITE_BUSY without waiting (the busy
	// timeout does not cover a journal-mode change). The whole migration
	// is one transaction that rolled back, so it is tried again.
	for try := 0; ; try++ {
		from, err = s.migrateOnce(ctx)
		if s.d.postgres || !sqliteBusy(err) || try == 50 || ctx.Err() != nil {
			return from, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY (code 5).
func sqliteBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}

func (s *Store) migrateOnce(ctx context.Context) (from int, err error) {
	steps := sqliteMigrations
	if s.d.postgres {
		steps = postgresMigrations
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	v, err := s.lockedVersion(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	if v > schemaVersion {
		return v, fmt.Errorf("%w: schema %d, this program's %d", ErrSchemaTooNew, v, schemaVersion)
	}
	if v == schemaVersion {
		return v, nil
	}
	for n := v + 1; n <= schemaVersion; n++ {
		if _, err := tx.ExecContext(ctx, steps[n]); err != nil {
			return v, fmt.Errorf("store: migration %d: %w", n, err)
		}
	}
	if err := s.setVersion(ctx, tx, schemaVersion); err != nil {
		return v, fmt.Errorf("store: migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return v, fmt.Errorf("store: migrate: %w", err)
	}
	return v, nil
}

// lockedVersion takes the migration lock within tx and returns the
// database's schema version, 0 for a new database.
func (s *Store) lockedVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	if !s.d.postgres {
		// The transaction is already BEGIN IMMEDIATE (Open's _txlock).
		err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		return v, err
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return 0, err
	}
	err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func (s *Store) setVersion(ctx context.Context, tx *sql.Tx, v int) error {
	if !s.d.postgres {
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM schema_version"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO schema_version(version) VALUES ($1)", v)
	return err
}

// SchemaVersion returns the database's schema version: 0 for a new
// database, schemaVersion once migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if !s.d.postgres {
		err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		return v, err
	}
	var exists bool
	if err := s.db.QueryRowContext(ctx, "SELECT to_regclass('schema_version') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0, err
	}
	err := s.db.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
