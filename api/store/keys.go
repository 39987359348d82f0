package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is what a key may do.
type Role string

const (
	RoleAnalyst   Role = "analyst"   // submits and reads its own analyses
	RoleRegistrar Role = "registrar" // registers originals on the ledger
	RoleAdmin     Role = "admin"     // everything, including managing keys and seeing every job
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAnalyst || r == RoleRegistrar || r == RoleAdmin
}

// Key is an API key as stored: the secret itself is never kept, only its
// SHA-256 (the secret has 256 bits of entropy, so a slow hash adds nothing).
type Key struct {
	ID        string
	Name      string
	Role      Role
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is valid
	// WebhookSecret signs this key's webhook deliveries (HMAC-SHA256). It
	// must be kept in the clear: the service needs it to sign.
	WebhookSecret string
	secretHash    []byte
}

// ErrBadToken is returned for a bearer token that is malformed, unknown,
// revoked or wrong.
var ErrBadToken = errors.New("invalid API key")

// tokenPrefix starts every key, so that leaked keys are easy to scan for.
const tokenPrefix = "tf_"

// NewKey creates a key with a fresh secret and returns it with the bearer
// token, which is shown once and cannot be recovered.
func (s *Store) NewKey(ctx context.Context, name string, role Role) (Key, string, error) {
	if !role.Valid() {
		return Key{}, "", fmt.Errorf("store: unknown role %q", role)
	}
	id, secret, hook := randomHex(8), randomHex(32), randomHex(32)
	sum := sha256.Sum256([]byte(secret))
	k := Key{ID: id, Name: name, Role: role, CreatedAt: time.UnixMilli(now()).UTC(), WebhookSecret: "whsec_" + hook, secretHash: sum[:]}
	_, err := s.exec(ctx, `INSERT INTO keys(id, name, role, secret_hash, webhook_secret, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, string(k.Role), k.secretHash, k.WebhookSecret, k.CreatedAt.UnixMilli())
	if err != nil {
		return Key{}, "", fmt.Errorf("store: new key: %w", err)
	}
	return k, tokenPrefix + id + "_" + secret, nil
}

// Authenticate returns the valid key a bearer token stands for, or
// ErrBadToken.
func (s *Store) Authenticate(ctx context.Context, token string) (Key, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return Key{}, ErrBadToken
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 64 {
		return Key{}, ErrBadToken
	}
	k, err := s.Key(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Key{}, ErrBadToken
	}
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], k.secretHash) != 1 || !k.RevokedAt.IsZero() {
		return Key{}, ErrBadToken
	}
	return k, nil
}

const keyColumns = `id, name, role, secret_hash, webhook_secret, created_at, COALESCE(revoked_at, 0)`

func scanKey(row interface{ Scan(...any) error }) (Key, error) {
	var k Key
	var role string
	var created, revoked int64
	if err := row.Scan(&k.ID, &k.Name, &role, &k.secretHash, &k.WebhookSecret, &created, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Key{}, ErrNotFound
		}
		return Key{}, err
	}
	k.Role, k.CreatedAt, k.RevokedAt = Role(role), fromMillis(created), fromMillis(revoked)
	return k, nil
}

// Key returns the key with the given id, revoked or not.
func (s *Store) Key(ctx context.Context, id string) (Key, error) {
	return scanKey(s.queryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE id = ?`, id))
}

// Keys lists every key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.query(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// CountKeys counts the keys that are not revoked.
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM keys WHERE revoked_at IS NULL`).Scan(&n)
	return n, err
}

// CountAllKeys counts every key ever created, revoked ones included.
func (s *Store) CountAllKeys(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM keys`).Scan(&n)
	return n, err
}

// RevokeKey revokes a key; its jobs are kept.
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, now(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}
