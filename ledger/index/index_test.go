package index

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func openIndex(t *testing.T) *Index {
	t.Helper()
	ix, err := Open(t.Context(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func update(t *testing.T, ix *Index, fn func(ctx context.Context, tx *Tx) error) {
	t.Helper()
	if err := ix.Update(t.Context(), func(tx *Tx) error { return fn(t.Context(), tx) }); err != nil {
		t.Fatal(err)
	}
}

// A revocation that comes before its original (in a batch whose leaves
// were not readable yet) is applied when the original comes.
func TestRevocationBeforeOriginal(t *testing.T) {
	ix := openIndex(t)
	sha := [32]byte{1}
	rev := Revocation{Reason: "withdrawn", TxHash: "0xabc", Block: 9, Time: time.UnixMilli(1234).UTC()}
	update(t, ix, func(ctx context.Context, tx *Tx) error { return tx.Revoke(ctx, sha, rev) })
	if _, err := ix.Original(t.Context(), sha); err != ErrNotFound {
		t.Fatalf("original before it came: err = %v", err)
	}
	update(t, ix, func(ctx context.Context, tx *Tx) error {
		return tx.PutOriginal(ctx, Original{SHA256: sha, BatchRoot: [32]byte{2}, Block: 5}, []uint32{7})
	})
	o, err := ix.Original(t.Context(), sha)
	if err != nil || !o.Revoked || o.Revoke != rev {
		t.Fatalf("original after it came: %+v, %v; want revoked %+v", o, err, rev)
	}
	// Applied once: the revocation is not kept for a later record.
	var n int
	if err := ix.db.QueryRow(`SELECT COUNT(*) FROM early_revocations`).Scan(&n); err != nil || n != 0 {
		t.Errorf("early revocations left: %d, %v", n, err)
	}
}

func TestMissingFiles(t *testing.T) {
	ix := openIndex(t)
	now := time.UnixMilli(1_000_000).UTC()
	fp, root := Missing{Kind: FingerprintFile, Hash: [32]byte{1}, NextTry: now}, Missing{Kind: BatchFile, Hash: [32]byte{1}, NextTry: now.Add(time.Second)}
	update(t, ix, func(ctx context.Context, tx *Tx) error {
		if err := tx.SetMissing(ctx, fp); err != nil {
			return err
		}
		return tx.SetMissing(ctx, root)
	})
	due, err := ix.DueMissing(t.Context(), now, 10)
	if err != nil || len(due) != 1 || due[0] != fp {
		t.Fatalf("due now: %+v, %v; want %+v", due, err, fp)
	}
	fp.Attempts, fp.NextTry = 1, now.Add(2*time.Second)
	update(t, ix, func(ctx context.Context, tx *Tx) error { return tx.SetMissing(ctx, fp) })
	if due, err := ix.DueMissing(t.Context(), now.Add(time.Second), 10); err != nil || len(due) != 1 || due[0] != root {
		t.Fatalf("due a second later: %+v, %v; want %+v", due, err, root)
	}
	update(t, ix, func(ctx context.Context, tx *Tx) error { return tx.Found(ctx, BatchFile, root.Hash) })
	if n, err := ix.CountMissing(t.Context()); err != nil || n != 1 {
		t.Fatalf("missing after one was found: %d, %v", n, err)
	}
	update(t, ix, func(ctx context.Context, tx *Tx) error { return tx.Reset(ctx) })
	if n, err := ix.CountMissing(t.Context()); err != nil || n != 0 {
		t.Fatalf("missing after a reset: %d, %v", n, err)
	}
}
