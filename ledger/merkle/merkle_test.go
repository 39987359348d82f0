package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

// leaves returns n leaf hashes of the strings "leaf 0", "leaf 1", ...
func leaves(n int) [][32]byte {
	ls := make([][32]byte, n)
	for i := range ls {
		ls[i] = LeafHash(fmt.Appendf(nil, "leaf %d", i))
	}
	return ls
}

func mustBuild(tb testing.TB, ls [][32]byte) *Tree {
	tb.Helper()
	t, err := Build(ls)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func hexOf(h [32]byte) string { return hex.EncodeToString(h[:]) }

// The golden roots were computed by an independent implementation (a dozen
// lines of Python with hashlib) of the rules in the package doc: leaf
// prefix 0x00, inner prefix 0x01 over the sorted pair, odd node promoted.
func TestGoldenRoots(t *testing.T) {
	cases := map[string]struct {
		n    int
		root string
	}{
		"one leaf is its own root": {1, "1bb97dcc21635d47e2663efdfd0a174686d98dd701352dd2cd06e8b43fd3d305"},
		"one pair":                 {2, "fc5f6b88ff8554f75bb2f9e6f39c31b1936d44b69276edf7b1205a955b9761e3"},
		"odd, last promoted":       {3, "669a566d198d677fbe2796ca94e99542b86ea49fd29418de3b1b0fc6ac046fe7"},
		"odd at two levels":        {5, "4570d2518bfe5f5931b22a11c87689645421337cfc33041aba2569e6e73aa0a3"},
		"seven":                    {7, "b20392c04969c5b1735cf0984948db7facf5b5ec9ace473c86ec8a573209b9d0"},
		"a batch of 1000":          {1000, "b473bdcfcfbdc3f26581f021e464afc74d54178ab322ca786c5eacb319a15bc3"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tr := mustBuild(t, leaves(c.n))
			if got := hexOf(tr.Root()); got != c.root {
				t.Errorf("root of %d leaves = %s, want %s", c.n, got, c.root)
			}
			if tr.Len() != c.n {
				t.Errorf("Len = %d, want %d", tr.Len(), c.n)
			}
		})
	}
}

func TestLeaf(t *testing.T) {
	file := sha256.Sum256([]byte("file"))
	fp := sha256.Sum256([]byte("fingerprint"))
	const want = "ef64be72f62a2fd136684df572248e384ee644a50e72ac88b2c1327eebd3fe2a"
	if got := hexOf(Leaf(file, fp)); got != want {
		t.Errorf("Leaf = %s, want %s", got, want)
	}
	if Leaf(file, fp) == Leaf(fp, file) {
		t.Error("Leaf is symmetric in its arguments; the order must matter")
	}
	// The leaf prefix separates a leaf from a plain hash of the same bytes.
	data := append(file[:], fp[:]...)
	if Leaf(file, fp) == sha256.Sum256(data) {
		t.Error("Leaf has no domain prefix")
	}
}

func TestNodeHash(t *testing.T) {
	a, b := LeafHash([]byte("a")), LeafHash([]byte("b"))
	if NodeHash(a, b) != NodeHash(b, a) {
		t.Error("NodeHash depends on the order of its children")
	}
	lo, hi := a, b
	if hexOf(a) > hexOf(b) {
		lo, hi = b, a
	}
	want := sha256.Sum256(append(append([]byte{0x01}, lo[:]...), hi[:]...))
	if NodeHash(a, b) != want {
		t.Error("NodeHash is not sha256(0x01 || min || max)")
	}
	// An inner node is never the leaf hash of its own preimage without prefix.
	if NodeHash(a, b) == LeafHash(append(lo[:], hi[:]...)) {
		t.Error("inner and leaf hashes share a domain")
	}
}

func TestProofsEveryIndex(t *testing.T) {
	for n := 1; n <= 33; n++ {
		tr := mustBuild(t, leaves(n))
		root := tr.Root()
		for i := range n {
			p, err := tr.Proof(i)
			if err != nil {
				t.Fatalf("n=%d: Proof(%d): %v", n, i, err)
			}
			if !Verify(root, tr.LeafAt(i), p) {
				t.Errorf("n=%d: proof of leaf %d does not verify", n, i)
			}
			// No proof is longer than the tree's height, ceil(log2 n).
			if h := height(n); len(p) > h {
				t.Errorf("n=%d: proof of %d has %d hashes, height is %d", n, i, len(p), h)
			}
			// The proof is for this leaf only: another leaf fails with it.
			if n > 1 && Verify(root, tr.LeafAt((i+1)%n), p) {
				t.Errorf("n=%d: proof of %d verifies leaf %d", n, i, (i+1)%n)
			}
		}
	}
}

func height(n int) int {
	h := 0
	for 1<<h < n {
		h++
	}
	return h
}

