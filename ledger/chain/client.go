package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	bind "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/trueframe/trueframe/ledger/registry"
)

// Backend is what a Client needs from a node: *ethclient.Client (external
// or in-process RPC) satisfies it.
type Backend interface {
	bind.ContractBackend
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
}

// Client signs and sends registry transactions with one key and reads the
// registry. All methods are goroutine-safe. Callers must call Close.
type Client struct {
	backend  Backend
	binding  *registry.ProvenanceRegistry
	abi      abi.ABI
	key      *ecdsa.PrivateKey
	from     common.Address
	chainID  *big.Int
	signer   types.Signer
	opts     Options
	closeFn  func()
	contract common.Address // set once by New or Deploy; guarded by mu

	// mu serialises nonce assignment and sending, so that nonces leave in
	// order and a failed send never leaves a gap behind a later one.
	mu        sync.Mutex
	nonce     uint64
	haveNonce bool
}

// Receipt is the acknowledgement of a write: the transaction's place on chain.
type Receipt struct {
	TxHash      common.Hash
	BlockNumber uint64
	BlockHash   common.Hash
	BlockTime   time.Time
	GasUsed     uint64
	Logs        []*types.Log
}

// Dial connects to cfg.RPCURL, loads the key and returns a Client that owns
// the connection (Close closes it).
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	key, err := cfg.Key.Load()
	if err != nil {
		return nil, err
	}
	ec, err := ethclient.DialContext(ctx, cfg.RPCURL)
	if err != nil {
		return nil, fmt.Errorf("dialling %s: %w", cfg.RPCURL, err)
	}
	c, err := New(ctx, ec, key, cfg.Options)
	if err != nil {
		ec.Close()
		return nil, err
	}
	c.closeFn = ec.Close
	return c, nil
}

// New returns a Client over backend signing with key. It checks the node's
// chain id against opts.ChainID and, when opts.Contract is set, that code is
// deployed there. The backend stays the caller's: Close does not close it.
func New(ctx context.Context, backend Backend, key *ecdsa.PrivateKey, opts Options) (*Client, error) {
	if key == nil {
		return nil, ErrNoKey
	}
	id, err := backend.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading chain id: %w", err)
	}
	if opts.ChainID != 0 && (!id.IsUint64() || id.Uint64() != opts.ChainID) {
		return nil, fmt.Errorf("%w: node reports %v, configured %d", ErrChainIDMismatch, id, opts.ChainID)
	}
	binding := registry.NewProvenanceRegistry()
	c := &Client{
		backend:  backend,
		binding:  binding,
		abi:      binding.GetABI(),
		key:      key,
		from:     crypto.PubkeyToAddress(key.PublicKey),
		chainID:  id,
		signer:   types.LatestSignerForChainID(id),
		opts:     opts.withDefaults(),
		contract: opts.Contract,
	}
	if opts.Contract != (common.Address{}) {
		code, err := backend.CodeAt(ctx, opts.Contract, nil)
		if err != nil {
			return nil, fmt.Errorf("reading code at %s: %w", opts.Contract, err)
		}
		if len(code) == 0 {
			return nil, fmt.Errorf("%w: no code at %s on chain %v", ErrNoContract, opts.Contract, id)
		}
	}
	return c, nil
}

// Close releases the connection when the Client was made by Dial.
func (c *Client) Close() {
	if c.closeFn != nil {
		c.closeFn()
	}
}

// From is the signing account.
func (c *Client) From() common.Address { return c.from }

// ChainID is the node's chain id.
func (c *Client) ChainID() uint64 { return c.chainID.Uint64() }

// Contract is the registry's address; zero before Deploy.
func (c *Client) Contract() common.Address {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.contract
}

// Deploy deploys a new registry owned by the signing account (which is also
// its first registrar) and makes the Client use it.
func (c *Client) Deploy(ctx context.Context) (common.Address, Receipt, error) {
	bin := common.FromHex(registry.ProvenanceRegistryMetaData.Bin)
	r, err := c.transact(ctx, nil, bin)
	if err != nil {
		return common.Address{}, Receipt{}, fmt.Errorf("deploying registry: %w", err)
	}
	c.mu.Lock()
	c.contract = crypto.CreateAddress(c.from, r.nonce)
	addr := c.contract
	c.mu.Unlock()
	return addr, r.Receipt, nil
}

// Register records one original by its sha256 and fingerprint digest.
func (c *Client) Register(ctx context.Context, sha256, fingerprintDigest [32]byte, meta string) (Receipt, error) {
	return c.call(ctx, "register", c.binding.PackRegister(sha256, fingerprintDigest, meta))
}

