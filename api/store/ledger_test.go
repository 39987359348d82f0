package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One node at a time signs with an account: a second node's claim names
// the holder until the lease expires or is released; the holder renews.
func TestSignerLease(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{})
		const acct = "0xAbC"
		if h, exp, err := s.ClaimSigner(ctx, acct, "a", time.Minute); err != nil || h != "a" || time.Until(exp) < 50*time.Second {
			t.Fatalf("first claim = %q until %s, %v", h, exp, err)
		}
		if h, _, err := s.ClaimSigner(ctx, acct, "b", time.Minute); err != nil || h != "a" {
			t.Fatalf("claim while a holds it = %q, %v; want a", h, err)
		}
		if h, _, err := s.ClaimSigner(ctx, acct, "a", time.Minute); err != nil || h != "a" {
			t.Fatalf("renewal = %q, %v", h, err)
		}
		if err := s.ReleaseSigner(ctx, acct, "b"); err != nil { // not b's: nothing happens
			t.Fatal(err)
		}
		if h, _, _ := s.ClaimSigner(ctx, acct, "b", time.Minute); h != "a" {
			t.Fatalf("b released a's lease: holder %q", h)
		}
		if err := s.ReleaseSigner(ctx, acct, "a"); err != nil {
			t.Fatal(err)
		}
		if h, _, err := s.ClaimSigner(ctx, acct, "b", time.Millisecond); err != nil || h != "b" {
			t.Fatalf("claim after release = %q, %v; want b", h, err)
		}
		time.Sleep(5 * time.Millisecond) // b's lease lapses
		if h, _, err := s.ClaimSigner(ctx, acct, "c", time.Minute); err != nil || h != "c" {
			t.Fatalf("claim of a lapsed lease = %q, %v; want c", h, err)
		}
	})
}

// Of nodes starting together, one deploys the contract and the others get
// its address; a failed deployment records nothing.
func TestLedgerContract(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		s := openDSN(t, dsn, Options{})
		if _, err := s.LedgerContract(ctx, 7, func(context.Context) (string, error) { return "", errors.New("no gas") }); err == nil {
			t.Fatal("a failed deployment was not reported")
		}
		var deploys atomic.Int32
		deploy := func(context.Context) (string, error) {
			deploys.Add(1)
			time.Sleep(50 * time.Millisecond) // mining
			return "0xC0", nil
		}
		var wg sync.WaitGroup
		got := make([]string, 4)
		for i := range got {
			wg.Go(func() {
				var err error
				if got[i], err = s.LedgerContract(ctx, 7, deploy); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if deploys.Load() != 1 || got[0] != "0xC0" || got[1] != "0xC0" || got[2] != "0xC0" || got[3] != "0xC0" {
			t.Fatalf("%d deployments, addresses %v; want 1 and 0xC0 each", deploys.Load(), got)
		}
		if a, _ := s.LedgerContract(ctx, 8, func(context.Context) (string, error) { return "0xD0", nil }); a != "0xD0" {
			t.Fatalf("another chain's contract = %q", a)
		}
	})
}
