// Package index is the local SQLite cache of the provenance registry: the
// originals registered on chain (singly or in batches), the batches, the
// revocations, and the fingerprint lookup keys that find candidate
// originals for a perceptual match.
//
// Everything in it can be rebuilt from the chain's events plus the
// content-addressed fingerprint and batch files (see package ledger), so
// losing it loses nothing: Reset and replay the events.
package index

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// ErrNotFound is returned when no record matches.
var ErrNotFound = errors.New("index: not found")

// Original is one registered original as recorded on chain.
type Original struct {
	SHA256      [32]byte
	Fingerprint [32]byte // digest of the full fingerprint
	Meta        string
	Registrar   string // 0x address
	TxHash      string
	Block       uint64
	Time        time.Time
	// BatchRoot is the Merkle root of the batch the original was anchored
	// in, zero for a single registration; LeafIndex is its position.
	BatchRoot [32]byte
	LeafIndex int
	Revoked   bool
	Revoke    Revocation
}

// Batched reports whether the original was anchored in a batch.
func (o Original) Batched() bool { return o.BatchRoot != [32]byte{} }

// Revocation is the record of a revoke.
type Revocation struct {
	Reason string
	TxHash string
	Block  uint64
	Time   time.Time
}

// Batch is one anchored Merkle root.
type Batch struct {
	Root      [32]byte
	Count     int
	Meta      string
	Registrar string
	TxHash    string
	Block     uint64
	Time      time.Time
}

