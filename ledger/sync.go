package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/index"
)

// Sync brings the index up to date with the contract's events since the
// last sync, and reads again the off-chain files it was missing that are
// due (see Status.MissingFiles).
//
// Every read (Verify, Lookup, Status) and every write syncs first, so a
// registry sees whatever any registrar on the contract (another node of
// the service, another program) had confirmed when the call began: a
// registration on node A is matched on node B by the next Verify after A
// acknowledged it. Calls that overlap share one sync: a sync that started
// after a call began serves it too. The fingerprint of a registration
// from elsewhere is known once its file is in Options.Files; until then
// the original is found by its exact hash only, and Sync looks for the
// file again 1 s, 2 s, 4 s, ... (at most 5 min) later.
func (r *Registry) Sync(ctx context.Context) error {
	called := time.Now()
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	if r.syncedAt.After(called) {
		return nil
	}
	started := time.Now()
	from, err := r.index.Synced(ctx)
	if err != nil {
		return err
	}
	if err := r.apply(ctx, from, false); err != nil {
		return err
	}
	if err := r.retryMissing(ctx); err != nil {
		return err
	}
	r.syncedAt = started
	return nil
}

// Reindex rebuilds the index from the chain's events, from the first
// block, and the off-chain files. It is what to run after losing or
// doubting the index.
func (r *Registry) Reindex(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	return r.apply(ctx, 0, true)
}