func TestTamperedProofFails(t *testing.T) {
	tr := mustBuild(t, leaves(13))
	root := tr.Root()
	leaf := tr.LeafAt(6)
	p, err := tr.Proof(6)
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(root, leaf, p) {
		t.Fatal("untampered proof fails")
	}
	flip := func(h [32]byte, byteIdx int) [32]byte { h[byteIdx] ^= 0x01; return h }

	cases := map[string]struct {
		root, leaf [32]byte
		proof      [][32]byte
	}{
		"flipped bit in a sibling":   {root, leaf, replaceAt(p, 1, flip(p[1], 31))},
		"flipped bit in the leaf":    {root, flip(leaf, 0), p},
		"flipped bit in the root":    {flip(root, 17), leaf, p},
		"sibling dropped":            {root, leaf, p[:len(p)-1]},
		"sibling added":              {root, leaf, append(append([][32]byte{}, p...), leaf)},
		"siblings swapped":           {root, leaf, replaceAt(replaceAt(p, 0, p[1]), 1, p[0])},
		"empty proof of inner leaf":  {root, leaf, nil},
		"raw data hash as the leaf":  {root, sha256.Sum256([]byte("leaf 6")), p},
		"inner node passed as leaf":  {root, NodeHash(leaf, p[0]), p},
		"proof of a different index": {root, leaf, mustProof(t, tr, 7)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if Verify(c.root, c.leaf, c.proof) {
				t.Error("tampered proof verifies")
			}
		})
	}
}

func replaceAt(p [][32]byte, i int, h [32]byte) [][32]byte {
	q := append([][32]byte{}, p...)
	q[i] = h
	return q
}

func mustProof(tb testing.TB, tr *Tree, i int) [][32]byte {
	tb.Helper()
	p, err := tr.Proof(i)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestOddNodePromotedNotDuplicated(t *testing.T) {
	ls := leaves(3)
	three := mustBuild(t, ls)
	four := mustBuild(t, append(ls, ls[2]))
	if three.Root() == four.Root() {
		t.Error("[a b c] and [a b c c] have the same root: the odd node was duplicated")
	}
	want := NodeHash(NodeHash(ls[0], ls[1]), ls[2])
	if three.Root() != want {
		t.Error("root of 3 leaves is not H(H(a,b), c)")
	}
	// The promoted leaf's proof has one hash: the pair beside it.
	if p := mustProof(t, three, 2); len(p) != 1 || p[0] != NodeHash(ls[0], ls[1]) {
		t.Errorf("proof of the promoted leaf = %d hashes, want [H(a,b)]", len(p))
	}
}

func TestErrors(t *testing.T) {
	if _, err := Build(nil); !errors.Is(err, ErrNoLeaves) {
		t.Errorf("Build(nil) error = %v, want ErrNoLeaves", err)
	}
	tr := mustBuild(t, leaves(4))
	for _, i := range []int{-1, 4, 100} {
		if _, err := tr.Proof(i); !errors.Is(err, ErrIndex) {
			t.Errorf("Proof(%d) error = %v, want ErrIndex", i, err)
		}
	}
}

func TestBuildCopiesLeaves(t *testing.T) {
	ls := leaves(4)
	tr := mustBuild(t, ls)
	root := tr.Root()
	ls[0] = LeafHash([]byte("changed"))
	if tr.Root() != root || tr.LeafAt(0) == ls[0] {
		t.Error("changing the caller's slice changed the tree")
	}
}

func FuzzProof(f *testing.F) {
	f.Add(uint16(1), uint16(0), []byte("x"), uint8(0))
	f.Add(uint16(33), uint16(32), []byte("seed"), uint8(200))
	f.Add(uint16(1000), uint16(511), []byte{}, uint8(7))
	f.Fuzz(func(t *testing.T, n, i uint16, salt []byte, flipAt uint8) {
		size := int(n)%2000 + 1
		idx := int(i) % size
		ls := make([][32]byte, size)
		for k := range ls {
			ls[k] = LeafHash(fmt.Appendf(append([]byte{}, salt...), "/%d", k))
		}
		tr := mustBuild(t, ls)
		p := mustProof(t, tr, idx)
		if !Verify(tr.Root(), ls[idx], p) {
			t.Fatalf("proof of %d in %d leaves fails", idx, size)
		}
		if len(p) == 0 {
			return
		}
		bad := append([][32]byte{}, p...)
		k := int(flipAt) % len(bad)
		bad[k][int(flipAt)%32] ^= 0x80
		if Verify(tr.Root(), ls[idx], bad) {
			t.Fatalf("proof with sibling %d flipped verifies", k)
		}
	})
}

func benchmarkBuild(b *testing.B, n int) {
	ls := leaves(n)
	iters := 0
	for b.Loop() {
		if _, err := Build(ls); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	b.ReportMetric(float64(n*iters)/b.Elapsed().Seconds(), "leaves/s")
}

func BenchmarkBuild1000(b *testing.B)   { benchmarkBuild(b, 1000) }
func BenchmarkBuild100000(b *testing.B) { benchmarkBuild(b, 100_000) }
