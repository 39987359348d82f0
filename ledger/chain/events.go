package chain

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// EventKind names a registry event.
type EventKind string

// The registry's events.
const (
	EventRegistered           EventKind = "registered"
	EventBatchAnchored        EventKind = "batch_anchored"
	EventRevoked              EventKind = "revoked"
	EventRegistrarAdded       EventKind = "registrar_added"
	EventRegistrarRemoved     EventKind = "registrar_removed"
	EventOwnershipTransferred EventKind = "ownership_transferred"
)

// Event is one registry log, decoded, with its place on chain: what a
// reindex needs to rebuild the local index without further calls.
type Event struct {
	Kind EventKind
	// Hash is the original's sha256 (registered, revoked) or the Merkle root
	// (batch_anchored); zero otherwise.
	Hash              [32]byte
	FingerprintDigest [32]byte // registered
	BatchRoot         [32]byte // revoked: the batch the original was in; zero for a single registration
	Count             uint32   // batch_anchored
	Meta              string   // meta (registered, batch_anchored) or reason (revoked)
	// Account is the registrar (registered, batch_anchored, registrar_*),
	// the revoker (revoked) or the new owner (ownership_transferred).
	Account     common.Address
	TxHash      common.Hash
	BlockNumber uint64
	BlockHash   common.Hash
	BlockTime   time.Time
	LogIndex    uint
}

// Events returns the registry's events from block from up to the head less
// Options.Confirmations, in chain order, and the block to resume from next
// time (one past the last block scanned). Logs are fetched LogRange blocks at
// a time.
func (c *Client) Events(ctx context.Context, from uint64) ([]Event, uint64, error) {
	addr := c.Contract()
	if addr == (common.Address{}) {
		return nil, from, fmt.Errorf("%w: deploy first or set Options.Contract", ErrNoContract)
	}
	head, err := c.backend.BlockNumber(ctx)
	if err != nil {
		return nil, from, fmt.Errorf("reading head: %w", err)
	}
	if head < c.opts.Confirmations {
		return nil, from, nil
	}
	last := head - c.opts.Confirmations
	var events []Event
	times := map[uint64]time.Time{}
	for start := from; start <= last; start += c.opts.LogRange {
		end := min(start+c.opts.LogRange-1, last)
		logs, err := c.backend.FilterLogs(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(start),
			ToBlock:   new(big.Int).SetUint64(end),
			Addresses: []common.Address{addr},
		})
		if err != nil {
			return events, start, fmt.Errorf("reading logs %d-%d: %w", start, end, err)
		}
		for i := range logs {
			l := &logs[i]
			if l.Removed {
				continue
			}
			ev, ok, err := c.decodeEvent(l)
			if err != nil {
				return events, start, err
			}
			if !ok {
				continue
			}
			t, seen := times[l.BlockNumber]
			if !seen {
				h, err := c.backend.HeaderByNumber(ctx, new(big.Int).SetUint64(l.BlockNumber))
				if err != nil {
					return events, start, fmt.Errorf("reading block %d: %w", l.BlockNumber, err)
				}
				t = time.Unix(int64(h.Time), 0).UTC()
				times[l.BlockNumber] = t
			}
			ev.BlockTime = t
			events = append(events, ev)
		}
	}
	return events, max(from, last+1), nil
}

// decodeEvent decodes one registry log; ok is false for a log the registry
// ABI does not know (there are none today).
func (c *Client) decodeEvent(l *types.Log) (ev Event, ok bool, err error) {
	if len(l.Topics) == 0 {
		return Event{}, false, nil
	}
	ev = Event{TxHash: l.TxHash, BlockNumber: l.BlockNumber, BlockHash: l.BlockHash, LogIndex: l.Index}
	b := c.binding
	switch l.Topics[0] {
	case c.abi.Events["Registered"].ID:
		e, err := b.UnpackRegisteredEvent(l)
		if err != nil {
			return Event{}, false, fmt.Errorf("decoding Registered log in tx %s: %w", l.TxHash.Hex(), err)
		}
		ev.Kind, ev.Hash, ev.FingerprintDigest, ev.Meta, ev.Account = EventRegistered, e.Sha256Hash, e.FingerprintDigest, e.Meta, e.Registrar
	case c.abi.Events["BatchAnchored"].ID:
		e, err := b.UnpackBatchAnchoredEvent(l)
		if err != nil {
			return Event{}, false, fmt.Errorf("decoding BatchAnchored log in tx %s: %w", l.TxHash.Hex(), err)
		}
		ev.Kind, ev.Hash, ev.Count, ev.Meta, ev.Account = EventBatchAnchored, e.MerkleRoot, e.Count, e.Meta, e.Registrar
	case c.abi.Events["Revoked"].ID:
		e, err := b.UnpackRevokedEvent(l)
		if err != nil {
			return Event{}, false, fmt.Errorf("decoding Revoked log in tx %s: %w", l.TxHash.Hex(), err)
		}
		ev.Kind, ev.Hash, ev.BatchRoot, ev.Meta, ev.Account = EventRevoked, e.Sha256Hash, e.BatchRoot, e.Reason, e.Revoker
	case c.abi.Events["RegistrarAdded"].ID:
		e, err := b.UnpackRegistrarAddedEvent(l)
		if err != nil {
			return Event{}, false, fmt.Errorf("decoding RegistrarAdded log in tx %s: %w", l.TxHash.Hex(), err)
		}
		ev.Kind, ev.Account = EventRegistrarAdded, e.Registrar
	case c.abi.Events["RegistrarRemoved"].ID:
		e, err := b.UnpackRegistrarRemovedEvent(l)
		if err != nil {
			return Event{}, false, fmt.Errorf("decoding RegistrarRemoved log in tx %s: %w", l.TxHash.Hex(), err)
		}
		ev.Kind, ev.Account = EventRegistrarRemoved, e.Registrar
	case c.abi.Events["OwnershipTransferred"].ID:
		e, err := b.UnpackOwnershipTransferredEvent(l)
		if err != nil {
			return Event{}, false, fmt.Errorf("decoding OwnershipTransferred log in tx %s: %w", l.TxHash.Hex(), err)
		}
		ev.Kind, ev.Account = EventOwnershipTransferred, e.NewOwner
	default:
		return Event{}, false, nil
	}
	return ev, true, nil
}
