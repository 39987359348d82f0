package ledger

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/trueframe/trueframe/ledger/fingerprint"
	"github.com/trueframe/trueframe/ledger/merkle"
)

// Files holds a registry's off-chain records, which cannot be recovered
// from the chain and which the index is rebuilt from:
//
//	fingerprints/<digest>.tfp  full fingerprints, named by the digest on chain
//	batches/<root>.json        the leaves of each anchored batch, in order
//
// Names are slash-separated and content-addressed: what is written under a
// name never changes. Each record is written before the chain commits to
// it, and checked against the chain when read (a fingerprint against its
// digest, a batch against its root), so a Files need not be trusted, only
// kept.
//
// Registries on several nodes share one Files (a bucket of the service's
// blob store, say), so that every node can match a copy against originals
// another node registered: the index of each node learns of them from the
// chain, but the full fingerprint a perceptual match needs is only here.
// The default is DirFiles in the registry's directory. Implementations must
// be safe for concurrent use, by several processes too.
type Files interface {
	// ReadFile returns the record stored under name, or an error wrapping
	// fs.ErrNotExist when there is none (yet: another node may still be
	// writing it). Any other error is taken as the store failing.
	ReadFile(ctx context.Context, name string) ([]byte, error)
	// WriteFile stores data under name so that readers see all of it or
	// nothing, durably once it returns nil. When name exists already it may
	// return nil without writing: the contents are the same.
	WriteFile(ctx context.Context, name string, data []byte) error
}

// DirFiles is Files in a local directory (or one mounted on every node).
// Each file is written to a temporary name, synced and renamed, so a crash
// leaves either the whole file or none, and readers on other nodes never
// see half of one.
type DirFiles string

func (d DirFiles) path(name string) (string, error) {
	if !fs.ValidPath(name) || name == "." {
		return "", fmt.Errorf("ledger: invalid file name %q", name)
	}
	return filepath.Join(string(d), filepath.FromSlash(name)), nil
}

// ReadFile reads the file name under the directory.
func (d DirFiles) ReadFile(_ context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// WriteFile writes the file name under the directory, unless it exists.
func (d DirFiles) WriteFile(_ context.Context, name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil // content-addressed: already there
	}
	return writeFileAtomic(p, data)
}

// ErrCorrupt is returned for an off-chain file that does not match what the
// chain commits to.
var ErrCorrupt = errors.New("ledger: off-chain record does not match the chain")

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func fingerprintName(digest [32]byte) string {
	return "fingerprints/" + hex.EncodeToString(digest[:]) + ".tfp"
}

// saveFingerprint stores fp under its digest and returns the digest.
func (r *Registry) saveFingerprint(ctx context.Context, fp *fingerprint.Fingerprint) ([32]byte, error) {
	digest, err := fp.Digest()
	if err != nil {
		return digest, err
	}
	data, err := fp.Encode()
	if err != nil {
		return digest, err
	}
	if err := r.files.WriteFile(ctx, fingerprintName(digest), data); err != nil {
		return digest, fmt.Errorf("storing fingerprint %x: %w", digest, err)
	}
	return digest, nil
}

// loadFingerprint reads the fingerprint committed to by digest, checking it.
func (r *Registry) loadFingerprint(ctx context.Context, digest [32]byte) (*fingerprint.Fingerprint, error) {
	data, err := r.files.ReadFile(ctx, fingerprintName(digest))
	if err != nil {
		return nil, err
	}
	fp, err := fingerprint.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: fingerprint %x: %v", ErrCorrupt, digest, err)
	}
	if got, err := fp.Digest(); err != nil || got != digest {
		return nil, fmt.Errorf("%w: fingerprint file %x has digest %x", ErrCorrupt, digest, got)
	}
	return fp, nil
}

// batchItem is one original of a batch, in leaf order.
type batchItem struct {
	SHA256      hexHash   `json:"sha256"`
	Fingerprint hexHash   `json:"fingerprint_digest"`
	Meta        string    `json:"meta,omitempty"`
	QueuedAt    time.Time `json:"queued_at"`
}

func (it batchItem) leaf() [32]byte { return merkle.Leaf(it.SHA256, it.Fingerprint) }

// leafData is the preimage of the leaf, as the contract's revokeBatched wants it.
func (it batchItem) leafData() []byte {
	return append(append([]byte{}, it.SHA256[:]...), it.Fingerprint[:]...)
}

// batchFile is the manifest of one batch.
type batchFile struct {
	Root    hexHash     `json:"root"`
	Created time.Time   `json:"created"`
	Items   []batchItem `json:"items"`
}

func batchName(root [32]byte) string {
	return "batches/" + hex.EncodeToString(root[:]) + ".json"
}

func buildBatch(items []batchItem) (*merkle.Tree, error) {
	leaves := make([][32]byte, len(items))
	for i, it := range items {
		leaves[i] = it.leaf()
	}
	return merkle.Build(leaves)
}

// loadBatch reads a batch manifest and checks that its leaves hash to root.
func (r *Registry) loadBatch(ctx context.Context, root [32]byte) (*batchFile, *merkle.Tree, error) {
	data, err := r.files.ReadFile(ctx, batchName(root))
	if err != nil {
		return nil, nil, err
	}
	var bf batchFile
	if err := json.Unmarshal(data, &bf); err != nil {
		return nil, nil, fmt.Errorf("%w: batch %x: %v", ErrCorrupt, root, err)
	}
	tree, err := buildBatch(bf.Items)
	if err != nil || tree.Root() != root || bf.Root != root {
		return nil, nil, fmt.Errorf("%w: batch file %x does not hash to its root", ErrCorrupt, root)
	}
	return &bf, tree, nil
}

// hexHash is a 32-byte hash written as 64 hex digits in JSON.
type hexHash [32]byte

func (h hexHash) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h[:])), nil }

func (h *hexHash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	*h = v
	return err
}

// ParseHash parses 64 hex digits (with or without 0x) into a hash.
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("%w: want 64 hex digits", ErrBadHash)
	}
	copy(h[:], b)
	return h, nil
}

// ErrBadHash is returned for a malformed hash.
var ErrBadHash = errors.New("malformed hash")
