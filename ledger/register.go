package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trueframe/trueframe/ledger/fingerprint"
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
	// A registration keeps a face thumbnail a second, enough to show the
	// registered face beside a checked one.
	fp.ThinThumbs(fingerprint.ThumbEvery)
	digest, err = r.saveFingerprint(ctx, fp)
	return sha, digest, err
}

// Register registers the file at path as an original in a transaction of
// its own, and returns once the registration is mined (and, on the
// embedded chain, durable on disk).
func (r *Registry) Register(ctx context.Context, path, meta string) (Record, error) {
	// Checked before the fingerprinting (seconds of work) and again before
	// sending, when it counts.
	if err := r.canSign(); err != nil {
		return Record{}, err
	}
	sha, digest, err := r.prepare(ctx, path)
	if err != nil {
		return Record{}, err
	}
	if err := r.canSign(); err != nil {
		return Record{}, err
	}
	if _, err := r.chain.Register(ctx, sha, digest, meta); err != nil {
		return Record{}, err
	}
	return r.Lookup(ctx, sha)
}

// Enqueue queues the file at path for the next batch and returns its hash.
// Run (or Flush) anchors the batches. The queue lives in memory: only an
// anchored registration is acknowledged (see RegisterBatched).
func (r *Registry) Enqueue(ctx context.Context, path, meta string) ([32]byte, error) {
	if err := r.canSign(); err != nil {
		return [32]byte{}, err
	}
	sha, digest, err := r.prepare(ctx, path)
	if err != nil {
		return sha, err
	}
	return sha, r.EnqueueHashes(sha, digest, meta)
}

// EnqueueHashes queues an original already hashed and fingerprinted (its
// fingerprint stored under digest, or not needed) for the next batch. A
// hash queued twice is queued once.
func (r *Registry) EnqueueHashes(sha, digest [32]byte, meta string) error {
	r.batchMu.Lock()
	for _, it := range r.queue {
		if it.SHA256 == sha {
			r.batchMu.Unlock()
			return nil
		}
	}
	r.queue = append(r.queue, batchItem{SHA256: sha, Fingerprint: digest, Meta: meta, QueuedAt: time.Now().UTC()})
	r.batchMu.Unlock()
	select {
	case r.flushNow <- struct{}{}:
	default:
	}
	return nil
}

// queued returns a copy of the queue, oldest first.
func (r *Registry) queued() []batchItem {
	r.batchMu.Lock()
	defer r.batchMu.Unlock()
	return append([]batchItem(nil), r.queue...)
}

