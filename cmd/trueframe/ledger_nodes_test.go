package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"

	"github.com/trueframe/trueframe/internal/anviltest"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/ledger"
)

// TestLedgerNodesAgreeOnContract starts two nodes of a cluster at once on
// an external chain without --ledger-contract: one deploys the registry,
// both use it. A third node given the first one's key is refused, and a
// worker node without a key reads the same contract.
func TestLedgerNodesAgreeOnContract(t *testing.T) {
	t.Setenv("TRUEFRAME_LEDGER_KEY", "")
	n := anviltest.Start(t, anviltest.Options{})
	shared := &testutil.Leases{}
	files := ledger.DirFiles(t.TempDir())
	keys := t.TempDir()
	password := filepath.Join(keys, "password")
	if err := os.WriteFile(password, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ks := keystore.NewKeyStore(keys, keystore.LightScryptN, keystore.LightScryptP)
	keystoreFile := map[int]string{}
	for _, i := range []int{1, 2} {
		acct, err := ks.ImportECDSA(n.Keys[i], "pw")
		if err != nil {
			t.Fatal(err)
		}
		keystoreFile[i] = acct.URL.Path
	}
	node := func(name string, key int) *ledgerFlags {
		lf := &ledgerFlags{data: t.TempDir(), rpcURL: n.URL, chainID: n.ChainID,
			cluster: &ledgerCluster{Node: name, Files: files, Signers: shared, Contracts: shared}}
		if key > 0 {
			lf.keystore, lf.passwordFile = keystoreFile[key], password
		} else {
			lf.cluster.ReadOnly = true
		}
		return lf
	}
	open := func(lf *ledgerFlags) (*openedLedger, error) {
		l, err := lf.open(t.Context(), ledger.InProcess{}, slog.New(slog.DiscardHandler), ledger.Options{})
		if err == nil {
			t.Cleanup(l.Close)
		}
		return l, err
	}

	nodes := []*ledgerFlags{node("a", 1), node("b", 2)}
	opened := make([]*openedLedger, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, lf := range nodes {
		wg.Go(func() { opened[i], errs[i] = open(lf) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %s: %v", nodes[i].cluster.Node, err)
		}
	}
	contract := opened[0].Chain().Contract()
	if got := opened[1].Chain().Contract(); got != contract || shared.Deploys != 1 {
		t.Fatalf("contracts %s and %s, %d deployed; want one", contract, got, shared.Deploys)
	}

	_, err := open(node("c", 1))
	var inUse *ledger.SignerInUseError
	if !errors.As(err, &inUse) || inUse.Node != "a" {
		t.Errorf("a third node with a's key: err = %v, want a SignerInUseError naming a", err)
	}

	w, err := open(node("w", 0))
	if err != nil {
		t.Fatalf("worker node: %v", err)
	}
	if got := w.Chain().Contract(); got != contract {
		t.Errorf("worker node reads %s, want %s", got, contract)
	}
	if _, err := w.Register(t.Context(), "unused.mp4", ""); !errors.Is(err, ledger.ErrReadOnly) {
		t.Errorf("register on the worker node: err = %v, want ErrReadOnly", err)
	}

	embedded := node("e", 1)
	embedded.rpcURL = ""
	var usage usageError
	if _, err := open(embedded); !errors.As(err, &usage) {
		t.Errorf("a cluster node on the embedded chain: err = %v, want a usage error", err)
	}
}
