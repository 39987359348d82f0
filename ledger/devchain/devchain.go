package devchain

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/trueframe/trueframe/ledger/chain"
)

// DefaultChainID is the chain id of a new dev chain unless Options say
// otherwise (geth's --dev uses 1337 too).
const DefaultChainID = 1337

// Files inside the data directory.
const (
	infoFile     = "devchain.json"
	passwordFile = "keystore-password"
	nodeName     = "node" // geth's instance directory: <dir>/node/chaindata, ...
)

var (
	// ErrChainIDMismatch is returned by Open when Options.ChainID differs
	// from the chain id of the chain already in the directory.
	ErrChainIDMismatch = errors.New("devchain: chain id differs from the existing chain")
	// ErrCorrupt is returned by Open when the directory holds part of a dev
	// chain (a chain without its key, say) that it cannot safely continue.
	ErrCorrupt = errors.New("devchain: inconsistent data directory")
)

// Options for Open. The zero value (or nil) opens a chain with id 1337, a
// generated keystore password and no HTTP endpoint.
type Options struct {
	// ChainID of a new chain; 0 means DefaultChainID, or, on reopen,
	// whatever the existing chain has.
	ChainID uint64
	// Password encrypts the keystore. Empty: a random one is generated on
	// first start and stored in <dir>/keystore-password (mode 0600), which
	// keeps the key from being readable from a copied keystore alone.
	Password string
	// HTTPAddr, e.g. "127.0.0.1:8545", also serves JSON-RPC (eth, net, web3)
	// over HTTP. Empty: in-process access only.
	HTTPAddr string
	// GasLimit is the block gas limit (default 60M, geth's).
	GasLimit uint64
	// Confirmations for the registry client (default 0: the dev chain has no
	// reorgs).
	Confirmations uint64
}

// Info is what devchain.json records about the chain.
type Info struct {
	ChainID     uint64         `json:"chain_id"`
	Contract    common.Address `json:"contract"`
	Account     common.Address `json:"account"`
	DeployTx    common.Hash    `json:"deploy_tx"`
	DeployBlock uint64         `json:"deploy_block"`
	Created     time.Time      `json:"created"`
}

// Chain is an open dev chain. Callers must call Close. The clients it hands
// out are goroutine-safe.
type Chain struct {
	dir    string
	info   Info
	stack  *node.Node
	eth    *eth.Ethereum
	rpc    *rpc.Client
	ec     *ethclient.Client
	client *chain.Client
	db     ethdb.KeyValueSyncer
}

