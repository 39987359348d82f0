package chain

import (
	"context"
	"fmt"
	"time"

	bind "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
)

// Original is the on-chain record of an original registered on its own.
type Original struct {
	SHA256            [32]byte
	FingerprintDigest [32]byte
	Registrar         common.Address
	BlockNumber       uint64
	Time              time.Time
	Revoked           bool
}

// Batch is the on-chain record of an anchored Merkle root. Its block and
// meta are in the BatchAnchored event (see Events).
type Batch struct {
	Root      [32]byte
	Registrar common.Address
	Count     uint32
	Time      time.Time
}

func (c *Client) bound() (*bind.BoundContract, error) {
	addr := c.Contract()
	if addr == (common.Address{}) {
		return nil, fmt.Errorf("%w: deploy first or set Options.Contract", ErrNoContract)
	}
	return c.binding.Instance(c.backend, addr), nil
}

func (c *Client) callOpts(ctx context.Context) *bind.CallOpts {
	return &bind.CallOpts{Context: ctx, From: c.from}
}

// Original returns the record of sha256, or an error matching
// ErrUnknownOriginal when it was not registered on its own (it may still be
// in a batch: the local index knows which).
func (c *Client) Original(ctx context.Context, sha256 [32]byte) (Original, error) {
	b, err := c.bound()
	if err != nil {
		return Original{}, err
	}
	out, err := bind.Call(b, c.callOpts(ctx), c.binding.PackOriginals(sha256), c.binding.UnpackOriginals)
	if err != nil {
		return Original{}, fmt.Errorf("reading original %x: %w", sha256, err)
	}
	if out.Registrar == (common.Address{}) {
		return Original{}, fmt.Errorf("%w: %x", ErrUnknownOriginal, sha256)
	}
	return Original{
		SHA256:            sha256,
		FingerprintDigest: out.FingerprintDigest,
		Registrar:         out.Registrar,
		BlockNumber:       out.BlockNumber.Uint64(),
		Time:              time.Unix(out.Timestamp.Int64(), 0).UTC(),
		Revoked:           out.Revoked,
	}, nil
}

// Batch returns the record of root, or an error matching ErrUnknownBatch.
func (c *Client) Batch(ctx context.Context, root [32]byte) (Batch, error) {
	b, err := c.bound()
	if err != nil {
		return Batch{}, err
	}
	out, err := bind.Call(b, c.callOpts(ctx), c.binding.PackBatches(root), c.binding.UnpackBatches)
	if err != nil {
		return Batch{}, fmt.Errorf("reading batch %x: %w", root, err)
	}
	if out.Registrar == (common.Address{}) {
		return Batch{}, fmt.Errorf("%w: %x", ErrUnknownBatch, root)
	}
	return Batch{
		Root:      root,
		Registrar: out.Registrar,
		Count:     out.Count,
		Time:      time.Unix(int64(out.Timestamp), 0).UTC(),
	}, nil
}

// IsRevoked reports whether sha256 was revoked, on its own or in a batch.
func (c *Client) IsRevoked(ctx context.Context, sha256 [32]byte) (bool, error) {
	b, err := c.bound()
	if err != nil {
		return false, err
	}
	return bind.Call(b, c.callOpts(ctx), c.binding.PackIsRevoked(sha256), c.binding.UnpackIsRevoked)
}

// IsRegistrar reports whether addr may register.
func (c *Client) IsRegistrar(ctx context.Context, addr common.Address) (bool, error) {
	b, err := c.bound()
	if err != nil {
		return false, err
	}
	return bind.Call(b, c.callOpts(ctx), c.binding.PackIsRegistrar(addr), c.binding.UnpackIsRegistrar)
}

// VerifyInclusion asks the contract whether leaf (sha256(0x00 || leafData))
// is under root given proof, with the same hashing as ledger/merkle. It is
// a cross-check of the off-chain verifier; it does not check that root was
// anchored (Batch does).
func (c *Client) VerifyInclusion(ctx context.Context, root, leaf [32]byte, proof [][32]byte) (bool, error) {
	b, err := c.bound()
	if err != nil {
		return false, err
	}
	return bind.Call(b, c.callOpts(ctx), c.binding.PackVerifyInclusion(root, leaf, proof), c.binding.UnpackVerifyInclusion)
}