// dequeue removes anchored (or refused) items from the queue.
func (r *Registry) dequeue(done map[[32]byte]bool) {
	r.batchMu.Lock()
	defer r.batchMu.Unlock()
	kept := r.queue[:0]
	for _, it := range r.queue {
		if !done[it.SHA256] {
			kept = append(kept, it)
		}
	}
	r.queue = kept
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
		items := r.queued()
		wait := r.opts.BatchDelay
		if len(items) > 0 {
			age := time.Since(items[0].QueuedAt)
			if len(items) >= r.opts.BatchSize || age >= r.opts.BatchDelay {
				_, err := r.Flush(ctx)
				if ctx.Err() != nil {
					return nil
				}
				if err == nil {
					continue
				}
				// Flush told the batch's waiters; wait before the next one.
				r.log.Error("anchoring a batch failed", "err", err)
				wait = 5 * time.Second
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

// Anchored is a batch Flush anchored.
type Anchored struct {
	Root    [32]byte
	Count   int
	TxHash  string
	GasUsed uint64
}

// Flush anchors up to BatchSize queued registrations now, as one Merkle
// root (Count 0 when the queue was empty).
func (r *Registry) Flush(ctx context.Context) (Anchored, error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	var res Anchored
	if err := r.Sync(ctx); err != nil {
		return res, err
	}
	var items []batchItem
	done := map[[32]byte]bool{}
	for _, it := range r.queued() {
		if _, err := r.index.Original(ctx, it.SHA256); err == nil {
			// Registered meanwhile (singly, or by another registry).
			done[it.SHA256] = true
			r.notify(it.SHA256, batchResult{err: fmt.Errorf("%w: %x", ErrAlreadyRegistered, it.SHA256)})
			continue
		}
		items = append(items, it)
	}
	r.dequeue(done)
	if len(items) == 0 {
		return res, nil
	}
	// A registry that may not sign answers the queue now rather than hold
	// it for a lease that may not come back; its callers can retry.
	if err := r.canSign(); err != nil {
		for _, it := range items {
			done[it.SHA256] = true
			r.notify(it.SHA256, batchResult{err: err})
		}
		r.dequeue(done)
		return res, err
	}
	items = items[:min(len(items), r.opts.BatchSize)]
	tree, err := buildBatch(items)
	if err != nil {
		return res, err
	}
	root := tree.Root()
	res.Root, res.Count = root, len(items)
	bf := batchFile{Root: root, Created: time.Now().UTC(), Items: items}
	data, err := json.MarshalIndent(bf, "", " ")
	if err != nil {
		return res, err
	}
	// The leaves must be stored before the chain commits to their root.
	if err := r.files.WriteFile(ctx, batchName(root), data); err != nil {
		return res, fmt.Errorf("storing batch %x: %w", root, err)
	}
	// Whatever happens now, these items leave the queue and their waiters
	// get an answer: the record, or the error (to retry, or to look up:
	// a transaction whose receipt was lost may still have been mined).
	for _, it := range items {
		done[it.SHA256] = true
	}
	r.dequeue(done)
	rcpt, err := r.chain.AnchorBatch(ctx, root, uint32(len(items)), r.opts.BatchMeta)
	if err == nil {
		res.TxHash, res.GasUsed = rcpt.TxHash.Hex(), rcpt.GasUsed
		err = r.Sync(ctx)
	}
	for _, it := range items {
		if !r.waiting(it.SHA256) {
			continue
		}
		if err != nil {
			r.notify(it.SHA256, batchResult{err: fmt.Errorf("anchoring batch %x: %w", root, err)})
		} else {
			r.notify(it.SHA256, r.lookupResult(ctx, it.SHA256))
		}
	}
	if err != nil {
		return res, err
	}
	r.log.Info("batch anchored", "root", hexString(root), "count", len(items))
	return res, nil
}

func (r *Registry) lookupResult(ctx context.Context, sha [32]byte) batchResult {
	rec, err := r.Lookup(ctx, sha)
	return batchResult{rec, err}
}

func (r *Registry) waiting(sha [32]byte) bool {
	r.batchMu.Lock()
	defer r.batchMu.Unlock()
	return len(r.waiters[sha]) > 0
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
	bf, tree, err := r.loadBatch(ctx, o.BatchRoot)
	if err != nil {
		return nil, err
	}
	if o.LeafIndex < 0 || o.LeafIndex >= len(bf.Items) || bf.Items[o.LeafIndex].SHA256 != o.SHA256 ||
		bf.Items[o.LeafIndex].Fingerprint != o.Fingerprint {
		return nil, fmt.Errorf("%w: batch %x has no leaf %d for %x with this fingerprint: reindex", ErrCorrupt, o.BatchRoot, o.LeafIndex, o.SHA256)
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
	if err := r.canSign(); err != nil {
		return Record{}, err
	}
	if o.Batched() {
		bf, tree, err := r.loadBatch(ctx, o.BatchRoot)
		if err != nil {
			return Record{}, err
		}
		if o.LeafIndex < 0 || o.LeafIndex >= len(bf.Items) || bf.Items[o.LeafIndex].SHA256 != sha {
			return Record{}, fmt.Errorf("%w: batch %x has no leaf %d for %x: reindex", ErrCorrupt, o.BatchRoot, o.LeafIndex, sha)
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
