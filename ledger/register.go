package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/trueframe/trueframe/ledger/index"
	"github.com/trueframe/trueframe/ledger/merkle"
)

// prepare hashes and fingerprints a file and stores the fingerprint, which
// must exist before the chain commits to its digest.
func (r *Registry) prepare(ctx context.Context, path string) (sha, digest [32]byte, err error) {
	sha, _, err = HashFile(ctx, path)
	if err != nil {
		return sha, digest, err
	}
	if err := r.Sync(ctx); err != nil {
		return sha, digest, err
	}
	if _, err := r.index.Original(ctx, sha); err == nil {
		return sha, digest, fmt.Errorf("%w: %x", ErrAlreadyRegistered, sha)
	}
	fp, err := r.fp.Fingerprint(ctx, path)
	if err != nil {
		return sha, digest, fmt.Errorf("fingerprinting: %w", err)
	}
	digest, err = r.saveFingerprint(fp)
	return sha, digest, err
}

// Register registers the file at path as an original in a transaction of
// its own, and returns once the registration is mined (and, on the
// embedded chain, durable on disk).
func (r *Registry) Register(ctx context.Context, path, meta string) (Record, error) {
	sha, digest, err := r.prepare(ctx, path)
	if err != nil {
		return Record{}, err
	}
	if _, err := r.chain.Register(ctx, sha, digest, meta); err != nil {
		return Record{}, err
	}
	return r.Lookup(ctx, sha)
}

// Enqueue queues the file at path for the next batch and returns its hash.
// The queue is durable: a registration queued before a crash is anchored
// after the restart. Run (or Flush) anchors the batches.
func (r *Registry) Enqueue(ctx context.Context, path, meta string) ([32]byte, error) {
	sha, digest, err := r.prepare(ctx, path)
	if err != nil {
		return sha, err
	}
	data, err := json.Marshal(batchItem{SHA256: sha, Fingerprint: digest, Meta: meta, QueuedAt: time.Now().UTC()})
	if err != nil {
		return sha, err
	}
	if err := writeFileAtomic(r.queuePath(sha), data); err != nil {
		return sha, err
	}
	select {
	case r.flushNow <- struct{}{}:
	default:
	}
	return sha, nil
}

type batchResult struct {
	rec Record
	err error
}

// RegisterBatched queues the file for the next batch and waits until the
// batch is anchored (Run must be running), returning the record with its
// inclusion proof.
func (r *Registry) RegisterBatched(ctx context.Context, path, meta string) (Record, error) {
	ch := make(chan batchResult, 1)
	sha, _, err := HashFile(ctx, path)
	if err != nil {
		return Record{}, err
	}
	r.batchMu.Lock()
	r.waiters[sha] = append(r.waiters[sha], ch)
	r.batchMu.Unlock()
	defer r.dropWaiter(sha, ch)
	if _, err := r.Enqueue(ctx, path, meta); err != nil {
		return Record{}, err
	}
	select {
	case res := <-ch:
		return res.rec, res.err
	case <-ctx.Done():
		return Record{}, ctx.Err()
	}
}

