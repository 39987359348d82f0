package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// TakeToken takes one request token from the bucket of the key keyID,
// which holds at most burst tokens and refills at perSecond; a key's first
// request finds it full. It reports whether a token was taken and, when
// not, how long until one will be there. A refused request takes nothing.
//
// The bucket lives in the database, so that the limit holds across every
// API node that shares it, and one statement both checks and takes: two
// nodes cannot both take the last token.
func (s *Store) TakeToken(ctx context.Context, keyID string, perSecond float64, burst int) (ok bool, retryAfter time.Duration, err error) {
	if !(perSecond > 0) || burst < 1 {
		return false, 0, fmt.Errorf("store: take token: rate %g and burst %d must be positive", perSecond, burst)
	}
	t := now()
	// The bucket's tokens now: what it held, plus what flowed in since its
	// last update (never negative, should another node's clock be behind),
	// up to burst. The row is only updated when that is a whole token.
	refill := s.d.least("CAST(? AS DOUBLE PRECISION)",
		"rate_limits.tokens + "+s.d.greatest("0", "CAST(? AS BIGINT) - rate_limits.updated_at")+" * CAST(? AS DOUBLE PRECISION) / 1000")
	bucket := []any{float64(burst), t, perSecond}
	args := append([]any{keyID, float64(burst - 1), t}, bucket...)
	var left float64
	err = s.buckets.QueryRowContext(ctx, s.d.rebind(`INSERT INTO rate_limits(key_id, tokens, updated_at) VALUES (?, CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT))
		ON CONFLICT(key_id) DO UPDATE SET tokens = `+refill+` - 1,
			updated_at = `+s.d.greatest("rate_limits.updated_at", "excluded.updated_at")+`
		WHERE `+refill+` >= 1
		RETURNING tokens`), append(args, bucket...)...).Scan(&left)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("store: take token: %w", err)
	}
	// Refused: no row was updated. The wait is read after the fact, so it
	// may be off by what other nodes did meanwhile; it is advice.
	var tokens float64
	var updated int64
	err = s.buckets.QueryRowContext(ctx, s.d.rebind(`SELECT tokens, updated_at FROM rate_limits WHERE key_id = ?`), keyID).Scan(&tokens, &updated)
	if err != nil {
		return false, 0, fmt.Errorf("store: take token: %w", err)
	}
	have := math.Min(float64(burst), tokens+float64(max(0, t-updated))*perSecond/1000)
	wait := time.Duration((1 - have) / perSecond * float64(time.Second))
	return false, max(wait, time.Millisecond), nil
}
