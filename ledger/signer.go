package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SignerLease is state shared by the nodes of a service (a table in its
// database) that records which node signs with which account.
//
// Two nodes that send transactions from one account race for its nonces:
// each picks the next nonce from what it last saw, so one transaction
// replaces or blocks the other and registrations fail or hang. Each node
// must sign with a key of its own; the lease turns a configuration mistake
// (the same key given to two nodes) into a refusal to start.
//
// A lease lasts a TTL and the holder renews it well before it ends, so a
// node that dies frees its account within one TTL. Implementations must be
// safe for concurrent use by several processes: one statement checks and
// takes, so that two nodes cannot both take a free lease. On SQL:
//
//	INSERT INTO ledger_signers(address, node, expires) VALUES ($1, $2, now() + $3)
//	ON CONFLICT (address) DO UPDATE SET node = excluded.node, expires = excluded.expires
//	WHERE ledger_signers.node = excluded.node OR ledger_signers.expires < now()
//	RETURNING node, expires
//
// and, when it returns no row, SELECT node, expires of the holder.
type SignerLease interface {
	// ClaimSigner takes the lease on address (0x-hex, as printed by
	// common.Address.Hex) for node until ttl from now, or extends it when
	// node holds it already, and returns node and the new expiry. When
	// another node holds an unexpired lease it changes nothing and returns
	// that node and the end of its lease.
	ClaimSigner(ctx context.Context, address, node string, ttl time.Duration) (holder string, expires time.Time, err error)
	// ReleaseSigner ends node's lease on address; it does nothing when node
	// does not hold it.
	ReleaseSigner(ctx context.Context, address, node string) error
}

// DefaultLeaseTTL is how long a signer lease lasts unless
// Options.LeaseTTL says otherwise; it is renewed every third of that.
const DefaultLeaseTTL = 30 * time.Second

// SignerInUseError is returned when another live node holds the lease on
// the account this node would sign with.
type SignerInUseError struct {
	Address string    // the signing account
	Node    string    // the node that holds it
	Until   time.Time // when its lease ends unless it renews it
}

func (e *SignerInUseError) Error() string {
	return fmt.Sprintf("ledger: signer %s is in use by node %s (its lease runs to %s); give each node its own key",
		e.Address, e.Node, e.Until.UTC().Format(time.RFC3339))
}

var (
	// ErrLeaseLapsed is returned for a write while this node's lease on its
	// signer has lapsed (the lease store could not be reached to renew it,
	// or another node took the account): sending could race that node.
	ErrLeaseLapsed = errors.New("ledger: this node's lease on its signing account has lapsed")
	// ErrReadOnly is returned for a write on a registry opened with
	// Options.ReadOnly.
	ErrReadOnly = errors.New("ledger: this registry only verifies")
)

// ClaimSigner claims the lease on address for node in lease and returns
// when it ends, or a *SignerInUseError when another node holds it. It is
// what Open does; a caller that must sign before opening a Registry (to
// deploy the contract) claims first, and Open then renews the same lease.
func ClaimSigner(ctx context.Context, lease SignerLease, address, node string, ttl time.Duration) (time.Time, error) {
	if node == "" {
		return time.Time{}, errors.New("ledger: a signer lease needs the node's name")
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	// The lease counts from before the claim: the store's own expiry is
	// later, so this node stops signing no later than the store frees it.
	start := time.Now()
	holder, expires, err := lease.ClaimSigner(ctx, address, node, ttl)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger: claiming signer %s: %w", address, err)
	}
	if holder != node {
		return time.Time{}, &SignerInUseError{Address: address, Node: holder, Until: expires}
	}
	return start.Add(ttl), nil
}

// claimSigner claims or renews the registry's lease and records how long
// it may sign.
func (r *Registry) claimSigner(ctx context.Context) error {
	until, err := ClaimSigner(ctx, r.opts.Signers, r.chain.From().Hex(), r.opts.Node, r.opts.LeaseTTL)
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	if err != nil {
		r.leaseErr = err
		var inUse *SignerInUseError
		if errors.As(err, &inUse) {
			r.leaseUntil = time.Time{} // another node signs now
		}
		return err
	}
	r.leaseUntil, r.leaseErr = until, nil
	return nil
}

// keepLease renews the lease every third of its TTL until stop closes, so
// that two renewals may fail before it lapses.
func (r *Registry) keepLease(stop <-chan struct{}) {
	defer close(r.leaseDone)
	every := r.opts.LeaseTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		if err := r.claimSigner(ctx); err != nil {
			r.log.Error("renewing the signer lease failed", "account", r.chain.From().Hex(), "err", err)
		}
		cancel()
	}
}

// releaseSigner stops the renewals and frees the account for another node.
func (r *Registry) releaseSigner() error {
	close(r.leaseStop)
	<-r.leaseDone
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.opts.Signers.ReleaseSigner(ctx, r.chain.From().Hex(), r.opts.Node)
}

// canSign says whether the registry may send a transaction now.
func (r *Registry) canSign() error {
	if r.opts.ReadOnly {
		return ErrReadOnly
	}
	if r.opts.Signers == nil {
		return nil
	}
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	if time.Now().Before(r.leaseUntil) {
		return nil
	}
	var inUse *SignerInUseError
	if errors.As(r.leaseErr, &inUse) {
		return r.leaseErr
	}
	if r.leaseErr == nil {
		return ErrLeaseLapsed
	}
	return fmt.Errorf("%w: %v", ErrLeaseLapsed, r.leaseErr)
}