func (r *Registry) dropWaiter(sha [32]byte, ch chan batchResult) {
	r.batchMu.Lock()
	defer r.batchMu.Unlock()
	list := r.waiters[sha]
	for i, c := range list {
		if c == ch {
			r.waiters[sha] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(r.waiters[sha]) == 0 {
		delete(r.waiters, sha)
	}
}

// Run anchors the queue until ctx ends: as soon as it holds BatchSize
// registrations, or once the oldest has waited BatchDelay.
func (r *Registry) Run(ctx context.Context) error {
	for {
		items, err := r.loadQueue()
		if err != nil {
			return err
		}
		wait := r.opts.BatchDelay
		if len(items) > 0 {
			age := time.Since(items[0].QueuedAt)
			if len(items) >= r.opts.BatchSize || age >= r.opts.BatchDelay {
				if _, _, err := r.Flush(ctx); err != nil && ctx.Err() == nil {
					r.log.Error("anchoring a batch failed; retrying", "err", err)
					wait = 5 * time.Second
				} else {
					continue
				}
			} else {
				wait = r.opts.BatchDelay - age
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.flushNow:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush anchors up to BatchSize queued registrations now, as one Merkle
// root, and returns the root and how many it holds (0 when the queue was
// empty).
func (r *Registry) Flush(ctx context.Context) ([32]byte, int, error) {
	var root [32]byte
	if err := r.Sync(ctx); err != nil {
		return root, 0, err
	}
	queued, err := r.loadQueue()
	if err != nil {
		return root, 0, err
	}
	var items []batchItem
	for _, it := range queued {
		if _, err := r.index.Original(ctx, it.SHA256); err == nil {
			// Anchored before a crash cut the clean-up short, or registered meanwhile.
			os.Remove(r.queuePath(it.SHA256))
			r.notify(it.SHA256, r.lookupResult(ctx, it.SHA256))
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return root, 0, nil
	}
	items = items[:min(len(items), r.opts.BatchSize)]
	tree, err := buildBatch(items)
	if err != nil {
		return root, 0, err
	}
	root = tree.Root()
	bf := batchFile{Root: root, Created: time.Now().UTC(), Items: items}
	data, err := json.MarshalIndent(bf, "", " ")
	if err != nil {
		return root, 0, err
	}
	// The leaves must be on disk before the chain commits to their root.
	if err := writeFileAtomic(r.batchPath(root), data); err != nil {
		return root, 0, err
	}
	if _, err := r.chain.AnchorBatch(ctx, root, uint32(len(items)), r.opts.BatchMeta); err != nil {
		return root, 0, err
	}
	if err := r.Sync(ctx); err != nil {
		return root, len(items), err
	}
	for _, it := range items {
		os.Remove(r.queuePath(it.SHA256))
		r.notify(it.SHA256, r.lookupResult(ctx, it.SHA256))
	}
	r.log.Info("batch anchored", "root", hexString(root), "count", len(items))
	return root, len(items), nil
}

func (r *Registry) lookupResult(ctx context.Context, sha [32]byte) batchResult {
	rec, err := r.Lookup(ctx, sha)
	return batchResult{rec, err}
}

func (r *Registry) notify(sha [32]byte, res batchResult) {
	r.batchMu.Lock()
	defer r.batchMu.Unlock()
	for _, ch := range r.waiters[sha] {
		select {
		case ch <- res:
		default:
		}
	}
}

// proof rebuilds and checks the inclusion proof of a batched original:
// locally against the manifest's root, and on chain (the root is anchored
// and the contract accepts the proof).
func (r *Registry) proof(ctx context.Context, o index.Original) (*Proof, error) {
	bf, tree, err := r.loadBatch(o.BatchRoot)
	if err != nil {
		return nil, err
	}
	if o.LeafIndex >= len(bf.Items) || bf.Items[o.LeafIndex].SHA256 != o.SHA256 {
		return nil, fmt.Errorf("%w: batch %x has no leaf %d for %x", ErrCorrupt, o.BatchRoot, o.LeafIndex, o.SHA256)
	}
	siblings, err := tree.Proof(o.LeafIndex)
	if err != nil {
		return nil, err
	}
	leaf := tree.LeafAt(o.LeafIndex)
	p := &Proof{Root: hexString(o.BatchRoot), LeafIndex: o.LeafIndex, Leaf: hexString(leaf), Count: len(bf.Items)}
	for _, s := range siblings {
		p.Siblings = append(p.Siblings, hexString(s))
	}
	local := merkle.Verify(o.BatchRoot, leaf, siblings)
	_, anchorErr := r.chain.Batch(ctx, o.BatchRoot)
	onChain, err := r.chain.VerifyInclusion(ctx, o.BatchRoot, leaf, siblings)
	if err != nil {
		return nil, err
	}
	p.Verified = local && onChain && anchorErr == nil
	return p, nil
}

// Revoke revokes an original (registered singly or in a batch) with a
// reason, and returns its updated record.
func (r *Registry) Revoke(ctx context.Context, sha [32]byte, reason string) (Record, error) {
	if err := r.Sync(ctx); err != nil {
		return Record{}, err
	}
	o, err := r.index.Original(ctx, sha)
	if errors.Is(err, index.ErrNotFound) {
		return Record{}, fmt.Errorf("%w: %x", ErrNotRegistered, sha)
	}
	if err != nil {
		return Record{}, err
	}
	if o.Revoked {
		return Record{}, fmt.Errorf("%w: %x", ErrAlreadyRevoked, sha)
	}
	if o.Batched() {
		bf, tree, err := r.loadBatch(o.BatchRoot)
		if err != nil {
			return Record{}, err
		}
		proof, err := tree.Proof(o.LeafIndex)
		if err != nil {
			return Record{}, err
		}
		_, err = r.chain.RevokeBatched(ctx, o.BatchRoot, bf.Items[o.LeafIndex].leafData(), proof, reason)
		if err != nil {
			return Record{}, err
		}
	} else if _, err := r.chain.Revoke(ctx, sha, reason); err != nil {
		return Record{}, err
	}
	return r.Lookup(ctx, sha)
}
