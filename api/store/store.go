// Package store keeps the service's durable state: API keys and jobs, with
// their results and webhook delivery status, the owners of registered
// originals and each key's rate-limit bucket.
//
// It runs on one of two databases, chosen by what Open is given: an
// embedded SQLite file (the default: one binary, one directory), or a
// PostgreSQL server shared by several service nodes. The code is the same
// for both; a small dialect value spells what differs.
//
// Every write commits before it returns, with the write-ahead log synced
// (SQLite's synchronous=FULL, PostgreSQL's default synchronous_commit), so
// anything the service acknowledged survives a kill -9 or a power cut.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// ErrNotFound is returned when a key or job does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is the database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	// buckets is the pool TakeToken writes through. On SQLite it is a
	// second pool on the same file with synchronous=NORMAL: a bucket is
	// written on every request, and waiting for the disk each time (about
	// 1 ms here, one writer at a time) would cap the whole API near 1000
	// requests a second; losing a bucket's last updates to a power cut
	// costs nothing. The next FULL commit syncs those pages too, so the
	// other tables lose nothing. On PostgreSQL the table is UNLOGGED
	// instead, and this is db.
	buckets *sql.DB
	d       dialect
	opts    Options
}

// EnqueueFunc puts a new job in a queue outside this package's tables
// (River's), within the transaction that inserts the job's row.
type EnqueueFunc func(ctx context.Context, tx *sql.Tx, j Job) error

// Options adjust a Store. The zero value is the embedded default: jobs
// queued in the jobs table alone, and the schema migrated on Open.
type Options struct {
	// Enqueue, when set, is called by CreateJob inside the transaction
	// that inserts the job, after the insert: when it fails, the job is
	// not created, so a job row never exists without its queue entry. The
	// queue needs the Store's pool (DB) to be built, so Enqueue is usually
	// a closure over a client assigned after OpenWith returns, and before
	// the first job is created.
	Enqueue EnqueueFunc
	// EnqueueWebhook, when set, is called by Complete and Fail for a job
	// with a callback URL, inside the transaction that ends the job.
	EnqueueWebhook func(ctx context.Context, tx *sql.Tx, jobID string) error
	// NoMigrate leaves the schema as found: for trueframe migrate, which
	// reports the version before it migrates.
	NoMigrate bool
}

// Open opens the database dsn names, creating and migrating it if needed,
// with the default Options. dsn is a postgres:// or postgresql:// URL
// (see github.com/jackc/pgx/v5/pgconn for its parameters), or else the
// path of a SQLite file.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith is Open with Options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*Store, error) {
	var (
		s   *Store
		err error
	)
	if IsPostgres(dsn) {
		s, err = openPostgres(dsn)
	} else {
		s, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", Redact(dsn), err)
	}
	s.opts = opts
	if !opts.NoMigrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("%w (database %s)", err, Redact(dsn))
		}
	}
	return s, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than
// a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redact returns dsn fit for a log line or an error: a URL's password,
// in its user part or its password parameter, replaced by xxxxx. A file
// path is returned as it is.
func Redact(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(malformed URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func openPostgres(dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	// database/sql keeps only 2 idle connections by default: an API node
	// under load would reconnect all the time. The server's own limit
	// (max_connections) is shared by every node, so none takes many.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(time.Minute)
	return &Store{db: db, buckets: db, d: postgres}, nil
}

func openSQLite(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
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
		return nil, err
	}
	open := func(sync string, conns int) (*sql.DB, error) {
		q := maps.Clone(q)
		q.Add("_pragma", "synchronous("+sync+")")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(conns)
		db.SetConnMaxIdleTime(time.Minute)
		return db, nil
	}
	// SQLite has one writer at a time; a handful of connections serve
	// concurrent readers (WAL) without piling up writers.
	db, err := open("FULL", 8) // an acknowledged job must survive a power cut, not only a crash
	if err != nil {
		return nil, err
	}
	buckets, err := open("NORMAL", 2)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, buckets: buckets, d: sqlite}, nil
}

// DB returns the connection pool, for a job queue that keeps its own
// tables in the same database (River). Close closes it.
func (s *Store) DB() *sql.DB { return s.db }

// Postgres reports whether the database is PostgreSQL (else SQLite), for
// what must pick a driver of its own to match.
func (s *Store) Postgres() bool { return s.d.postgres }

// exec, query and queryRow run a query written with ? placeholders on
// either database.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.d.rebind(q), args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.d.rebind(q), args...)
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

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *Store) Close() error {
	if s.buckets == s.db {
		return s.db.Close()
	}
	return errors.Join(s.db.Close(), s.buckets.Close())
}

func now() int64 { return time.Now().UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
