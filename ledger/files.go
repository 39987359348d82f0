package ledger

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/trueframe/trueframe/ledger/fingerprint"
	"github.com/trueframe/trueframe/ledger/merkle"
)

// The off-chain records live in files beside the index, because the index
// is only a cache and these cannot be recovered from the chain:
//
//	fingerprints/<digest>.tfp  full fingerprints, named by the digest on chain
//	batches/<root>.json        the leaves of each anchored batch, in order
//
// Each file is written to a temporary name, synced and renamed, so a crash
// leaves either the whole file or none. Files are checked against the chain
// when used: a fingerprint against its digest, a batch against its root.

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

func (r *Registry) fingerprintPath(digest [32]byte) string {
	return filepath.Join(r.dir, "fingerprints", hex.EncodeToString(digest[:])+".tfp")
}

// saveFingerprint stores fp under its digest and returns the digest.
func (r *Registry) saveFingerprint(fp *fingerprint.Fingerprint) ([32]byte, error) {
	digest, err := fp.Digest()
	if err != nil {
		return digest, err
	}
	path := r.fingerprintPath(digest)
	if _, err := os.Stat(path); err == nil {
		return digest, nil // content-addressed: already there
	}
	data, err := fp.Encode()
	if err != nil {
		return digest, err
	}
	return digest, writeFileAtomic(path, data)
}

// loadFingerprint reads the fingerprint committed to by digest, checking it.
func (r *Registry) loadFingerprint(digest [32]byte) (*fingerprint.Fingerprint, error) {
	data, err := os.ReadFile(r.fingerprintPath(digest))
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

func (r *Registry) batchPath(root [32]byte) string {
	return filepath.Join(r.dir, "batches", hex.EncodeToString(root[:])+".json")
}

func buildBatch(items []batchItem) (*merkle.Tree, error) {
	leaves := make([][32]byte, len(items))
	for i, it := range items {
		leaves[i] = it.leaf()
	}
	return merkle.Build(leaves)
}

// loadBatch reads a batch manifest and checks that its leaves hash to root.
func (r *Registry) loadBatch(root [32]byte) (*batchFile, *merkle.Tree, error) {
	data, err := os.ReadFile(r.batchPath(root))
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
