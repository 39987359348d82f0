// Package ledger registers verified original footage on an
// Ethereum-compatible chain and verifies any file against it.
//
// The chain (ledger/chain, on the embedded ledger/devchain node or any
// JSON-RPC node) holds what must be trusted: each original's SHA-256 and
// the digest of its perceptual fingerprint, or the Merkle root of a batch
// of them, with the registrar and the time. The full fingerprints and the
// batch leaves are off-chain files named by what the chain commits to, so
// they can be checked (Files: a directory, or a blob store every node of a
// service reads); the SQLite index (ledger/index) is a cache of the
// chain's events that Reindex rebuilds.
//
// Several registries may share one contract, one per node of a service,
// each signing with a key of its own (SignerLease keeps two live nodes off
// one key) and reading the same Files: each syncs its index from the chain
// before every read, so a registration on one node is matched on the
// others as soon as it is acknowledged.
//
// Verify answers registered (the exact file), matches_original (the same
// footage re-encoded, resized or trimmed), altered_original (footage of a
// registered original with some seconds or a region changed), revoked, or
// unknown, with the chain facts behind the answer.
package ledger

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/fingerprint"
	"github.com/trueframe/trueframe/ledger/index"
)

// Fingerprinter computes the perceptual fingerprint of a video file, as
// registered. The service runs it in a worker process (decoding untrusted
// video can crash OpenCV); InProcess runs it here.
type Fingerprinter interface {
	Fingerprint(ctx context.Context, path string) (*fingerprint.Fingerprint, error)
}

// CheckFingerprinter is a Fingerprinter that also fingerprints files to
// check against the registered originals as Verify wants them: the latest
// version with faces at fingerprint.CheckRateFactor times the rate, a
// thumbnail with every face, and, when geometry is not the identity, laid
// out like the original (fingerprint.Options.Geometry). Verify falls back on
// Fingerprint when the Fingerprinter lacks it.
type CheckFingerprinter interface {
	Fingerprinter
	FingerprintToCheck(ctx context.Context, path string, geometry fingerprint.Geometry) (*fingerprint.Fingerprint, error)
}

// InProcess fingerprints in the calling process with Options: version 3
// (or Options.Version) when Options.Faces holds the face models, version 1
// without them.
type InProcess struct{ Options *fingerprint.Options }

// Fingerprint computes the fingerprint of the video at path.
func (p InProcess) Fingerprint(ctx context.Context, path string) (*fingerprint.Fingerprint, error) {
	return fingerprint.Compute(ctx, path, p.Options)
}

// FingerprintToCheck computes the fingerprint of a file to verify.
func (p InProcess) FingerprintToCheck(ctx context.Context, path string, geometry fingerprint.Geometry) (*fingerprint.Fingerprint, error) {
	return fingerprint.Compute(ctx, path, CheckOptions(p.Options, geometry))
}

// CheckOptions returns the options that fingerprint a file to check from
// those that fingerprint a registration: CheckRateFactor times the rate,
// laid out per geometry.
func CheckOptions(o *fingerprint.Options, geometry fingerprint.Geometry) *fingerprint.Options {
	var c fingerprint.Options
	if o != nil {
		c = *o
	}
	if c.SampleRate == 0 {
		c.SampleRate = fingerprint.DefaultSampleRate
	}
	c.SampleRate *= fingerprint.CheckRateFactor
	c.Geometry = geometry
	return &c
}

// Options configure a Registry. Zero fields take the documented defaults.
type Options struct {
	Fingerprinter Fingerprinter // default InProcess{}
	// BatchSize anchors the queue as soon as it holds this many
	// registrations (default 1000); BatchDelay anchors whatever is queued
	// once the oldest has waited this long (default 10 s).
	BatchSize  int
	BatchDelay time.Duration
	BatchMeta  string // meta of anchored batches (default "trueframe-batch/v1")
	Log        *slog.Logger

	// Files holds the full fingerprints and batch manifests. nil: DirFiles
	// in the registry's directory. Registries on several nodes share one,
	// so that each can match copies of originals the others registered.
	Files Files
	// Signers, when set, makes this registry the only live node signing
	// with its account: Open claims the account for Node and fails with a
	// *SignerInUseError while another node holds it; a goroutine renews
	// the lease every LeaseTTL/3 (default DefaultLeaseTTL) and Close
	// releases it. A registry whose lease has lapsed refuses to send
	// (ErrLeaseLapsed) until a renewal succeeds. nil: no check, for a
	// registry that is alone with its key (the embedded chain, the CLI).
	Signers  SignerLease
	Node     string // this node's name in Signers, unique among live nodes
	LeaseTTL time.Duration
	// ReadOnly opens a registry that only verifies and looks up: it claims
	// no signer and refuses every write with ErrReadOnly (worker nodes).
	ReadOnly bool
}

