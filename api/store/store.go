// Package store keeps the service's durable state in one embedded SQLite
// database: API keys and analysis jobs, with their results and webhook
// delivery status.
//
// Every write commits before it returns, with the write-ahead log synced
// (synchronous=FULL), so anything the service acknowledged survives a
// kill -9 or a power cut.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a key or job does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is the database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	enqueue func(ctx context.Context, tx *sql.Tx, j Job) error
}

// schemaVersion is kept in PRAGMA user_version; migrate brings older
// databases up to it.
const schemaVersion = 4

var migrations = []string{
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
	// A running job's node touches heartbeat_at while it works, so that
	// another node can tell a job whose node died from one still at work.
	4: `
ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;
`,
}

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"synchronous(FULL)", // an acknowledged job must survive a power cut, not only a crash
		"busy_timeout(10000)",
		"foreign_keys(ON)",
	} {
		q.Add("_pragma", p)
	}
	// BEGIN IMMEDIATE takes the write lock up front, so two writers never
	// deadlock upgrading read locks (SQLITE_BUSY that busy_timeout cannot fix).
	q.Set("_txlock", "immediate")
	// The database holds the webhook secrets in the clear: only the
	// service's user may read it. SQLite gives its WAL and shared-memory
	// files the database file's mode, so creating the file first, private,
	// makes them private too; a database an older version created readable
	// by others is made private.
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// SQLite has one writer at a time; a handful of connections serve
	// concurrent readers (WAL) without piling up writers.
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return s, nil
}

// createPrivate creates the file at path with mode 0600 unless it exists,
// and removes group and other access from an existing one.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return f.Chmod(perm &^ 0o077)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("database schema %d is newer than this program's (%d)", v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v+1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func now() int64 { return time.Now().UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
