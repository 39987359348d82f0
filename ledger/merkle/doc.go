// Package merkle builds the binary SHA-256 Merkle trees that anchor a batch
// of registrations under one on-chain root, and checks inclusion proofs
// against such a root.
//
// # Hashing
//
// Every hash is SHA-256. Leaves and inner nodes are hashed with different
// one-byte prefixes, so that no inner node can be passed off as a leaf or
// the other way round (a second-preimage attack on the tree):
//
//	leaf  = sha256(0x00 || data)
//	inner = sha256(0x01 || min(a, b) || max(a, b))
//
// min and max compare the 32-byte child hashes as big-endian numbers
// (bytes.Compare). Because the two children are sorted before hashing, a
// proof needs no left/right flags: it is just the list of sibling hashes
// from the leaf up to the root, and a verifier (in Go or in a contract,
// with the sha256 precompile and abi.encodePacked(bytes1(0x01), lo, hi))
// folds them in order. The price is that a proof shows that a leaf is in
// the tree, not at which index.
//
// For a batched registration the leaf data is the 64 bytes
// sha256(file) || fingerprintDigest; see Leaf.
//
// # Odd levels
//
// When a level has an odd number of nodes, its last node is promoted to the
// next level unchanged; it is not paired with a copy of itself. Duplicating
// it (as Bitcoin does) would give the lists [a, b, c] and [a, b, c, c] the
// same root. Promotion means a leaf's proof can be shorter than the tree's
// height: a level where its ancestor had no sibling adds nothing. A tree of
// one leaf has that leaf's hash as its root and empty proofs.
package merkle