func (r *Registry) apply(ctx context.Context, from uint64, reset bool) error {
	events, next, err := r.chain.Events(ctx, from)
	if err != nil {
		return fmt.Errorf("ledger: reading events: %w", err)
	}
	if len(events) == 0 && next == from && !reset {
		return nil
	}
	return r.index.Update(ctx, func(tx *index.Tx) error {
		if reset {
			if err := tx.Reset(ctx); err != nil {
				return err
			}
		}
		for _, ev := range events {
			if err := r.applyEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return tx.SetSynced(ctx, next)
	})
}

func (r *Registry) applyEvent(ctx context.Context, tx *index.Tx, ev chain.Event) error {
	base := index.Original{Registrar: ev.Account.Hex(), TxHash: ev.TxHash.Hex(), Block: ev.BlockNumber, Time: ev.BlockTime}
	switch ev.Kind {
	case chain.EventRegistered:
		o := base
		o.SHA256, o.Fingerprint, o.Meta = ev.Hash, ev.FingerprintDigest, ev.Meta
		return r.putOriginal(ctx, tx, o)
	case chain.EventBatchAnchored:
		b := index.Batch{Root: ev.Hash, Count: int(ev.Count), Meta: ev.Meta,
			Registrar: base.Registrar, TxHash: base.TxHash, Block: base.Block, Time: base.Time}
		if err := tx.PutBatch(ctx, b); err != nil {
			return err
		}
		bf, _, err := r.loadBatch(ctx, ev.Hash)
		if r.unread(ctx, err) {
			r.log.Warn("batch anchored without readable leaves: its originals are unknown here until they are read",
				"root", hexString(ev.Hash), "err", err)
			return r.missing(ctx, tx, index.Missing{Kind: index.BatchFile, Hash: ev.Hash})
		}
		if err != nil {
			return err
		}
		return r.putLeaves(ctx, tx, b, bf)
	case chain.EventRevoked:
		return tx.Revoke(ctx, ev.Hash, index.Revocation{Reason: ev.Meta, TxHash: base.TxHash, Block: base.Block, Time: base.Time})
	}
	return nil
}

// putLeaves records the originals of an anchored batch from its leaves.
// A hash that is in the index already keeps its first record; should the
// leaves of an earlier batch come after those of a later one that repeats
// a hash, the later batch keeps it (a Reindex, which reads every file in
// chain order, settles it).
func (r *Registry) putLeaves(ctx context.Context, tx *index.Tx, b index.Batch, bf *batchFile) error {
	for i, it := range bf.Items {
		o := index.Original{SHA256: it.SHA256, Fingerprint: it.Fingerprint, Meta: it.Meta, Registrar: b.Registrar,
			TxHash: b.TxHash, Block: b.Block, Time: b.Time, BatchRoot: b.Root, LeafIndex: i}
		if err := r.putOriginal(ctx, tx, o); err != nil {
			return err
		}
	}
	return nil
}

// putOriginal records an original with its fingerprint's lookup keys, or
// without them, to add later, while its fingerprint file is missing.
func (r *Registry) putOriginal(ctx context.Context, tx *index.Tx, o index.Original) error {
	keys, err := r.keys(ctx, o.Fingerprint)
	unread := r.unread(ctx, err)
	if err != nil && !unread {
		return err
	}
	if err := tx.PutOriginal(ctx, o, keys); err != nil {
		return err
	}
	if unread {
		if !errors.Is(err, fs.ErrNotExist) {
			r.log.Warn("reading a fingerprint failed; reading it again later", "digest", hexString(o.Fingerprint), "err", err)
		}
		return r.missing(ctx, tx, index.Missing{Kind: index.FingerprintFile, Hash: o.Fingerprint})
	}
	return nil
}

// unread says whether err is a failure to read an off-chain file that a
// later read may not have: the file is not there yet, or the store failed.
// Neither stops a sync, which records the file to read again; only the
// caller giving up does.
func (r *Registry) unread(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil
}

// keys returns the lookup keys of the fingerprint committed to by digest:
// none for an unusable file (the original can then only be found by its
// exact hash; a Reindex reads it again), and an error wrapping
// fs.ErrNotExist when the file is not there yet, or an error of the store.
func (r *Registry) keys(ctx context.Context, digest [32]byte) ([]uint32, error) {
	fp, err := r.loadFingerprint(ctx, digest)
	if errors.Is(err, ErrCorrupt) {
		r.log.Warn("unusable fingerprint file", "digest", hexString(digest), "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return fp.Keys(), nil
}

// Reading a missing file again waits missingFirstTry, twice as long after
// each read that finds nothing, up to missingMaxWait: a file another node
// is writing comes within seconds; one that never comes costs a read
// every few minutes.
const (
	missingFirstTry = time.Second
	missingMaxWait  = 5 * time.Minute
)

// missing records a file to read again, after the wait its attempts call for.
func (r *Registry) missing(ctx context.Context, tx *index.Tx, m index.Missing) error {
	wait := missingMaxWait
	if m.Attempts < 16 {
		wait = min(missingMaxWait, missingFirstTry<<m.Attempts)
	}
	m.NextTry = r.now().Add(wait)
	return tx.SetMissing(ctx, m)
}

// retryMissing reads the missing files that are due, and adds what they
// hold to the index: the lookup keys of a fingerprint, the originals of a
// batch.
func (r *Registry) retryMissing(ctx context.Context) error {
	due, err := r.index.DueMissing(ctx, r.now(), 100)
	if err != nil || len(due) == 0 {
		return err
	}
	return r.index.Update(ctx, func(tx *index.Tx) error {
		for _, m := range due {
			var readErr error
			switch m.Kind {
			case index.FingerprintFile:
				var keys []uint32
				if keys, readErr = r.keys(ctx, m.Hash); readErr == nil {
					if err := tx.PutKeys(ctx, m.Hash, keys); err != nil {
						return err
					}
				}
			case index.BatchFile:
				var bf *batchFile
				if bf, _, readErr = r.loadBatch(ctx, m.Hash); readErr == nil {
					b, err := r.index.Batch(ctx, m.Hash)
					if err != nil {
						return err
					}
					if err := r.putLeaves(ctx, tx, b, bf); err != nil {
						return err
					}
				}
			}
			var err error
			switch {
			case readErr == nil:
				r.log.Info("read an off-chain file that was missing", "kind", m.Kind, "hash", hexString(m.Hash), "attempts", m.Attempts+1)
				err = tx.Found(ctx, m.Kind, m.Hash)
			case r.unread(ctx, readErr):
				if !errors.Is(readErr, fs.ErrNotExist) {
					r.log.Warn("reading a missing off-chain file failed", "kind", m.Kind, "hash", hexString(m.Hash), "err", readErr)
				}
				m.Attempts++
				err = r.missing(ctx, tx, m)
			default:
				err = readErr
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