// Registry is the provenance service over one contract. It is safe for
// concurrent use.
type Registry struct {
	chain *chain.Client
	index *index.Index
	dir   string
	fp    Fingerprinter
	files Files
	opts  Options
	log   *slog.Logger
	now   func() time.Time // the clock of missing-file retries; tests move it

	syncMu   sync.Mutex // one index sync at a time
	syncedAt time.Time  // start of the last sync that succeeded; guarded by syncMu

	// The signer lease, when Options.Signers is set.
	leaseMu    sync.Mutex
	leaseUntil time.Time // may sign until then
	leaseErr   error     // of the last claim
	leaseStop  chan struct{}
	leaseDone  chan struct{}
	closeOnce  sync.Once

	// The batch queue is in memory: a batched registration is acknowledged
	// only once its batch is anchored, so a crash loses nothing that was
	// acknowledged (the callers that waited get an error and can retry).
	batchMu  sync.Mutex
	queue    []batchItem
	waiters  map[[32]byte][]chan batchResult
	flushNow chan struct{}
	flushMu  sync.Mutex // one Flush at a time
}

// Open opens the registry's state in dir (created if needed: the index,
// and the off-chain files unless Options.Files keeps them elsewhere) over
// a chain client, claims the signer when Options.Signers is set, and
// brings the index up to date with the chain. Callers must call Close.
func Open(ctx context.Context, c *chain.Client, dir string, opts Options) (_ *Registry, err error) {
	if opts.Fingerprinter == nil {
		opts.Fingerprinter = InProcess{}
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = 10 * time.Second
	}
	if opts.BatchMeta == "" {
		opts.BatchMeta = "trueframe-batch/v1"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Files == nil {
		opts.Files = DirFiles(dir)
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.ReadOnly {
		opts.Signers = nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	r := &Registry{chain: c, dir: dir, fp: opts.Fingerprinter, files: opts.Files, opts: opts, log: opts.Log, now: time.Now,
		waiters: map[[32]byte][]chan batchResult{}, flushNow: make(chan struct{}, 1)}
	// The lease first: a node refused its signer must fail before it
	// touches anything.
	if opts.Signers != nil {
		if err := r.claimSigner(ctx); err != nil {
			return nil, err
		}
		r.leaseStop, r.leaseDone = make(chan struct{}), make(chan struct{})
		go r.keepLease(r.leaseStop)
		defer func() {
			if err != nil {
				err = errors.Join(err, r.releaseSigner())
			}
		}()
	}
	if r.index, err = index.Open(ctx, filepath.Join(dir, "index.db")); err != nil {
		return nil, err
	}
	if err := r.Sync(ctx); err != nil {
		r.index.Close()
		return nil, err
	}
	return r, nil
}

// Close releases the signer lease and closes the index. Run's batcher
// must have stopped. Closing twice is harmless.
func (r *Registry) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if r.opts.Signers != nil {
			err = r.releaseSigner()
		}
		err = errors.Join(err, r.index.Close())
	})
	return err
}

// Chain returns the chain client.
func (r *Registry) Chain() *chain.Client { return r.chain }

// Sentinel errors of the registry.
var (
	// ErrAlreadyRegistered: the file is registered already (singly or in a batch).
	ErrAlreadyRegistered = chain.ErrAlreadyRegistered
	// ErrNotRegistered: no original with this hash.
	ErrNotRegistered = errors.New("ledger: no original with this hash")
	// ErrAlreadyRevoked: the original was revoked already.
	ErrAlreadyRevoked = chain.ErrAlreadyRevoked
)

