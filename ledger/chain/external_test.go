package chain_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/trueframe/trueframe/internal/anviltest"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/ledger/chain"
)

// external is a node's view of n signing with dev key i (none for -1).
func external(n *anviltest.Node, i int, dir string) chain.External {
	e := chain.External{Config: chain.Config{RPCURL: n.URL, Options: chain.Options{ChainID: n.ChainID}}, Dir: dir}
	if i >= 0 {
		e.Key.HexKey = common.Bytes2Hex(crypto.FromECDSA(n.Keys[i]))
	}
	return e
}

func dialExternal(t *testing.T, e chain.External) (*chain.Client, error) {
	t.Helper()
	c, err := chain.DialExternal(t.Context(), e)
	if err == nil {
		t.Cleanup(c.Close)
	}
	return c, err
}

// A node alone deploys a registry the first time and remembers it in its
// directory; later starts use it, and an explicit address wins.
func TestDialExternalRemembers(t *testing.T) {
	n := anviltest.Start(t, anviltest.Options{})
	dir := filepath.Join(t.TempDir(), "ledger") // made when first needed
	var deployed []common.Address
	e := external(n, 0, dir)
	e.Deployed = func(a common.Address) { deployed = append(deployed, a) }

	first, err := dialExternal(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(deployed) != 1 || first.Contract() != deployed[0] {
		t.Fatalf("deployed %v, client on %s", deployed, first.Contract())
	}
	b, err := os.ReadFile(filepath.Join(dir, "external-31337.json"))
	if err != nil || !strings.Contains(string(b), first.Contract().Hex()) {
		t.Fatalf("remembered %q (%v), want %s", b, err, first.Contract().Hex())
	}
	again, err := dialExternal(t, e)
	if err != nil || again.Contract() != first.Contract() || len(deployed) != 1 {
		t.Fatalf("second start: %v on %s, %d deployed; want %s, one", err, again.Contract(), len(deployed), first.Contract())
	}

	// A read-only node without a key reads the remembered contract, and
	// never deploys where nothing is remembered.
	reader := external(n, -1, dir)
	reader.ReadOnly = true
	c, err := dialExternal(t, reader)
	if err != nil || c.Contract() != first.Contract() {
		t.Fatalf("read-only node: %v on %v", err, c)
	}
	if ok, err := c.IsRegistrar(t.Context(), c.From()); err != nil || ok {
		t.Errorf("the read-only node's throwaway account is a registrar: %v, %v", ok, err)
	}
	reader.Dir = t.TempDir()
	if _, err := dialExternal(t, reader); err == nil || !strings.Contains(err.Error(), "no registry contract is recorded") {
		t.Errorf("read-only node with nothing remembered: %v", err)
	}

	other, err := dialExternal(t, external(n, 1, t.TempDir()))
	if err != nil || other.Contract() == first.Contract() {
		t.Fatalf("a node with a directory of its own: %v, same contract %s", err, first.Contract())
	}
	explicit := e
	explicit.Contract = other.Contract()
	if c, err := dialExternal(t, explicit); err != nil || c.Contract() != other.Contract() || len(deployed) != 1 {
		t.Errorf("explicit contract: %v on %v, %d deployed", err, c, len(deployed))
	}

	if _, err := dialExternal(t, chain.External{Config: chain.Config{RPCURL: n.URL}, Dir: dir}); !errors.Is(err, chain.ErrNoChainID) {
		t.Errorf("without a chain id: %v, want ErrNoChainID", err)
	}
}

// The nodes of a service starting together agree on one contract through
// the shared record: one deploys, after claiming its account; the one a
// node remembers from running alone is the one recorded.
func TestDialExternalShared(t *testing.T) {
	n := anviltest.Start(t, anviltest.Options{})
	shared := &testutil.Leases{}
	var mu sync.Mutex
	var claimed []common.Address
	node := func(i int) chain.External {
		e := external(n, i, t.TempDir())
		e.Shared = shared
		e.BeforeDeploy = func(_ context.Context, from common.Address) error {
			mu.Lock()
			defer mu.Unlock()
			claimed = append(claimed, from)
			return nil
		}
		return e
	}
	clients := make([]*chain.Client, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { clients[i], errs[i] = dialExternal(t, node(i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if clients[i].Contract() != clients[0].Contract() {
			t.Errorf("node %d on %s, node 0 on %s", i, clients[i].Contract(), clients[0].Contract())
		}
	}
	if shared.Deploys != 1 || len(claimed) != 1 {
		t.Fatalf("%d deployed, accounts claimed %v; want one of each", shared.Deploys, claimed)
	}
	if deployer := claimed[0]; deployer != crypto.PubkeyToAddress(n.Keys[0].PublicKey) &&
		deployer != crypto.PubkeyToAddress(n.Keys[1].PublicKey) && deployer != crypto.PubkeyToAddress(n.Keys[2].PublicKey) {
		t.Errorf("claimed %s, not a node's account", deployer)
	}

	// A refused claim deploys nothing.
	refused := node(3)
	refused.Shared = &testutil.Leases{}
	refused.BeforeDeploy = func(context.Context, common.Address) error { return errors.New("in use by node a") }
	if _, err := dialExternal(t, refused); err == nil || !strings.Contains(err.Error(), "in use by node a") {
		t.Errorf("refused claim: %v", err)
	}

	// A node that ran alone brings its contract into a new service.
	alone := external(n, 4, t.TempDir())
	c, err := dialExternal(t, alone)
	if err != nil {
		t.Fatal(err)
	}
	joined := alone
	joined.Shared = &testutil.Leases{}
	joined.BeforeDeploy = func(context.Context, common.Address) error { t.Error("deployed again"); return nil }
	if j, err := dialExternal(t, joined); err != nil || j.Contract() != c.Contract() {
		t.Errorf("joining node: %v on %v, want %s", err, j, c.Contract())
	}
}

// A keystore's password may come from a file, line break and all.
func TestKeyPasswordFile(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acct, err := keystore.NewKeyStore(dir, keystore.LightScryptN, keystore.LightScryptP).ImportECDSA(key, "secret")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		contents string
		ok       bool
	}{
		"line break":  {"secret\n", true},
		"CRLF":        {"secret\r\n", true},
		"none":        {"secret", true},
		"wrong":       {"nope\n", false},
		"inner space": {"secret \n", false},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "password")
			if err := os.WriteFile(file, []byte(c.contents), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := chain.KeyConfig{KeystoreFile: acct.URL.Path, Password: "ignored", PasswordFile: file}.Load()
			if got := err == nil && crypto.PubkeyToAddress(k.PublicKey) == acct.Address; got != c.ok {
				t.Errorf("Load: %v; want ok %v", err, c.ok)
			}
		})
	}
	if _, err := (chain.KeyConfig{KeystoreFile: acct.URL.Path, PasswordFile: filepath.Join(dir, "missing")}).Load(); err == nil {
		t.Error("a missing password file: no error")
	}
}
