package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The provenance ledger's state shared by the nodes of a service: signer
// leases (ledger.SignerLease) and the registry contract of each chain.

// ClaimSigner takes the lease on a signing account for node until ttl from
// now, or extends it when node holds it, in one statement; when another
// node holds an unexpired lease it changes nothing and returns that node
// and the end of its lease.
func (s *Store) ClaimSigner(ctx context.Context, address, node string, ttl time.Duration) (string, time.Time, error) {
	t := now()
	var holder string
	var expires int64
	err := s.queryRow(ctx, `INSERT INTO ledger_signers(address, node, expires) VALUES (?, ?, ?)
		ON CONFLICT(address) DO UPDATE SET node = excluded.node, expires = excluded.expires
		WHERE ledger_signers.node = excluded.node OR ledger_signers.expires < ?
		RETURNING node, expires`, address, node, t+ttl.Milliseconds(), t).Scan(&holder, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		// Held by another node: the conflict's WHERE left the row alone.
		err = s.queryRow(ctx, `SELECT node, expires FROM ledger_signers WHERE address = ?`, address).Scan(&holder, &expires)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: signer lease: %w", err)
	}
	return holder, time.UnixMilli(expires).UTC(), nil
}

// ReleaseSigner ends node's lease on address; it does nothing when node
// does not hold it.
func (s *Store) ReleaseSigner(ctx context.Context, address, node string) error {
	_, err := s.exec(ctx, `DELETE FROM ledger_signers WHERE address = ? AND node = ?`, address, node)
	return err
}

// ledgerLock is the PostgreSQL advisory lock LedgerContract holds across
// a deployment ("tfledger" in ASCII).
const ledgerLock int64 = 0x74666c6564676572

// LedgerContract returns the registry contract recorded for a chain. When
// there is none it calls deploy and records the address deploy returns,
// holding the database's write lock (SQLite) or an advisory lock
// (PostgreSQL) from the read to the record, so that of nodes starting
// together one deploys and the others wait for its address. An error from
// deploy records nothing.
func (s *Store) LedgerContract(ctx context.Context, chainID uint64, deploy func(context.Context) (string, error)) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE on SQLite
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if s.d.postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", ledgerLock); err != nil {
			return "", err
		}
	}
	var address string
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT address FROM ledger_contracts WHERE chain_id = ?`), int64(chainID)).Scan(&address)
	if err == nil {
		return address, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if address, err = deploy(ctx); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO ledger_contracts(chain_id, address, created_at) VALUES (?, ?, ?)`),
		int64(chainID), address, now()); err != nil {
		return "", err
	}
	return address, tx.Commit()
}