// AnchorBatch records the Merkle root of count originals.
func (c *Client) AnchorBatch(ctx context.Context, root [32]byte, count uint32, meta string) (Receipt, error) {
	return c.call(ctx, "anchorBatch", c.binding.PackAnchorBatch(root, count, meta))
}

// Revoke revokes an original registered on its own.
func (c *Client) Revoke(ctx context.Context, sha256 [32]byte, reason string) (Receipt, error) {
	return c.call(ctx, "revoke", c.binding.PackRevoke(sha256, reason))
}

// RevokeBatched revokes an original registered in the batch with root:
// leafData is the leaf's preimage (it starts with the original's sha256) and
// proof its inclusion proof, sibling hashes from the leaf up.
func (c *Client) RevokeBatched(ctx context.Context, root [32]byte, leafData []byte, proof [][32]byte, reason string) (Receipt, error) {
	return c.call(ctx, "revokeBatched", c.binding.PackRevokeBatched(root, leafData, proof, reason))
}

// AddRegistrar allows addr to register (owner only).
func (c *Client) AddRegistrar(ctx context.Context, addr common.Address) (Receipt, error) {
	return c.call(ctx, "addRegistrar", c.binding.PackAddRegistrar(addr))
}

// RemoveRegistrar withdraws addr's right to register (owner only).
func (c *Client) RemoveRegistrar(ctx context.Context, addr common.Address) (Receipt, error) {
	return c.call(ctx, "removeRegistrar", c.binding.PackRemoveRegistrar(addr))
}

func (c *Client) call(ctx context.Context, method string, data []byte) (Receipt, error) {
	to := c.Contract()
	if to == (common.Address{}) {
		return Receipt{}, fmt.Errorf("%s: %w: deploy first or set Options.Contract", method, ErrNoContract)
	}
	r, err := c.transact(ctx, &to, data)
	if err != nil {
		return Receipt{}, fmt.Errorf("%s: %w", method, err)
	}
	return r.Receipt, nil
}

type sent struct {
	Receipt
	nonce uint64
}

// maxResends bounds how often a transaction the node dropped is re-signed
// and sent again before giving up with ErrTxDropped.
const maxResends = 3

// transact estimates, signs, sends and waits for one transaction; to == nil
// creates a contract.
func (c *Client) transact(ctx context.Context, to *common.Address, data []byte) (sent, error) {
	msg := ethereum.CallMsg{From: c.from, To: to, Data: data}
	gas, err := c.backend.EstimateGas(ctx, msg)
	if err != nil {
		// A revert during estimation carries the contract's error data.
		if rerr := c.revertFromRPC(err); rerr != nil {
			return sent{}, rerr
		}
		return sent{}, fmt.Errorf("estimating gas: %w", err)
	}
	// Margin for state that changes between estimation and inclusion.
	gas += gas / 5
	for attempt := 0; ; attempt++ {
		tx, err := c.send(ctx, to, data, gas)
		if err != nil {
			return sent{}, err
		}
		r, err := c.wait(ctx, tx, msg)
		if errors.Is(err, ErrTxDropped) && attempt < maxResends {
			continue
		}
		if err != nil {
			return sent{}, err
		}
		return sent{Receipt: r, nonce: tx.Nonce()}, nil
	}
}

// send assigns the next nonce, signs and submits. On a nonce the node calls
// stale it re-reads the pending nonce and tries again.
func (c *Client) send(ctx context.Context, to *common.Address, data []byte, gas uint64) (*types.Transaction, error) {
	tip, feeCap, err := c.fees(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !c.haveNonce {
			n, err := c.backend.PendingNonceAt(ctx, c.from)
			if err != nil {
				return nil, fmt.Errorf("reading nonce: %w", err)
			}
			c.nonce, c.haveNonce = n, true
		}
		tx, err := types.SignNewTx(c.key, c.signer, &types.DynamicFeeTx{
			ChainID:   c.chainID,
			Nonce:     c.nonce,
			GasTipCap: tip,
			GasFeeCap: feeCap,
			Gas:       gas,
			To:        to,
			Data:      data,
		})
		if err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
		err = c.backend.SendTransaction(ctx, tx)
		if err == nil {
			c.nonce++
			return tx, nil
		}
		// Whatever went wrong, the local nonce may now be wrong: re-read it
		// before the next transaction rather than risk a gap or a clash.
		c.haveNonce = false
		if isNonceError(err) && attempt < 5 && ctx.Err() == nil {
			continue
		}
		return nil, fmt.Errorf("sending transaction (nonce %d): %w", tx.Nonce(), err)
	}
}

