package chain

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Sentinels for the contract's custom errors. A revert decodes into a
// *RevertError whose Unwrap yields one of these and ErrReverted, so callers
// branch with errors.Is(err, chain.ErrAlreadyRegistered).
var (
	ErrAlreadyRegistered    = errors.New("original already registered")
	ErrNotRegistrar         = errors.New("sender is not a registrar")
	ErrNotOwner             = errors.New("sender is not the registry owner")
	ErrNotAuthorized        = errors.New("sender may not revoke this original")
	ErrUnknownOriginal      = errors.New("original not registered")
	ErrAlreadyRevoked       = errors.New("original already revoked")
	ErrEmptyBatch           = errors.New("batch is empty")
	ErrBatchAlreadyAnchored = errors.New("batch already anchored")
	ErrUnknownBatch         = errors.New("batch not anchored")
	ErrInvalidProof         = errors.New("invalid Merkle inclusion proof")
	ErrInvalidLeaf          = errors.New("invalid Merkle leaf data")
	ErrMetaTooLong          = errors.New("meta or reason too long")
	ErrZeroHash             = errors.New("zero hash")
	ErrZeroAddress          = errors.New("zero address")
)

// contractErrors maps the contract's error names (ABI) to the sentinels.
// TestContractErrorsCovered checks that every error in the ABI has one.
var contractErrors = map[string]error{
	"AlreadyRegistered":    ErrAlreadyRegistered,
	"NotRegistrar":         ErrNotRegistrar,
	"NotOwner":             ErrNotOwner,
	"NotAuthorized":        ErrNotAuthorized,
	"UnknownOriginal":      ErrUnknownOriginal,
	"AlreadyRevoked":       ErrAlreadyRevoked,
	"EmptyBatch":           ErrEmptyBatch,
	"BatchAlreadyAnchored": ErrBatchAlreadyAnchored,
	"UnknownBatch":         ErrUnknownBatch,
	"InvalidProof":         ErrInvalidProof,
	"InvalidLeaf":          ErrInvalidLeaf,
	"MetaTooLong":          ErrMetaTooLong,
	"ZeroHash":             ErrZeroHash,
	"ZeroAddress":          ErrZeroAddress,
}

var (
	// ErrReverted matches every *RevertError, including reverts whose data
	// is not one of the contract's errors (out of gas, a panic, no data).
	ErrReverted = errors.New("transaction reverted")
	// ErrChainIDMismatch is returned by New and Dial when the node's chain id
	// differs from Options.ChainID: signing for the wrong network is refused.
	ErrChainIDMismatch = errors.New("chain id mismatch")
	// ErrNoContract is returned when Options.Contract holds no code, or when
	// a contract call is made on a Client without a contract address.
	ErrNoContract = errors.New("no registry contract")
	// ErrTxDropped is returned when a sent transaction vanished from the node
	// (typically a node restart that lost its pool) and resending it failed
	// too. The Client resends a dropped transaction on its own first.
	ErrTxDropped = errors.New("transaction dropped by the node")
	// ErrNoKey is returned by KeyConfig.Load when no key source is set.
	ErrNoKey = errors.New("no signing key configured")
)

// RevertError is a contract call or transaction that reverted. TxHash is
// zero when the revert was caught at gas estimation, before sending.
type RevertError struct {
	Name   string         // the contract's error name, e.g. "AlreadyRegistered"; empty when unknown
	Args   map[string]any // the error's decoded arguments
	Data   []byte         // raw revert data
	TxHash common.Hash
	Block  uint64 // block of the reverted transaction; 0 at estimation
	Err    error  // the matching sentinel (ErrAlreadyRegistered, ...); nil when unknown
}

func (e *RevertError) Error() string {
	var b strings.Builder
	b.WriteString("registry reverted")
	if e.Name != "" {
		fmt.Fprintf(&b, " with %s(", e.Name)
		names := slices.Sorted(maps.Keys(e.Args))
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			switch v := e.Args[n].(type) {
			case [32]byte:
				fmt.Fprintf(&b, "%s=0x%x", n, v)
			case common.Address:
				fmt.Fprintf(&b, "%s=%s", n, v.Hex())
			default:
				fmt.Fprintf(&b, "%s=%v", n, v)
			}
		}
		b.WriteString(")")
	} else if len(e.Data) > 0 {
		fmt.Fprintf(&b, " with data %s", hexutil.Encode(e.Data))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.TxHash != (common.Hash{}) {
		fmt.Fprintf(&b, " (tx %s, block %d)", e.TxHash.Hex(), e.Block)
	}
	return b.String()
}

// Unwrap lets errors.Is match both ErrReverted and the specific sentinel.
func (e *RevertError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Err, ErrReverted}
	}
	return []error{ErrReverted}
}
