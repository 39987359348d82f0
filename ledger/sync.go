package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/index"
)

// Sync brings the index up to date with the contract's events since the
// last sync. Registrations made by other registrars (or other machines) on
// the same contract come in too; their perceptual fingerprints are known
// only when their files were copied into this registry's directory.
func (r *Registry) Sync(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	from, err := r.index.Synced(ctx)
	if err != nil {
		return err
	}
	return r.apply(ctx, from, false)
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
		return tx.PutOriginal(ctx, o, r.keys(o.Fingerprint))
	case chain.EventBatchAnchored:
		if err := tx.PutBatch(ctx, index.Batch{Root: ev.Hash, Count: int(ev.Count), Meta: ev.Meta,
			Registrar: base.Registrar, TxHash: base.TxHash, Block: base.Block, Time: base.Time}); err != nil {
			return err
		}
		bf, _, err := r.loadBatch(ev.Hash)
		if errors.Is(err, os.ErrNotExist) {
			r.log.Warn("batch anchored without its leaves here: its originals are unknown locally", "root", hexString(ev.Hash))
			return nil
		}
		if err != nil {
			return err
		}
		for i, it := range bf.Items {
			o := base
			o.SHA256, o.Fingerprint, o.Meta, o.BatchRoot, o.LeafIndex = it.SHA256, it.Fingerprint, it.Meta, ev.Hash, i
			if err := tx.PutOriginal(ctx, o, r.keys(o.Fingerprint)); err != nil {
				return err
			}
		}
	case chain.EventRevoked:
		return tx.Revoke(ctx, ev.Hash, index.Revocation{Reason: ev.Meta, TxHash: base.TxHash, Block: base.Block, Time: base.Time})
	}
	return nil
}

// keys returns the lookup keys of the fingerprint committed to by digest,
// or none when its file is missing here (the original can then only be
// found by its exact hash).
func (r *Registry) keys(digest [32]byte) []uint32 {
	fp, err := r.loadFingerprint(digest)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.log.Warn("unusable fingerprint file", "digest", hexString(digest), "err", err)
		}
		return nil
	}
	return fp.Keys()
}
