package testutil

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Leases is the ledger's shared state of a service on several nodes, in
// memory: the signer leases (ledger.SignerLease) and the contract each
// chain's nodes agree on (chain.ContractRecord), as the service's
// database holds them. The nodes of a test share one. The zero value is
// ready; all methods are goroutine-safe.
type Leases struct {
	// Now is the clock of the leases; nil is time.Now. Tests move it to
	// expire a lease without waiting.
	Now func() time.Time

	mu        sync.Mutex
	signers   map[string]signerLease
	contracts map[uint64]string
	locks     map[uint64]chan struct{}
	// Deploys counts the addresses LedgerContract recorded (from its
	// deploy function).
	Deploys int
}

type signerLease struct {
	node    string
	expires time.Time
}

func (l *Leases) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// ClaimSigner takes or renews the lease on address for node, unless
// another node holds an unexpired one.
func (l *Leases) ClaimSigner(ctx context.Context, address, node string, ttl time.Duration) (string, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return "", time.Time{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if cur, ok := l.signers[address]; ok && cur.node != node && now.Before(cur.expires) {
		return cur.node, cur.expires, nil
	}
	if l.signers == nil {
		l.signers = map[string]signerLease{}
	}
	l.signers[address] = signerLease{node: node, expires: now.Add(ttl)}
	return node, now.Add(ttl), nil
}

// ReleaseSigner ends node's lease on address.
func (l *Leases) ReleaseSigner(_ context.Context, address, node string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.signers[address]; ok && cur.node == node {
		delete(l.signers, address)
	}
	return nil
}

// LedgerContract returns the contract recorded for chainID, running deploy
// and recording its answer when there is none, one caller per chain at a
// time (the lock a database would hold across the deployment).
func (l *Leases) LedgerContract(ctx context.Context, chainID uint64, deploy func(context.Context) (string, error)) (string, error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[uint64]chan struct{}{}
		l.contracts = map[uint64]string{}
	}
	lock, ok := l.locks[chainID]
	if !ok {
		lock = make(chan struct{}, 1)
		l.locks[chainID] = lock
	}
	l.mu.Unlock()
	select {
	case lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-lock }()

	l.mu.Lock()
	addr := l.contracts[chainID]
	l.mu.Unlock()
	if addr != "" {
		return addr, nil
	}
	addr, err := deploy(ctx)
	if err != nil {
		return "", err
	}
	if addr == "" {
		return "", fmt.Errorf("deploy returned no address")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Deploys++
	l.contracts[chainID] = addr
	return addr, nil
}
