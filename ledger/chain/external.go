package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// ErrNoChainID is returned by DialExternal without Options.ChainID: on an
// external node it guards against signing for the wrong network, and it
// names the remembered contract.
var ErrNoChainID = errors.New("an external node needs its chain id")

// External is how DialExternal reaches the registry on an external node
// (geth, anvil, a provider) when the registry's address may not be known
// yet: with Config.Contract zero, the nodes that share Shared agree on one,
// and a node alone uses the one it deployed there before.
type External struct {
	Config
	// Dir is where a node remembers the contract it deployed, in
	// external-<chain id>.json (a data directory's ledger directory), so
	// that its next start uses that contract rather than deploying another
	// (registrations on the old one would vanish from view).
	Dir string
	// ReadOnly is a node that only reads the registry: it never deploys,
	// and without a key it signs nothing with a throwaway one.
	ReadOnly bool
	// Shared, when set, is the record the nodes of a service agree on: the
	// first of them records the contract it remembers, else one it deploys.
	Shared ContractRecord
	// BeforeDeploy, when set, is called with the account about to deploy:
	// deploying is a transaction, so a node of a service claims the account
	// (ledger.ClaimSigner) first, as for any other.
	BeforeDeploy func(ctx context.Context, from common.Address) error
	// Deployed, when set, is told the address of a contract just deployed:
	// worth showing the operator, who may want to pass it explicitly.
	Deployed func(common.Address)
}

// ContractRecord is state shared by the nodes of a service (its database)
// that records the registry contract of each chain, so that nodes started
// without a contract address agree on one.
type ContractRecord interface {
	// LedgerContract returns the contract address recorded for chainID.
	// When there is none it calls deploy, records the address deploy
	// returns and returns it; an error from deploy records nothing. It
	// holds a lock shared by every node from the read to the record (on
	// PostgreSQL, pg_advisory_xact_lock in the transaction that reads and
	// inserts), so that of two nodes starting together only one deploys
	// and the other waits and gets its address.
	LedgerContract(ctx context.Context, chainID uint64, deploy func(context.Context) (string, error)) (string, error)
}

// DialExternal connects to e.RPCURL and returns a Client on the registry
// e.Contract names, or, when it is zero, the one agreed as External says.
func DialExternal(ctx context.Context, e External) (*Client, error) {
	if e.ChainID == 0 {
		return nil, ErrNoChainID
	}
	if e.ReadOnly && e.Key.KeystoreFile == "" && e.Key.HexKey == "" {
		// Reading the contract needs a Client, and a Client a key.
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		e.Key.HexKey = common.Bytes2Hex(crypto.FromECDSA(k))
	}
	if e.Contract == (common.Address{}) {
		addr, err := e.agree(ctx)
		if err != nil {
			return nil, err
		}
		e.Contract = addr
	}
	return Dial(ctx, e.Config)
}

// agree returns the contract to use when none is given: the shared one, or,
// for a node alone, the remembered one, deployed the first time.
func (e External) agree(ctx context.Context) (common.Address, error) {
	remembered, err := e.remembered()
	if err != nil {
		return common.Address{}, err
	}
	deploy := func(ctx context.Context) (string, error) {
		if remembered != (common.Address{}) {
			return remembered.Hex(), nil
		}
		if e.ReadOnly {
			return "", fmt.Errorf("no registry contract is recorded for chain %d yet: start a node that registers first, or give the contract's address", e.ChainID)
		}
		addr, err := e.deploy(ctx)
		return addr.Hex(), err
	}
	if e.Shared == nil {
		addr, err := deploy(ctx)
		return common.HexToAddress(addr), err
	}
	addr, err := e.Shared.LedgerContract(ctx, e.ChainID, deploy)
	if err != nil {
		return common.Address{}, fmt.Errorf("agreeing on the registry contract: %w", err)
	}
	if !common.IsHexAddress(addr) {
		return common.Address{}, fmt.Errorf("the shared record holds %q as the registry contract of chain %d: not an address", addr, e.ChainID)
	}
	return common.HexToAddress(addr), nil
}

// deploy deploys a registry and remembers it. (e.Contract is zero.)
func (e External) deploy(ctx context.Context) (common.Address, error) {
	c, err := Dial(ctx, e.Config)
	if err != nil {
		return common.Address{}, err
	}
	defer c.Close()
	if e.BeforeDeploy != nil {
		if err := e.BeforeDeploy(ctx, c.From()); err != nil {
			return common.Address{}, err
		}
	}
	addr, _, err := c.Deploy(ctx)
	if err != nil {
		return common.Address{}, err
	}
	if e.Deployed != nil {
		e.Deployed(addr)
	}
	// The contract exists now, whether or not it is remembered: failing
	// here would only make the next start deploy yet another one.
	_ = e.remember(addr)
	return addr, nil
}

// rememberedFile is where Dir remembers the contract of this chain.
func (e External) rememberedFile() string {
	return filepath.Join(e.Dir, fmt.Sprintf("external-%d.json", e.ChainID))
}

// remembered is the contract Dir remembers, zero when none (no Dir, no
// file, or a file that names none).
func (e External) remembered() (common.Address, error) {
	if e.Dir == "" {
		return common.Address{}, nil
	}
	b, err := os.ReadFile(e.rememberedFile())
	if errors.Is(err, os.ErrNotExist) {
		return common.Address{}, nil
	}
	if err != nil {
		return common.Address{}, err
	}
	var s struct{ Contract string }
	if json.Unmarshal(b, &s) != nil || !common.IsHexAddress(s.Contract) {
		return common.Address{}, nil
	}
	return common.HexToAddress(s.Contract), nil
}

func (e External) remember(addr common.Address) error {
	if e.Dir == "" {
		return nil
	}
	b, err := json.Marshal(map[string]string{"contract": addr.Hex()})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(e.Dir, 0o750); err != nil {
		return err
	}
	return os.WriteFile(e.rememberedFile(), b, 0o640)
}