// Open starts the dev chain in dir, creating it on first use. Only one
// process may have a directory open (geth locks it).
func Open(ctx context.Context, dir string, opts *Options) (_ *Chain, err error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.GasLimit == 0 {
		o.GasLimit = ethconfig.Defaults.Miner.GasCeil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devchain: %w", err)
	}
	info, haveInfo, err := readInfo(dir)
	if err != nil {
		return nil, err
	}
	chainID := o.ChainID
	switch {
	case haveInfo && chainID != 0 && chainID != info.ChainID:
		return nil, fmt.Errorf("%w: %s holds chain %d, asked for %d", ErrChainIDMismatch, dir, info.ChainID, chainID)
	case haveInfo:
		chainID = info.ChainID
	case chainID == 0:
		chainID = DefaultChainID
	}

	nodeCfg := node.Config{
		Name:    nodeName,
		DataDir: dir,
		P2P: p2p.Config{
			NoDiscovery: true,
			NoDial:      true,
			MaxPeers:    0,
			ListenAddr:  "",
		},
	}
	if o.HTTPAddr != "" {
		host, port, err := net.SplitHostPort(o.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("devchain: HTTP address %q: %w", o.HTTPAddr, err)
		}
		nodeCfg.HTTPHost = host
		if nodeCfg.HTTPPort, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("devchain: HTTP port %q: %w", port, err)
		}
		nodeCfg.HTTPModules = []string{"eth", "net", "web3"}
		nodeCfg.HTTPVirtualHosts = []string{"localhost", host}
	}
	// node.New takes the directory lock, so nothing below races another
	// process opening the same directory.
	stack, err := node.New(&nodeCfg)
	if err != nil {
		return nil, fmt.Errorf("devchain: %w", err)
	}
	c := &Chain{dir: dir, stack: stack}
	defer func() {
		if err != nil {
			// Stop what was started, as node.Start does on failure.
			err = errors.Join(err, c.Close())
		}
	}()

	key, err := loadOrCreateKey(stack.KeyStoreDir(), dir, o.Password, haveInfo)
	if err != nil {
		return nil, err
	}
	account := crypto.PubkeyToAddress(key.PublicKey)
	if haveInfo && info.Account != account {
		return nil, fmt.Errorf("%w: keystore holds %s, %s was deployed by %s", ErrCorrupt, account, infoFile, info.Account)
	}

	ethCfg := ethconfig.Defaults
	ethCfg.NetworkId = chainID
	ethCfg.Genesis = genesis(chainID, account, o.GasLimit)
	ethCfg.SyncMode = ethconfig.FullSync
	ethCfg.NoPruning = true
	ethCfg.StateScheme = rawdb.HashScheme
	ethCfg.TransactionHistory = 0 // index every transaction: an archive looks up old ones
	ethCfg.TxPool.NoLocals = true
	// No log index: geth renders its filter maps on every block, which was
	// half the CPU of a registration. Events (a reindex, rare) falls back
	// to scanning block blooms, fine at a dev chain's size.
	ethCfg.LogNoHistory = true
	ethCfg.Miner.GasCeil = o.GasLimit
	ethCfg.Miner.GasPrice = big.NewInt(1)
	ethCfg.Miner.PendingFeeRecipient = account
	backend, err := eth.New(stack, &ethCfg)
	if err != nil {
		return nil, fmt.Errorf("devchain: starting eth: %w", err)
	}
	c.eth = backend
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{
		LogCacheSize:  ethCfg.FilterLogCacheSize,
		LogQueryLimit: ethCfg.LogQueryLimit,
		RangeLimit:    ethCfg.RangeLimit,
	})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filterSystem)}})
	// Period 0: the beacon's API loop seals a block whenever the pool gets
	// a transaction, so a registration is mined in milliseconds.
	beacon, err := catalyst.NewSimulatedBeacon(0, account, backend)
	if err != nil {
		return nil, fmt.Errorf("devchain: simulated beacon: %w", err)
	}
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	stack.RegisterLifecycle(beacon)
	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("devchain: starting node: %w", err)
	}
	syncer, ok := backend.ChainDb().(ethdb.KeyValueSyncer)
	if !ok {
		return nil, fmt.Errorf("devchain: database %T cannot sync", backend.ChainDb())
	}
	c.db = syncer
	c.rpc = stack.Attach()
	c.ec = ethclient.NewClient(c.rpc)

	copts := chain.Options{
		ChainID:       chainID,
		Confirmations: o.Confirmations,
		Durable:       c.sync,
		// In-process polls cost a function call, not a round trip: poll
		// often, the receipt is usually there within a few milliseconds.
		PollInterval: time.Millisecond,
	}
	if !haveInfo {
		info, err = c.deploy(ctx, key, copts)
		if err != nil {
			return nil, err
		}
	}
	c.info = info
	copts.Contract = info.Contract
	c.client, err = chain.New(ctx, c.ec, key, copts)
	if err != nil {
		return nil, fmt.Errorf("devchain: %w", err)
	}
	return c, nil
}