// fees picks an EIP-1559 tip and fee cap: the node's suggested tip and
// twice the current base fee, which survives several full blocks of rises.
func (c *Client) fees(ctx context.Context) (tip, feeCap *big.Int, err error) {
	head, err := c.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading head: %w", err)
	}
	tip, err = c.backend.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("suggesting tip: %w", err)
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	feeCap = new(big.Int).Add(tip, new(big.Int).Mul(base, big.NewInt(2)))
	return tip, feeCap, nil
}

// isIndexing reports geth's answer for a receipt it cannot look up yet
// because its transaction index is still being built: not found, for now.
func isIndexing(err error) bool {
	return strings.Contains(err.Error(), "transaction indexing is in progress")
}

// dropCheckEvery is how often, while waiting for a receipt, the Client asks
// whether the node still knows the transaction.
const dropCheckEvery = time.Second

// wait polls for tx's receipt every PollInterval, then for Confirmations
// blocks on top of it, then checks the status and runs the Durable hook.
func (c *Client) wait(ctx context.Context, tx *types.Transaction, msg ethereum.CallMsg) (Receipt, error) {
	ticker := time.NewTicker(c.opts.PollInterval)
	defer ticker.Stop()
	lastDropCheck := time.Now()
	var rcpt *types.Receipt
	for {
		r, err := c.backend.TransactionReceipt(ctx, tx.Hash())
		switch {
		case err == nil && r != nil:
			rcpt = r
		case err != nil && !errors.Is(err, ethereum.NotFound) && !isIndexing(err):
			return Receipt{}, fmt.Errorf("reading receipt of %s: %w", tx.Hash().Hex(), err)
		}
		if rcpt != nil {
			confirmed, err := c.confirmed(ctx, rcpt)
			if err != nil {
				return Receipt{}, err
			}
			if confirmed {
				break
			}
		} else if time.Since(lastDropCheck) >= dropCheckEvery {
			lastDropCheck = time.Now()
			if dropped, err := c.dropped(ctx, tx); err != nil {
				return Receipt{}, err
			} else if dropped {
				return Receipt{}, fmt.Errorf("%w: %s (nonce %d)", ErrTxDropped, tx.Hash().Hex(), tx.Nonce())
			}
		}
		select {
		case <-ctx.Done():
			return Receipt{}, fmt.Errorf("waiting for %s: %w", tx.Hash().Hex(), ctx.Err())
		case <-ticker.C:
		}
		rcpt = nil // re-read: a reorg may have moved it while confirming
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return Receipt{}, c.revertOnChain(ctx, rcpt, msg)
	}
	header, err := c.backend.HeaderByNumber(ctx, rcpt.BlockNumber)
	if err != nil {
		return Receipt{}, fmt.Errorf("reading block %v: %w", rcpt.BlockNumber, err)
	}
	if c.opts.Durable != nil {
		if err := c.opts.Durable(); err != nil {
			return Receipt{}, fmt.Errorf("making %s durable: %w", tx.Hash().Hex(), err)
		}
	}
	return Receipt{
		TxHash:      rcpt.TxHash,
		BlockNumber: rcpt.BlockNumber.Uint64(),
		BlockHash:   rcpt.BlockHash,
		BlockTime:   time.Unix(int64(header.Time), 0).UTC(),
		GasUsed:     rcpt.GasUsed,
		Logs:        rcpt.Logs,
	}, nil
}

func (c *Client) confirmed(ctx context.Context, r *types.Receipt) (bool, error) {
	if c.opts.Confirmations == 0 {
		return true, nil
	}
	head, err := c.backend.BlockNumber(ctx)
	if err != nil {
		return false, fmt.Errorf("reading head: %w", err)
	}
	return head >= r.BlockNumber.Uint64()+c.opts.Confirmations, nil
}

// dropped reports whether the node no longer knows tx and its nonce is
// still unused, so the transaction can never be mined. The local nonce is
// reset so that the resend takes a fresh one.
func (c *Client) dropped(ctx context.Context, tx *types.Transaction) (bool, error) {
	_, _, err := c.backend.TransactionByHash(ctx, tx.Hash())
	if err == nil || isIndexing(err) {
		return false, nil
	}
	if !errors.Is(err, ethereum.NotFound) {
		return false, fmt.Errorf("looking up %s: %w", tx.Hash().Hex(), err)
	}
	mined, err := c.backend.NonceAt(ctx, c.from, nil)
	if err != nil {
		return false, fmt.Errorf("reading nonce: %w", err)
	}
	if mined > tx.Nonce() {
		// The nonce was used, by this transaction (its receipt is about to
		// appear) or another: keep polling, the receipt decides.
		return false, nil
	}
	c.mu.Lock()
	c.haveNonce = false
	c.mu.Unlock()
	return true, nil
}
