package merkle

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Domain-separation prefixes of the two kinds of hashed nodes.
const (
	leafPrefix  = 0x00
	innerPrefix = 0x01
)

// ErrNoLeaves is returned by Build for an empty list: a batch anchors at
// least one registration, and an empty tree has no meaningful root.
var ErrNoLeaves = errors.New("merkle: no leaves")

// ErrIndex is returned by Tree.Proof for an index outside the tree.
var ErrIndex = errors.New("merkle: leaf index out of range")

// LeafHash returns the leaf hash of data: sha256(0x00 || data).
func LeafHash(data []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{leafPrefix})
	h.Write(data)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Leaf returns the leaf hash of one batched registration: LeafHash of the
// 64 bytes fileSHA256 || fingerprintDigest.
func Leaf(fileSHA256, fingerprintDigest [32]byte) [32]byte {
	var data [64]byte
	copy(data[:32], fileSHA256[:])
	copy(data[32:], fingerprintDigest[:])
	return LeafHash(data[:])
}

// NodeHash returns the hash of an inner node with children a and b, in
// either order: sha256(0x01 || min(a, b) || max(a, b)).
func NodeHash(a, b [32]byte) [32]byte {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	var buf [65]byte
	buf[0] = innerPrefix
	copy(buf[1:33], a[:])
	copy(buf[33:], b[:])
	return sha256.Sum256(buf[:])
}

// Tree is a Merkle tree over a list of leaf hashes. It is immutable after
// Build, so all its methods are safe for concurrent use.
type Tree struct {
	// levels[0] holds the leaf hashes, levels[len-1] the root alone.
	levels [][][32]byte
}

// Build returns the tree over leaves, which are leaf hashes (from LeafHash
// or Leaf), in the order given. The slice is copied. It returns ErrNoLeaves
// for an empty list.
func Build(leaves [][32]byte) (*Tree, error) {
	if len(leaves) == 0 {
		return nil, ErrNoLeaves
	}
	level := make([][32]byte, len(leaves))
	copy(level, leaves)
	t := &Tree{levels: [][][32]byte{level}}
	for len(level) > 1 {
		next := make([][32]byte, (len(level)+1)/2)
		for i := 0; i+1 < len(level); i += 2 {
			next[i/2] = NodeHash(level[i], level[i+1])
		}
		if len(level)%2 == 1 {
			next[len(next)-1] = level[len(level)-1] // promoted, see the package doc
		}
		t.levels = append(t.levels, next)
		level = next
	}
	return t, nil
}

// Len returns the number of leaves.
func (t *Tree) Len() int { return len(t.levels[0]) }

// Root returns the root hash.
func (t *Tree) Root() [32]byte { return t.levels[len(t.levels)-1][0] }

// LeafAt returns the leaf hash at index i, which must be in [0, Len()).
func (t *Tree) LeafAt(i int) [32]byte { return t.levels[0][i] }

// Proof returns the inclusion proof of leaf i: the sibling hashes from the
// leaf level up, skipping levels where the leaf's ancestor was promoted
// without a sibling. It returns ErrIndex for i outside [0, Len()).
func (t *Tree) Proof(i int) ([][32]byte, error) {
	if i < 0 || i >= t.Len() {
		return nil, fmt.Errorf("%w: %d of %d", ErrIndex, i, t.Len())
	}
	var proof [][32]byte
	for _, level := range t.levels[:len(t.levels)-1] {
		if sib := i ^ 1; sib < len(level) {
			proof = append(proof, level[sib])
		}
		i /= 2
	}
	return proof, nil
}

// Verify reports whether proof shows that leaf (a leaf hash) is in the tree
// with the given root.
func Verify(root, leaf [32]byte, proof [][32]byte) bool {
	h := leaf
	for _, sib := range proof {
		h = NodeHash(h, sib)
	}
	return h == root
}