// deploy deploys the registry on a new chain and records it in devchain.json.
// A crash between the deployment and the file leaves a contract at the
// account's first CREATE address; the next Open adopts it instead of
// deploying a second registry.
func (c *Chain) deploy(ctx context.Context, key *ecdsa.PrivateKey, copts chain.Options) (Info, error) {
	account := crypto.PubkeyToAddress(key.PublicKey)
	info := Info{ChainID: copts.ChainID, Account: account, Created: time.Now().UTC()}
	first := crypto.CreateAddress(account, 0)
	code, err := c.ec.CodeAt(ctx, first, nil)
	if err != nil {
		return Info{}, fmt.Errorf("devchain: %w", err)
	}
	if len(code) > 0 {
		info.Contract = first
	} else {
		cl, err := chain.New(ctx, c.ec, key, copts)
		if err != nil {
			return Info{}, fmt.Errorf("devchain: %w", err)
		}
		addr, r, err := cl.Deploy(ctx)
		if err != nil {
			return Info{}, fmt.Errorf("devchain: %w", err)
		}
		info.Contract, info.DeployTx, info.DeployBlock = addr, r.TxHash, r.BlockNumber
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return Info{}, err
	}
	if err := writeFileAtomic(c.dir, infoFile, append(b, '\n'), 0o600); err != nil {
		return Info{}, fmt.Errorf("devchain: writing %s: %w", infoFile, err)
	}
	return info, nil
}

// sync flushes the database's write-ahead log: chain.Client calls it before
// acknowledging a transaction.
func (c *Chain) sync() error { return c.db.SyncKeyValue() }

// Info returns the chain id, registry address and account.
func (c *Chain) Info() Info { return c.info }

// HTTPEndpoint is the JSON-RPC URL when Options.HTTPAddr was set (with the
// port resolved when it was 0), else "".
func (c *Chain) HTTPEndpoint() string {
	if c.stack == nil || c.stack.Config().HTTPHost == "" {
		return ""
	}
	return c.stack.HTTPEndpoint()
}

// Dir is the data directory.
func (c *Chain) Dir() string { return c.dir }

// Client is the registry client signing with the chain's key; it is owned
// by the Chain (do not Close it).
func (c *Chain) Client() *chain.Client { return c.client }

// Backend is the in-process JSON-RPC client, a bind.ContractBackend for
// chain.New or abigen bindings; it is owned by the Chain.
func (c *Chain) Backend() *ethclient.Client { return c.ec }

// Close stops the node and closes the database. It is safe to call twice.
func (c *Chain) Close() error {
	if c.ec != nil {
		c.ec.Close() // also closes c.rpc
		c.ec, c.rpc = nil, nil
	}
	var err error
	if c.stack != nil {
		if cerr := c.stack.Close(); cerr != nil && !errors.Is(cerr, node.ErrNodeStopped) {
			err = fmt.Errorf("devchain: closing node: %w", cerr)
		}
		c.stack = nil
	}
	return err
}

// genesis pre-funds account and pins the fork rules to Osaka (see the
// package doc). It is deterministic, so passing it again on reopen matches
// the stored genesis.
func genesis(chainID uint64, account common.Address, gasLimit uint64) *core.Genesis {
	cfg := *params.AllDevChainProtocolChanges
	cfg.ChainID = new(big.Int).SetUint64(chainID)
	cfg.AmsterdamTime = nil
	cfg.BogotaTime = nil
	cfg.BPO1Time, cfg.BPO2Time, cfg.BPO3Time, cfg.BPO4Time, cfg.BPO5Time = nil, nil, nil, nil, nil
	cfg.BlobScheduleConfig = &params.BlobScheduleConfig{
		Cancun: params.DefaultCancunBlobConfig,
		Prague: params.DefaultPragueBlobConfig,
	}
	alloc := core.SystemContractAllocs()
	maps.Copy(alloc, types.GenesisAlloc{
		account: {Balance: new(big.Int).Lsh(big.NewInt(1), 200)},
	})
	return &core.Genesis{
		Config:     &cfg,
		GasLimit:   gasLimit,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0),
		Alloc:      alloc,
	}
}

func readInfo(dir string) (Info, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, infoFile))
	if errors.Is(err, os.ErrNotExist) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("devchain: %w", err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return Info{}, false, fmt.Errorf("%w: %s: %v", ErrCorrupt, infoFile, err)
	}
	if info.ChainID == 0 || info.Contract == (common.Address{}) {
		return Info{}, false, fmt.Errorf("%w: %s lacks chain id or contract", ErrCorrupt, infoFile)
	}
	return info, true, nil
}

// writeFileAtomic writes name in dir through a synced temporary file and a
// rename, so a crash leaves the old file or the new one, never half of one.
func writeFileAtomic(dir, name string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
