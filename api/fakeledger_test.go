package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sync"

	"github.com/trueframe/trueframe/ledger"
)

// fakeLedger is an in-memory Ledger for the routes' tests: exact hashes
// only, no chain. fail, when set, makes every call fail with its error for
// the file at path ("" for calls without a file).
type fakeLedger struct {
	mu   sync.Mutex
	recs map[string]ledger.Record
	fail func(path string) error
}

func newFakeLedger() *fakeLedger { return &fakeLedger{recs: map[string]ledger.Record{}} }

func (f *fakeLedger) err(path string) error {
	if f.fail == nil {
		return nil
	}
	return f.fail(path)
}

func (f *fakeLedger) Register(ctx context.Context, path, meta string) (ledger.Record, error) {
	if err := f.err(path); err != nil {
		return ledger.Record{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ledger.Record{}, err
	}
	sum := sha256.Sum256(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	sha := hex.EncodeToString(sum[:])
	if _, ok := f.recs[sha]; ok {
		return ledger.Record{}, ledger.ErrAlreadyRegistered
	}
	rec := ledger.Record{SHA256: sha, Meta: meta, TxHash: "0x01", Block: 1}
	f.recs[sha] = rec
	return rec, nil
}

func (f *fakeLedger) RegisterBatched(ctx context.Context, path, meta string) (ledger.Record, error) {
	return f.Register(ctx, path, meta)
}

func (f *fakeLedger) Lookup(ctx context.Context, sha [32]byte) (ledger.Record, error) {
	if err := f.err(""); err != nil {
		return ledger.Record{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.recs[hex.EncodeToString(sha[:])]
	if !ok {
		return ledger.Record{}, ledger.ErrNotRegistered
	}
	return rec, nil
}

func (f *fakeLedger) Revoke(ctx context.Context, sha [32]byte, reason string) (ledger.Record, error) {
	if err := f.err(""); err != nil {
		return ledger.Record{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := hex.EncodeToString(sha[:])
	rec, ok := f.recs[key]
	switch {
	case !ok:
		return ledger.Record{}, ledger.ErrNotRegistered
	case rec.Revoked:
		return ledger.Record{}, ledger.ErrAlreadyRevoked
	}
	rec.Revoked, rec.RevokeReason = true, reason
	f.recs[key] = rec
	return rec, nil
}

func (f *fakeLedger) Verify(ctx context.Context, path string) (ledger.Verification, error) {
	if err := f.err(path); err != nil {
		return ledger.Verification{}, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ledger.Verification{}, err
	}
	sum := sha256.Sum256(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	sha := hex.EncodeToString(sum[:])
	if rec, ok := f.recs[sha]; ok {
		return ledger.Verification{Status: ledger.Registered, SHA256: sha, Original: &rec}, nil
	}
	return ledger.Verification{Status: ledger.Unknown, SHA256: sha}, nil
}

// add registers a hash the way another program would (the CLI), without
// the service knowing who did.
func (f *fakeLedger) add(sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs[sha] = ledger.Record{SHA256: sha, TxHash: "0x02", Block: 2}
}

func (f *fakeLedger) revoked(sha string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recs[sha].Revoked
}