// Index is the database. It is safe for concurrent use.
type Index struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS originals (
	sha256        BLOB PRIMARY KEY,
	fingerprint   BLOB NOT NULL,
	meta          TEXT NOT NULL,
	registrar     TEXT NOT NULL,
	tx            TEXT NOT NULL,
	block         INTEGER NOT NULL,
	block_time    INTEGER NOT NULL,
	batch_root    BLOB,
	leaf_index    INTEGER NOT NULL DEFAULT 0,
	revoked       INTEGER NOT NULL DEFAULT 0,
	revoke_reason TEXT NOT NULL DEFAULT '',
	revoke_tx     TEXT NOT NULL DEFAULT '',
	revoke_block  INTEGER NOT NULL DEFAULT 0,
	revoke_time   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS originals_by_fingerprint ON originals(fingerprint);
CREATE TABLE IF NOT EXISTS batches (
	root       BLOB PRIMARY KEY,
	count      INTEGER NOT NULL,
	meta       TEXT NOT NULL,
	registrar  TEXT NOT NULL,
	tx         TEXT NOT NULL,
	block      INTEGER NOT NULL,
	block_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fingerprint_keys (
	key         INTEGER NOT NULL,
	fingerprint BLOB NOT NULL,
	PRIMARY KEY (key, fingerprint)
) WITHOUT ROWID;
-- Off-chain files the chain named before they could be read here (another
-- node was still writing one, or the registrar keeps its files elsewhere),
-- tried again after next_try, later each time.
CREATE TABLE IF NOT EXISTS missing_files (
	kind     TEXT NOT NULL,
	hash     BLOB NOT NULL,
	attempts INTEGER NOT NULL,
	next_try INTEGER NOT NULL,
	PRIMARY KEY (kind, hash)
) WITHOUT ROWID;
-- Revocations of originals the index does not hold yet (in a batch whose
-- leaves are missing), applied when they arrive.
CREATE TABLE IF NOT EXISTS early_revocations (
	sha256 BLOB PRIMARY KEY,
	reason TEXT NOT NULL,
	tx     TEXT NOT NULL,
	block  INTEGER NOT NULL,
	time   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`

// Open opens or creates the index at path.
func Open(ctx context.Context, path string) (*Index, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("index: %s: %w", path, err)
	}
	return &Index{db: db}, nil
}

// Close closes the database.
func (ix *Index) Close() error { return ix.db.Close() }

// Tx is a write transaction: a batch of records applied atomically.
type Tx struct{ tx *sql.Tx }

// Update runs fn in one transaction, committed when fn returns nil.
func (ix *Index) Update(ctx context.Context, fn func(*Tx) error) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&Tx{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Reset empties every table, for a rebuild.
func (t *Tx) Reset(ctx context.Context) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM originals; DELETE FROM batches; DELETE FROM fingerprint_keys; DELETE FROM missing_files;
		DELETE FROM early_revocations; DELETE FROM state;`)
	return err
}

// PutOriginal records an original and its fingerprint's lookup keys. The
// first registration of a hash wins and a revocation is never undone:
// events are replayed in chain order, and the contract's own record is the
// first one (a later batch may repeat a hash; it changes nothing).
func (t *Tx) PutOriginal(ctx context.Context, o Original, keys []uint32) error {
	var root any
	if o.Batched() {
		root = o.BatchRoot[:]
	}
	_, err := t.tx.ExecContext(ctx, `INSERT OR IGNORE INTO originals(sha256, fingerprint, meta, registrar, tx, block,
		block_time, batch_root, leaf_index, revoked, revoke_reason, revoke_tx, revoke_block, revoke_time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.SHA256[:], o.Fingerprint[:], o.Meta, o.Registrar, o.TxHash, o.Block, o.Time.UnixMilli(), root, o.LeafIndex,
		o.Revoked, o.Revoke.Reason, o.Revoke.TxHash, o.Revoke.Block, millis(o.Revoke.Time))
	if err != nil {
		return fmt.Errorf("index: put original: %w", err)
	}
	var r Revocation
	var rt int64
	err = t.tx.QueryRowContext(ctx, `DELETE FROM early_revocations WHERE sha256 = ? RETURNING reason, tx, block, time`, o.SHA256[:]).
		Scan(&r.Reason, &r.TxHash, &r.Block, &rt)
	switch {
	case err == nil:
		r.Time = time.UnixMilli(rt).UTC()
		if err := t.Revoke(ctx, o.SHA256, r); err != nil {
			return err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("index: put original: %w", err)
	}
	return t.PutKeys(ctx, o.Fingerprint, keys)
}

// PutKeys records the lookup keys of the fingerprint with the given
// digest (known only once its file could be read).
func (t *Tx) PutKeys(ctx context.Context, fingerprint [32]byte, keys []uint32) error {
	for _, k := range keys {
		if _, err := t.tx.ExecContext(ctx, `INSERT OR IGNORE INTO fingerprint_keys(key, fingerprint) VALUES (?, ?)`, k, fingerprint[:]); err != nil {
			return fmt.Errorf("index: put key: %w", err)
		}
	}
	return nil
}

// PutBatch records an anchored batch.
func (t *Tx) PutBatch(ctx context.Context, b Batch) error {
	_, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO batches(root, count, meta, registrar, tx, block, block_time)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, b.Root[:], b.Count, b.Meta, b.Registrar, b.TxHash, b.Block, b.Time.UnixMilli())
	return err
}

// Revoke marks an original revoked. The revocation of an original the
// index does not hold yet is kept until PutOriginal records it.
func (t *Tx) Revoke(ctx context.Context, sha [32]byte, r Revocation) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE originals SET revoked = 1, revoke_reason = ?, revoke_tx = ?, revoke_block = ?,
		revoke_time = ? WHERE sha256 = ?`, r.Reason, r.TxHash, r.Block, millis(r.Time), sha[:])
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO early_revocations(sha256, reason, tx, block, time) VALUES (?, ?, ?, ?, ?)`,
		sha[:], r.Reason, r.TxHash, r.Block, millis(r.Time))
	return err
}

// FileKind is the kind of an off-chain file the index waits for.
type FileKind string

// The off-chain files the index needs.
const (
	// FingerprintFile: the full fingerprint of registered originals (named
	// by Missing.Hash, its digest), without which they have no lookup keys
	// and can be found only by their exact hash.
	FingerprintFile FileKind = "fingerprint"
	// BatchFile: the leaves of an anchored batch (named by its root),
	// without which its originals are not in the index at all.
	BatchFile FileKind = "batch"
)

// Missing is an off-chain file the index needs and has not read yet.
type Missing struct {
	Kind     FileKind
	Hash     [32]byte
	Attempts int       // reads that found nothing so far
	NextTry  time.Time // when to read it again
}

// SetMissing records (or updates) a file to read again at m.NextTry.
func (t *Tx) SetMissing(ctx context.Context, m Missing) error {
	_, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO missing_files(kind, hash, attempts, next_try) VALUES (?, ?, ?, ?)`,
		string(m.Kind), m.Hash[:], m.Attempts, m.NextTry.UnixMilli())
	return err
}

// Found forgets a missing file once it has been read.
func (t *Tx) Found(ctx context.Context, kind FileKind, hash [32]byte) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM missing_files WHERE kind = ? AND hash = ?`, string(kind), hash[:])
	return err
}

// DueMissing returns up to limit missing files due to be read again at
// now, the most overdue first.
func (ix *Index) DueMissing(ctx context.Context, now time.Time, limit int) ([]Missing, error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT kind, hash, attempts, next_try FROM missing_files WHERE next_try <= ?
		ORDER BY next_try LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Missing
	for rows.Next() {
		var m Missing
		var kind string
		var hash []byte
		var next int64
		if err := rows.Scan(&kind, &hash, &m.Attempts, &next); err != nil {
			return nil, err
		}
		m.Kind, m.NextTry = FileKind(kind), time.UnixMilli(next).UTC()
		copy(m.Hash[:], hash)
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountMissing returns how many off-chain files the index still waits for.
func (ix *Index) CountMissing(ctx context.Context) (int, error) {
	var n int
	err := ix.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM missing_files`).Scan(&n)
	return n, err
}

