package chain

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// decodeRevert turns revert data into a *RevertError, using the ABI's error
// definitions; data that matches none still gives a RevertError (ErrReverted).
func (c *Client) decodeRevert(data []byte) *RevertError {
	e := &RevertError{Data: data}
	if len(data) < 4 {
		return e
	}
	for name, def := range c.abi.Errors {
		if !bytes.Equal(def.ID[:4], data[:4]) {
			continue
		}
		e.Name = name
		e.Err = contractErrors[name]
		args := map[string]any{}
		if vals, err := def.Inputs.Unpack(data[4:]); err == nil {
			for i, in := range def.Inputs {
				args[in.Name] = vals[i]
			}
		}
		if len(args) > 0 {
			e.Args = args
		}
		return e
	}
	return e
}

// revertFromRPC extracts revert data from a JSON-RPC error (eth_call and
// eth_estimateGas return it in the error's data field, as a hex string). It
// returns nil when err is not a revert.
func (c *Client) revertFromRPC(err error) *RevertError {
	var de rpc.DataError
	if errors.As(err, &de) {
		if s, ok := de.ErrorData().(string); ok {
			if data, derr := hexutil.Decode(s); derr == nil {
				return c.decodeRevert(data)
			}
		}
	}
	if strings.Contains(err.Error(), "execution reverted") {
		return &RevertError{}
	}
	return nil
}

// revertOnChain explains a mined transaction that failed by replaying it as
// a call at its block: the state then is what made it fail (for example the
// same original registered earlier in that block).
func (c *Client) revertOnChain(ctx context.Context, r *types.Receipt, msg ethereum.CallMsg) error {
	e := &RevertError{}
	if _, err := c.backend.CallContract(ctx, msg, r.BlockNumber); err != nil {
		if rerr := c.revertFromRPC(err); rerr != nil {
			e = rerr
		}
	}
	e.TxHash = r.TxHash
	e.Block = r.BlockNumber.Uint64()
	return e
}

// isNonceError reports whether a send failed because the local nonce is
// stale. Nodes only return strings over JSON-RPC, so match the messages geth
// (core.ErrNonceTooLow, txpool.ErrAlreadyKnown, ErrReplaceUnderpriced) and
// anvil use.
func isNonceError(err error) bool {
	s := strings.ToLower(err.Error())
	for _, m := range []string{"nonce too low", "nonce too high", "already known", "replacement transaction underpriced", "invalid nonce"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