// Record is an original as the registry reports it: the chain facts, and
// for batched originals the inclusion proof.
type Record struct {
	SHA256            string    `json:"sha256"`
	FingerprintDigest string    `json:"fingerprint_digest"`
	Meta              string    `json:"meta,omitempty"`
	ChainID           uint64    `json:"chain_id"`
	Contract          string    `json:"contract"`
	Registrar         string    `json:"registrar"`
	TxHash            string    `json:"tx_hash"`
	Block             uint64    `json:"block"`
	Time              time.Time `json:"time"`
	Batch             *Proof    `json:"batch,omitempty"`
	Revoked           bool      `json:"revoked"`
	RevokeReason      string    `json:"revoke_reason,omitempty"`
	RevokeTx          string    `json:"revoke_tx,omitempty"`
}

// Proof is the Merkle inclusion proof of a batched original.
type Proof struct {
	Root      string   `json:"root"`
	LeafIndex int      `json:"leaf_index"`
	Leaf      string   `json:"leaf"`
	Siblings  []string `json:"proof"`
	Count     int      `json:"count"`
	// Verified: the proof leads from the leaf to the root and the root is
	// anchored on chain (checked by this program and by the contract).
	Verified bool `json:"verified"`
}

func (r *Registry) record(o index.Original) Record {
	rec := Record{SHA256: hexString(o.SHA256), FingerprintDigest: hexString(o.Fingerprint), Meta: o.Meta,
		ChainID: r.chain.ChainID(), Contract: r.chain.Contract().Hex(), Registrar: o.Registrar, TxHash: o.TxHash,
		Block: o.Block, Time: o.Time, Revoked: o.Revoked, RevokeReason: o.Revoke.Reason, RevokeTx: o.Revoke.TxHash}
	return rec
}

// Lookup returns the record of an original by its file hash, with its
// inclusion proof checked when it is batched.
func (r *Registry) Lookup(ctx context.Context, sha [32]byte) (Record, error) {
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
	rec := r.record(o)
	if o.Batched() {
		p, err := r.proof(ctx, o)
		if err != nil {
			return Record{}, err
		}
		rec.Batch = p
	}
	return rec, nil
}

// HashFile returns the SHA-256 and size of a file.
func HashFile(ctx context.Context, path string) ([32]byte, int64, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return sum, 0, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func hexString(h [32]byte) string { return fmt.Sprintf("%x", h[:]) }

// Status is the state of the registry.
type Status struct {
	ChainID    uint64 `json:"chain_id"`
	Contract   string `json:"contract"`
	Account    string `json:"account"`
	Registrar  bool   `json:"registrar"`  // the account may register
	Block      uint64 `json:"block"`      // the chain's head
	IndexedTo  uint64 `json:"indexed_to"` // the last block the index has seen
	Originals  int    `json:"originals"`
	Revoked    int    `json:"revoked"`
	Batches    int    `json:"batches"`
	Queued     int    `json:"queued"` // waiting for the next batch
	DataDir    string `json:"data_dir"`
	IndexError string `json:"index_error,omitempty"`
	// MissingFiles counts the off-chain files (fingerprints, batch leaves)
	// the chain names and this registry has not read yet: originals it
	// finds by exact hash only, or not at all. Sync reads them again.
	MissingFiles int `json:"missing_files,omitempty"`
}

// Status reports the chain, the account and the counts.
func (r *Registry) Status(ctx context.Context) (Status, error) {
	s := Status{ChainID: r.chain.ChainID(), Contract: r.chain.Contract().Hex(), Account: r.chain.From().Hex(), DataDir: r.dir}
	var err error
	if s.Registrar, err = r.chain.IsRegistrar(ctx, r.chain.From()); err != nil {
		return s, err
	}
	if s.Block, err = r.chain.BlockNumber(ctx); err != nil {
		return s, err
	}
	if err := r.Sync(ctx); err != nil {
		s.IndexError = err.Error()
	}
	next, err := r.index.Synced(ctx)
	if err != nil {
		return s, err
	}
	if next > 0 {
		s.IndexedTo = next - 1
	}
	if s.Originals, s.Revoked, s.Batches, err = r.index.Counts(ctx); err != nil {
		return s, err
	}
	if s.MissingFiles, err = r.index.CountMissing(ctx); err != nil {
		return s, err
	}
	s.Queued = len(r.queued())
	return s, nil
}