// SetSynced records the next block the index has not seen.
func (t *Tx) SetSynced(ctx context.Context, next uint64) error {
	_, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO state(name, value) VALUES ('next_block', ?)`, fmt.Sprint(next))
	return err
}

// Synced returns the next block the index has not seen (0 when empty).
func (ix *Index) Synced(ctx context.Context) (uint64, error) {
	var v string
	err := ix.db.QueryRowContext(ctx, `SELECT value FROM state WHERE name = 'next_block'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	_, err = fmt.Sscan(v, &n)
	return n, err
}

const originalColumns = `sha256, fingerprint, meta, registrar, tx, block, block_time, COALESCE(batch_root, x''), leaf_index,
	revoked, revoke_reason, revoke_tx, revoke_block, revoke_time`

func scanOriginal(row interface{ Scan(...any) error }) (Original, error) {
	var o Original
	var sha, fp, root []byte
	var t, rt int64
	err := row.Scan(&sha, &fp, &o.Meta, &o.Registrar, &o.TxHash, &o.Block, &t, &root, &o.LeafIndex,
		&o.Revoked, &o.Revoke.Reason, &o.Revoke.TxHash, &o.Revoke.Block, &rt)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, err
	}
	copy(o.SHA256[:], sha)
	copy(o.Fingerprint[:], fp)
	copy(o.BatchRoot[:], root)
	o.Time = time.UnixMilli(t).UTC()
	if rt != 0 {
		o.Revoke.Time = time.UnixMilli(rt).UTC()
	}
	return o, nil
}

// Original returns the original with the given file hash.
func (ix *Index) Original(ctx context.Context, sha [32]byte) (Original, error) {
	return scanOriginal(ix.db.QueryRowContext(ctx, `SELECT `+originalColumns+` FROM originals WHERE sha256 = ?`, sha[:]))
}

// Batch returns the batch with the given root.
func (ix *Index) Batch(ctx context.Context, root [32]byte) (Batch, error) {
	b := Batch{Root: root}
	var t int64
	err := ix.db.QueryRowContext(ctx, `SELECT count, meta, registrar, tx, block, block_time FROM batches WHERE root = ?`, root[:]).
		Scan(&b.Count, &b.Meta, &b.Registrar, &b.TxHash, &b.Block, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrNotFound
	}
	b.Time = time.UnixMilli(t).UTC()
	return b, err
}

// Candidate is an original that shares lookup keys with a fingerprint.
type Candidate struct {
	Original
	SharedKeys int
}

// Candidates returns up to limit originals sharing the most lookup keys
// with keys (at least minShared), best first.
func (ix *Index) Candidates(ctx context.Context, keys []uint32, minShared, limit int) ([]Candidate, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	counts := map[[32]byte]int{}
	// SQLite binds at most 32766 parameters per statement.
	for start := 0; start < len(keys); start += 20000 {
		chunk := keys[start:min(len(keys), start+20000)]
		args := make([]any, len(chunk))
		marks := make([]byte, 0, 2*len(chunk))
		for i, k := range chunk {
			args[i] = k
			if i > 0 {
				marks = append(marks, ',')
			}
			marks = append(marks, '?')
		}
		rows, err := ix.db.QueryContext(ctx, `SELECT fingerprint, COUNT(*) FROM fingerprint_keys WHERE key IN (`+string(marks)+`) GROUP BY fingerprint`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var fp []byte
			var n int
			if err := rows.Scan(&fp, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if len(fp) == 32 {
				counts[[32]byte(fp)] += n
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []Candidate
	for fp, n := range counts {
		if n < minShared {
			continue
		}
		rows, err := ix.db.QueryContext(ctx, `SELECT `+originalColumns+` FROM originals WHERE fingerprint = ?`, fp[:])
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			o, err := scanOriginal(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, Candidate{Original: o, SharedKeys: n})
		}
		rows.Close()
	}
	sortCandidates(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Counts returns how many originals (revoked included), revoked originals
// and batches the index holds.
func (ix *Index) Counts(ctx context.Context) (originals, revoked, batches int, err error) {
	err = ix.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM originals), (SELECT COUNT(*) FROM originals WHERE revoked = 1),
		(SELECT COUNT(*) FROM batches)`).Scan(&originals, &revoked, &batches)
	return
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func sortCandidates(c []Candidate) {
	slices.SortFunc(c, func(a, b Candidate) int {
		if a.SharedKeys != b.SharedKeys {
			return b.SharedKeys - a.SharedKeys
		}
		return bytes.Compare(a.SHA256[:], b.SHA256[:])
	})
}
