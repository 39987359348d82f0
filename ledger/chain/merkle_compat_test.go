package chain_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trueframe/trueframe/ledger/merkle"
)

// TestContractAgreesWithLedgerMerkle anchors a tree built by ledger/merkle
// and checks that the contract accepts every one of its proofs, and revokes
// a batched original with one: the contract and the off-chain verifier must
// hash identically, or batched originals could never be revoked on chain.
func TestContractAgreesWithLedgerMerkle(t *testing.T) {
	ctx := context.Background()
	_, c := deployed(t)
	for _, n := range []int{1, 2, 7, 16} {
		var leaves [][32]byte
		var data [][]byte
		for i := range n {
			sha, fp := hash(fmt.Sprint("m", n, "-", i)), hash(fmt.Sprint("fp", i))
			leaves = append(leaves, merkle.Leaf(sha, fp))
			data = append(data, append(sha[:], fp[:]...))
		}
		tr, err := merkle.Build(leaves)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AnchorBatch(ctx, tr.Root(), uint32(n), ""); err != nil {
			t.Fatalf("n=%d: anchor: %v", n, err)
		}
		for i := range n {
			proof, err := tr.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := c.VerifyInclusion(ctx, tr.Root(), tr.LeafAt(i), proof)
			if err != nil || !ok {
				t.Fatalf("n=%d leaf %d: contract rejects ledger/merkle's proof (%v)", n, i, err)
			}
		}
		last := n - 1
		proof, _ := tr.Proof(last)
		if _, err := c.RevokeBatched(ctx, tr.Root(), data[last], proof, "compat"); err != nil {
			t.Fatalf("n=%d: revokeBatched with ledger/merkle's proof: %v", n, err)
		}
	}
}
