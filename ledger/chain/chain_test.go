package chain_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/trueframe/trueframe/internal/anviltest"
	"github.com/trueframe/trueframe/ledger/chain"
)

func hash(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// dial connects a Client to n with dev key i.
func dial(t testing.TB, n *anviltest.Node, i int, opts chain.Options) *chain.Client {
	t.Helper()
	if opts.ChainID == 0 {
		opts.ChainID = n.ChainID
	}
	c, err := chain.Dial(context.Background(), chain.Config{
		RPCURL:  n.URL,
		Key:     chain.KeyConfig{HexKey: common.Bytes2Hex(crypto.FromECDSA(n.Keys[i]))},
		Options: opts,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// deployed starts anvil, deploys a registry with key 0 and returns a client on it.
func deployed(t *testing.T) (*anviltest.Node, *chain.Client) {
	t.Helper()
	n := anviltest.Start(t, anviltest.Options{})
	c := dial(t, n, 0, chain.Options{})
	if _, _, err := c.Deploy(context.Background()); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return n, c
}

func rpcCall(t testing.TB, url string, result any, method string, args ...any) {
	t.Helper()
	rc, err := rpc.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rc.Call(result, method, args...); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

// waitPending waits until anvil's pool holds n pending transactions, for
// at most a minute.
func waitPending(t testing.TB, url string, n int) {
	t.Helper()
	if !waitPendingOrDone(t, url, n, nil) {
		t.Fatal("unreachable: no sender to wait for")
	}
}

func TestRegisterLookupAndRevoke(t *testing.T) {
	ctx := context.Background()
	_, c := deployed(t)
	sha, fp := hash("clip-1"), hash("fingerprint-1")

	r, err := c.Register(ctx, sha, fp, "ipfs://clip-1")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if r.BlockNumber == 0 || r.TxHash == (common.Hash{}) || r.GasUsed == 0 || r.BlockTime.IsZero() {
		t.Fatalf("incomplete receipt %+v", r)
	}
	o, err := c.Original(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	if o.Registrar != c.From() || o.FingerprintDigest != fp || o.BlockNumber != r.BlockNumber || !o.Time.Equal(r.BlockTime) || o.Revoked {
		t.Fatalf("original %+v does not match registration %+v", o, r)
	}

	if _, err := c.Register(ctx, sha, fp, "again"); !errors.Is(err, chain.ErrAlreadyRegistered) || !errors.Is(err, chain.ErrReverted) {
		t.Fatalf("duplicate register: got %v, want ErrAlreadyRegistered", err)
	}
	var re *chain.RevertError
	_, err = c.Register(ctx, sha, fp, "again")
	if !errors.As(err, &re) || re.Name != "AlreadyRegistered" || re.Args["sha256Hash"] != sha || re.TxHash != (common.Hash{}) {
		t.Fatalf("duplicate register: got %#v, want a RevertError naming the hash", err)
	}
	if want := fmt.Sprintf("register: registry reverted with AlreadyRegistered(sha256Hash=0x%x): original already registered", sha); err.Error() != want {
		t.Fatalf("error message %q, want %q", err, want)
	}
	if _, err := c.Register(ctx, hash("long"), fp, strings.Repeat("m", 257)); !errors.Is(err, chain.ErrMetaTooLong) {
		t.Fatalf("long meta: got %v, want ErrMetaTooLong", err)
	}
	if _, err := c.Original(ctx, hash("never")); !errors.Is(err, chain.ErrUnknownOriginal) {
		t.Fatalf("lookup of unknown: got %v, want ErrUnknownOriginal", err)
	}

	if _, err := c.Revoke(ctx, hash("never"), "no"); !errors.Is(err, chain.ErrUnknownOriginal) {
		t.Fatalf("revoke unknown: got %v, want ErrUnknownOriginal", err)
	}
	if _, err := c.Revoke(ctx, sha, "withdrawn by the archive"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if o, err := c.Original(ctx, sha); err != nil || !o.Revoked {
		t.Fatalf("after revoke: %+v, %v", o, err)
	}
	if rev, err := c.IsRevoked(ctx, sha); err != nil || !rev {
		t.Fatalf("IsRevoked = %v, %v", rev, err)
	}
	if _, err := c.Revoke(ctx, sha, "twice"); !errors.Is(err, chain.ErrAlreadyRevoked) {
		t.Fatalf("second revoke: got %v, want ErrAlreadyRevoked", err)
	}
}

func TestRegistrarsAndOwner(t *testing.T) {
	ctx := context.Background()
	n, owner := deployed(t)
	other := dial(t, n, 1, chain.Options{Contract: owner.Contract()})

	if _, err := other.Register(ctx, hash("x"), hash("fx"), ""); !errors.Is(err, chain.ErrNotRegistrar) {
		t.Fatalf("register by non-registrar: got %v, want ErrNotRegistrar", err)
	}
	if _, err := other.AddRegistrar(ctx, other.From()); !errors.Is(err, chain.ErrNotOwner) {
		t.Fatalf("addRegistrar by non-owner: got %v, want ErrNotOwner", err)
	}
	if _, err := owner.AddRegistrar(ctx, other.From()); err != nil {
		t.Fatal(err)
	}
	if ok, err := owner.IsRegistrar(ctx, other.From()); err != nil || !ok {
		t.Fatalf("IsRegistrar = %v, %v", ok, err)
	}
	if _, err := other.Register(ctx, hash("x"), hash("fx"), ""); err != nil {
		t.Fatalf("register by new registrar: %v", err)
	}
	if _, err := owner.Register(ctx, hash("y"), hash("fy"), ""); err != nil {
		t.Fatal(err)
	}
	// A registrar may revoke only what it registered; the owner anything.
	if _, err := other.Revoke(ctx, hash("y"), "not mine"); !errors.Is(err, chain.ErrNotAuthorized) {
		t.Fatalf("revoke of another's original: got %v, want ErrNotAuthorized", err)
	}
	if _, err := owner.RemoveRegistrar(ctx, other.From()); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Register(ctx, hash("z"), hash("fz"), ""); !errors.Is(err, chain.ErrNotRegistrar) {
		t.Fatalf("register after removal: got %v, want ErrNotRegistrar", err)
	}
	if _, err := other.Revoke(ctx, hash("x"), "removed registrar"); !errors.Is(err, chain.ErrNotAuthorized) {
		t.Fatalf("revoke by removed registrar: got %v, want ErrNotAuthorized", err)
	}
	if _, err := owner.Revoke(ctx, hash("x"), "owner"); err != nil {
		t.Fatalf("owner revoke: %v", err)
	}
}

// tree builds a sorted-pair, domain-separated sha256 Merkle tree the way
// ledger/merkle does (kept independent here so that the contract is checked
// against the specification, not against the other package's code) and
// returns the root and each leaf's proof.
func tree(leafData [][]byte) ([32]byte, [][][32]byte) {
	level := make([][32]byte, len(leafData))
	idx := make([]int, len(leafData))
	proofs := make([][][32]byte, len(leafData))
	for i, d := range leafData {
		level[i] = sha256.Sum256(append([]byte{0}, d...))
		idx[i] = i
	}
	for len(level) > 1 {
		var next [][32]byte
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i]) // odd node moves up unchanged
				continue
			}
			a, b := level[i], level[i+1]
			if string(b[:]) < string(a[:]) {
				a, b = b, a
			}
			next = append(next, sha256.Sum256(append(append([]byte{1}, a[:]...), b[:]...)))
		}
		for leaf, j := range idx {
			if sib := j ^ 1; sib < len(level) {
				proofs[leaf] = append(proofs[leaf], level[sib])
			}
			idx[leaf] = j / 2
		}
		level = next
	}
	return level[0], proofs
}

func TestAnchorBatchAndRevokeBatched(t *testing.T) {
	ctx := context.Background()
	_, c := deployed(t)
	var leaves [][]byte
	for i := range 5 {
		sha, fp := hash(fmt.Sprint("batched-", i)), hash(fmt.Sprint("fp-", i))
		leaves = append(leaves, append(sha[:], fp[:]...))
	}
	root, proofs := tree(leaves)

	if _, err := c.AnchorBatch(ctx, root, 0, ""); !errors.Is(err, chain.ErrEmptyBatch) {
		t.Fatalf("empty batch: got %v, want ErrEmptyBatch", err)
	}
	r, err := c.AnchorBatch(ctx, root, uint32(len(leaves)), "batch-1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Batch(ctx, root)
	if err != nil || b.Count != 5 || b.Registrar != c.From() || !b.Time.Equal(r.BlockTime) {
		t.Fatalf("batch %+v, %v", b, err)
	}
	if _, err := c.AnchorBatch(ctx, root, 5, ""); !errors.Is(err, chain.ErrBatchAlreadyAnchored) {
		t.Fatalf("re-anchor: got %v, want ErrBatchAlreadyAnchored", err)
	}
	if _, err := c.Batch(ctx, hash("no batch")); !errors.Is(err, chain.ErrUnknownBatch) {
		t.Fatalf("unknown batch: got %v", err)
	}
	for i, d := range leaves {
		ok, err := c.VerifyInclusion(ctx, root, sha256.Sum256(append([]byte{0}, d...)), proofs[i])
		if err != nil || !ok {
			t.Fatalf("leaf %d: VerifyInclusion = %v, %v", i, ok, err)
		}
	}
	if ok, _ := c.VerifyInclusion(ctx, root, sha256.Sum256(append([]byte{0}, leaves[1]...)), proofs[0]); ok {
		t.Fatal("a proof for another leaf verified")
	}

	if _, err := c.RevokeBatched(ctx, root, leaves[2], proofs[1], "bad proof"); !errors.Is(err, chain.ErrInvalidProof) {
		t.Fatalf("wrong proof: got %v, want ErrInvalidProof", err)
	}
	if _, err := c.RevokeBatched(ctx, root, leaves[2][:31], nil, ""); !errors.Is(err, chain.ErrInvalidLeaf) {
		t.Fatalf("short leaf: got %v, want ErrInvalidLeaf", err)
	}
	if _, err := c.RevokeBatched(ctx, root, leaves[2], proofs[2], "fake"); err != nil {
		t.Fatalf("revokeBatched: %v", err)
	}
	if rev, err := c.IsRevoked(ctx, [32]byte(leaves[2][:32])); err != nil || !rev {
		t.Fatalf("IsRevoked(batched) = %v, %v", rev, err)
	}
	if rev, _ := c.IsRevoked(ctx, [32]byte(leaves[3][:32])); rev {
		t.Fatal("a sibling was revoked too")
	}
	if _, err := c.RevokeBatched(ctx, root, leaves[2], proofs[2], "again"); !errors.Is(err, chain.ErrAlreadyRevoked) {
		t.Fatalf("second revokeBatched: got %v, want ErrAlreadyRevoked", err)
	}
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	_, c := deployed(t)
	sha, fp, root := hash("e1"), hash("fe1"), hash("root")
	r1, err := c.Register(ctx, sha, fp, "meta-1")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.AnchorBatch(ctx, root, 1000, "meta-2")
	if err != nil {
		t.Fatal(err)
	}
	r3, err := c.Revoke(ctx, sha, "reason-3")
	if err != nil {
		t.Fatal(err)
	}

	events, next, err := c.Events(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if next != r3.BlockNumber+1 {
		t.Fatalf("next = %d, want %d", next, r3.BlockNumber+1)
	}
	var kinds []chain.EventKind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	want := []chain.EventKind{chain.EventOwnershipTransferred, chain.EventRegistrarAdded, chain.EventRegistered, chain.EventBatchAnchored, chain.EventRevoked}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	reg, batch, rev := events[2], events[3], events[4]
	if reg.Hash != sha || reg.FingerprintDigest != fp || reg.Meta != "meta-1" || reg.Account != c.From() ||
		reg.TxHash != r1.TxHash || reg.BlockNumber != r1.BlockNumber || reg.BlockHash != r1.BlockHash || !reg.BlockTime.Equal(r1.BlockTime) {
		t.Fatalf("registered event %+v, receipt %+v", reg, r1)
	}
	if batch.Hash != root || batch.Count != 1000 || batch.Meta != "meta-2" || batch.TxHash != r2.TxHash {
		t.Fatalf("batch event %+v", batch)
	}
	if rev.Hash != sha || rev.Meta != "reason-3" || rev.BatchRoot != ([32]byte{}) || rev.Account != c.From() || rev.TxHash != r3.TxHash {
		t.Fatalf("revoked event %+v", rev)
	}

	// Resuming from next finds only what came after.
	r4, err := c.Register(ctx, hash("e2"), fp, "")
	if err != nil {
		t.Fatal(err)
	}
	more, next2, err := c.Events(ctx, next)
	if err != nil || len(more) != 1 || more[0].TxHash != r4.TxHash || next2 != r4.BlockNumber+1 {
		t.Fatalf("resumed events %+v next %d, %v", more, next2, err)
	}
}

func TestConcurrentRegistrations(t *testing.T) {
	ctx := context.Background()
	n, c := deployed(t)
	const workers = 20
	receipts := make([]chain.Receipt, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			receipts[i], errs[i] = c.Register(ctx, hash(fmt.Sprint("concurrent-", i)), hash("fp"), "")
		})
	}
	wg.Wait()
	ec, err := ethclient.Dial(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	nonces := map[uint64]bool{}
	for i := range workers {
		if errs[i] != nil {
			t.Fatalf("registration %d: %v", i, errs[i])
		}
		tx, _, err := ec.TransactionByHash(ctx, receipts[i].TxHash)
		if err != nil {
			t.Fatal(err)
		}
		if nonces[tx.Nonce()] {
			t.Fatalf("nonce %d used twice", tx.Nonce())
		}
		nonces[tx.Nonce()] = true
		if _, err := c.Original(ctx, hash(fmt.Sprint("concurrent-", i))); err != nil {
			t.Fatalf("registration %d not on chain: %v", i, err)
		}
	}
	// Deploy used nonce 0, so the registrations hold exactly 1..20.
	for nonce := uint64(1); nonce <= workers; nonce++ {
		if !nonces[nonce] {
			t.Fatalf("nonce %d unused: %v", nonce, nonces)
		}
	}
}

// TestStaleNonceResyncs has a second client (another process with the same
// key) move the account's nonce on; the first client's cached nonce is then
// too low, and it must resync instead of failing.
func TestStaleNonceResyncs(t *testing.T) {
	ctx := context.Background()
	n, a := deployed(t)
	b := dial(t, n, 0, chain.Options{Contract: a.Contract()})
	if _, err := a.Register(ctx, hash("a1"), hash("f"), ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := b.Register(ctx, hash(fmt.Sprint("b", i)), hash("f"), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Register(ctx, hash("a2"), hash("f"), ""); err != nil {
		t.Fatalf("register with a stale nonce: %v", err)
	}
	if _, err := a.Original(ctx, hash("a2")); err != nil {
		t.Fatal(err)
	}
}

// TestNodeRestart stops anvil (which saves its state), starts it again on
// the same state, and checks that the registry and its records survived and
// that a client on the restarted node carries on.
func TestNodeRestart(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "state.json")
	n := anviltest.Start(t, anviltest.Options{StateFile: state})
	c := dial(t, n, 0, chain.Options{})
	addr, _, err := c.Deploy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Register(ctx, hash("before"), hash("f"), "")
	if err != nil {
		t.Fatal(err)
	}
	n.Stop(t)

	n2 := anviltest.Start(t, anviltest.Options{StateFile: state})
	c2 := dial(t, n2, 0, chain.Options{Contract: addr})
	o, err := c2.Original(ctx, hash("before"))
	if err != nil || o.BlockNumber != r.BlockNumber {
		t.Fatalf("after restart: %+v, %v", o, err)
	}
	if _, err := c2.Register(ctx, hash("before"), hash("f"), ""); !errors.Is(err, chain.ErrAlreadyRegistered) {
		t.Fatalf("duplicate after restart: %v", err)
	}
	if _, err := c2.Register(ctx, hash("after"), hash("f"), ""); err != nil {
		t.Fatalf("register after restart: %v", err)
	}
}

// TestRevertOnChain mines two registrations of the same original in one
// block: both pass gas estimation, the second reverts on chain, and its
// receipt's failure must still decode to ErrAlreadyRegistered.
func TestRevertOnChain(t *testing.T) {
	ctx := context.Background()
	n, a := deployed(t)
	b := dial(t, n, 1, chain.Options{Contract: a.Contract()})
	if _, err := a.AddRegistrar(ctx, b.From()); err != nil {
		t.Fatal(err)
	}
	rpcCall(t, n.URL, nil, "evm_setAutomine", false)
	// Both transactions must pass gas estimation, which happens only when
	// the second estimate runs before the first transaction reaches the
	// pool. When it does not (the duplicate reverts at estimation instead,
	// which another test covers), the race is run again with a new hash.
	for attempt := 0; ; attempt++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		done := make(chan struct{}, 2)
		key := hash(fmt.Sprintf("race-%d", attempt))
		for i, c := range []*chain.Client{a, b} {
			wg.Go(func() {
				_, errs[i] = c.Register(ctx, key, hash("f"), "")
				done <- struct{}{}
			})
		}
		raced := waitPendingOrDone(t, n.URL, 2, done)
		rpcCall(t, n.URL, nil, "evm_mine")
		wg.Wait()
		if !raced {
			if attempt == 9 {
				t.Fatalf("in 10 attempts the duplicate never got past gas estimation: %v", errs)
			}
			continue
		}
		var ok, dup int
		for _, err := range errs {
			var re *chain.RevertError
			switch {
			case err == nil:
				ok++
			case errors.Is(err, chain.ErrAlreadyRegistered) && errors.As(err, &re) && re.TxHash != (common.Hash{}):
				dup++
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
		if ok != 1 || dup != 1 {
			t.Fatalf("%d succeeded and %d failed as duplicates, want 1 and 1 (%v)", ok, dup, errs)
		}
		return
	}
}

// waitPendingOrDone waits until anvil's pool holds n pending transactions
// (true) or a sender has returned (false), for at most a minute.
func waitPendingOrDone(t testing.TB, url string, n int, done <-chan struct{}) bool {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case <-done:
			return false
		default:
		}
		var st map[string]any
		rpcCall(t, url, &st, "txpool_status")
		if p, _ := st["pending"].(string); p == fmt.Sprintf("0x%x", n) {
			return true
		}
	}
	t.Fatalf("anvil's pool never held %d transactions", n)
	return false
}

// TestDroppedTransactionIsResent drops a sent transaction from anvil's pool
// (as a node restart without its pool would) and checks that Register still
// lands it.
func TestDroppedTransactionIsResent(t *testing.T) {
	ctx := context.Background()
	n, c := deployed(t)
	rpcCall(t, n.URL, nil, "evm_setAutomine", false)
	done := make(chan error, 1)
	go func() {
		_, err := c.Register(ctx, hash("dropped"), hash("f"), "")
		done <- err
	}()
	waitPending(t, n.URL, 1)
	rpcCall(t, n.URL, nil, "anvil_dropAllTransactions")
	rpcCall(t, n.URL, nil, "evm_setAutomine", true)
	// With automine back on, only the resent transaction can be mined.
	if err := <-done; err != nil {
		t.Fatalf("register: %v", err)
	}
	if _, err := c.Original(ctx, hash("dropped")); err != nil {
		t.Fatal(err)
	}
}

func TestConfirmations(t *testing.T) {
	ctx := context.Background()
	n, c0 := deployed(t)
	c := dial(t, n, 0, chain.Options{Contract: c0.Contract(), Confirmations: 3})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		rc, err := rpc.Dial(n.URL)
		if err != nil {
			return
		}
		defer rc.Close()
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				_ = rc.Call(nil, "evm_mine")
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	r, err := c.Register(ctx, hash("confirmed"), hash("f"), "")
	if err != nil {
		t.Fatal(err)
	}
	var head string
	rpcCall(t, n.URL, &head, "eth_blockNumber")
	h, _ := new(big.Int).SetString(strings.TrimPrefix(head, "0x"), 16)
	if h.Uint64() < r.BlockNumber+3 {
		t.Fatalf("acknowledged at head %d, block %d: fewer than 3 confirmations", h, r.BlockNumber)
	}
	// Events stop Confirmations blocks below the head.
	_, next, err := c.Events(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rpcCall(t, n.URL, &head, "eth_blockNumber")
	h, _ = new(big.Int).SetString(strings.TrimPrefix(head, "0x"), 16)
	if next > h.Uint64()-2 {
		t.Fatalf("events scanned up to %d at head %d: less than 3 blocks deep", next-1, h)
	}
}

func TestChainIDMismatch(t *testing.T) {
	n := anviltest.Start(t, anviltest.Options{ChainID: 4242})
	_, err := chain.Dial(context.Background(), chain.Config{
		RPCURL:  n.URL,
		Key:     chain.KeyConfig{HexKey: common.Bytes2Hex(crypto.FromECDSA(n.Keys[0]))},
		Options: chain.Options{ChainID: 1},
	})
	if !errors.Is(err, chain.ErrChainIDMismatch) {
		t.Fatalf("got %v, want ErrChainIDMismatch", err)
	}
	if _, err := chain.Dial(context.Background(), chain.Config{
		RPCURL:  n.URL,
		Key:     chain.KeyConfig{HexKey: common.Bytes2Hex(crypto.FromECDSA(n.Keys[0]))},
		Options: chain.Options{ChainID: 4242, Contract: common.HexToAddress("0x1234")},
	}); !errors.Is(err, chain.ErrNoContract) {
		t.Fatalf("contract without code: got %v, want ErrNoContract", err)
	}
}

func TestKeyConfig(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	want := crypto.PubkeyToAddress(key.PublicKey)
	ks := keystore.NewKeyStore(t.TempDir(), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.ImportECDSA(key, "secret")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg     chain.KeyConfig
		wantErr bool
	}{
		"keystore":       {cfg: chain.KeyConfig{KeystoreFile: acct.URL.Path, Password: "secret"}},
		"wrong password": {cfg: chain.KeyConfig{KeystoreFile: acct.URL.Path, Password: "nope"}, wantErr: true},
		"hex":            {cfg: chain.KeyConfig{HexKey: "0x" + common.Bytes2Hex(crypto.FromECDSA(key))}},
		"bad hex":        {cfg: chain.KeyConfig{HexKey: "0xzz"}, wantErr: true},
		"both":           {cfg: chain.KeyConfig{KeystoreFile: acct.URL.Path, HexKey: "00"}, wantErr: true},
		"none":           {wantErr: true},
	} {
		t.Run(name, func(t *testing.T) {
			k, err := tc.cfg.Load()
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil || crypto.PubkeyToAddress(k.PublicKey) != want {
				t.Fatalf("Load = %v, %v", k, err)
			}
		})
	}
	if _, err := (chain.KeyConfig{}).Load(); !errors.Is(err, chain.ErrNoKey) {
		t.Fatalf("empty config: %v, want ErrNoKey", err)
	}
}
