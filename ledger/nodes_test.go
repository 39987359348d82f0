package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/trueframe/trueframe/internal/anviltest"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/devchain"
)

// memFiles is Files in memory, shared by the registries of a test as a
// blob store is by the nodes of a service. While held, what is written
// stays invisible to readers until release: a node still uploading, or a
// registrar keeping its files elsewhere.
type memFiles struct {
	mu      sync.Mutex
	files   map[string][]byte
	hold    bool
	pending map[string][]byte
}

func newMemFiles() *memFiles {
	return &memFiles{files: map[string][]byte{}, pending: map[string][]byte{}}
}

func (m *memFiles) ReadFile(_ context.Context, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return append([]byte(nil), b...), nil
}

func (m *memFiles) WriteFile(_ context.Context, name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hold {
		m.pending[name] = append([]byte(nil), data...)
	} else {
		m.files[name] = append([]byte(nil), data...)
	}
	return nil
}

// setHold holds writes back, or releases those held.
func (m *memFiles) setHold(hold bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hold = hold
	if !hold {
		for n, b := range m.pending {
			m.files[n] = b
		}
		clear(m.pending)
	}
}

// anvilClient connects to n with its dev key i on the registry at contract
// (none: deploy one).
func anvilClient(t *testing.T, n *anviltest.Node, i int, contract common.Address) *chain.Client {
	t.Helper()
	c, err := chain.Dial(t.Context(), chain.Config{RPCURL: n.URL,
		Key:     chain.KeyConfig{HexKey: common.Bytes2Hex(crypto.FromECDSA(n.Keys[i]))},
		Options: chain.Options{ChainID: n.ChainID, Contract: contract}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if contract == (common.Address{}) {
		if _, _, err := c.Deploy(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func openOn(t *testing.T, c *chain.Client, opts Options) *Registry {
	t.Helper()
	r, err := Open(t.Context(), c, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestTwoNodesOneContract runs two registries, as two API nodes, on one
// chain with a key each and the off-chain files shared: a copy of an
// original registered on node A is matched on node B, and a batch
// anchored on B is found with its proof on A.
func TestTwoNodesOneContract(t *testing.T) {
	src := portrait(t, "d13.mp4")
	reencoded := filepath.Join(t.TempDir(), "reencoded.mp4")
	videofix.Transcode(t, src, reencoded, videofix.Options{Scale: 0.5, FPS: 25, JPEGQuality: 30})

	n := anviltest.Start(t, anviltest.Options{})
	ca := anvilClient(t, n, 0, common.Address{})
	cb := anvilClient(t, n, 1, ca.Contract())
	if _, err := ca.AddRegistrar(t.Context(), cb.From()); err != nil {
		t.Fatal(err)
	}
	files, leases := DirFiles(t.TempDir()), &testutil.Leases{}
	a := openOn(t, ca, Options{Files: files, Signers: leases, Node: "a"})
	b := openOn(t, cb, Options{Files: files, Signers: leases, Node: "b"})
	ctx := t.Context()

	rec, err := a.Register(ctx, src, "registered on a")
	if err != nil {
		t.Fatal(err)
	}
	if v := verify(t, b, src); v.Status != Registered {
		t.Errorf("the original on b: %s (%s)", v.Status, v.Explanation)
	}
	v := verify(t, b, reencoded)
	if v.Status != MatchesOriginal || v.Original == nil || v.Original.SHA256 != rec.SHA256 ||
		!strings.EqualFold(v.Original.Registrar, ca.From().Hex()) {
		t.Fatalf("a copy on b: %s (%s), original %+v", v.Status, v.Explanation, v.Original)
	}
	if _, err := b.Register(ctx, src, "again on b"); !errors.Is(err, ErrAlreadyRegistered) {
		t.Errorf("registering a's original on b: err = %v, want ErrAlreadyRegistered", err)
	}

	sha, fp := [32]byte{1, 2, 3}, [32]byte{4, 5, 6}
	if err := b.EnqueueHashes(sha, fp, "batched on b"); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Flush(ctx); err != nil || res.Count != 1 {
		t.Fatalf("flush on b: %+v, %v", res, err)
	}
	got, err := a.Lookup(ctx, sha)
	if err != nil || got.Batch == nil || !got.Batch.Verified || !strings.EqualFold(got.Registrar, cb.From().Hex()) {
		t.Fatalf("b's batched original on a: %+v, %v", got, err)
	}
}

// TestFilesComeLater: a node that syncs a registration before its
// fingerprint or batch file is visible answers as for an unknown
// fingerprint, and reads the file once it is there.
func TestFilesComeLater(t *testing.T) {
	src := portrait(t, "d13.mp4")
	reencoded := filepath.Join(t.TempDir(), "reencoded.mp4")
	videofix.Transcode(t, src, reencoded, videofix.Options{Scale: 0.5, FPS: 25, JPEGQuality: 30})

	dc, err := devchain.Open(t.Context(), filepath.Join(t.TempDir(), "chain"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	files := newMemFiles()
	a := openOn(t, dc.Client(), Options{Files: files})
	// b only verifies, as a worker node does: it shares a's client here,
	// and could not send with it.
	b := openOn(t, dc.Client(), Options{Files: files, ReadOnly: true})
	clock := time.Now()
	b.now = func() time.Time { return clock }
	ctx := t.Context()

	files.setHold(true)
	rec, err := a.Register(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	if v := verify(t, b, src); v.Status != Registered {
		t.Errorf("the original without its fingerprint: %s, want registered (by its hash)", v.Status)
	}
	if v := verify(t, b, reencoded); v.Status != Unknown {
		t.Errorf("a copy without the original's fingerprint: %s (%s), want unknown", v.Status, v.Explanation)
	}
	// The batched original's fingerprint is made up: its file never comes.
	sha, fp := [32]byte{7}, [32]byte{8}
	if err := a.EnqueueHashes(sha, fp, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lookup(ctx, sha); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("a batched original without its leaves: err = %v, want ErrNotRegistered", err)
	}
	if st, err := b.Status(ctx); err != nil || st.MissingFiles != 2 {
		t.Errorf("status: %+v, %v; want 2 missing files", st, err)
	}

	files.setHold(false)
	clock = clock.Add(missingFirstTry)
	v := verify(t, b, reencoded)
	if v.Status != MatchesOriginal || v.Original.SHA256 != rec.SHA256 {
		t.Errorf("a copy once the fingerprint came: %s (%s)", v.Status, v.Explanation)
	}
	if got, err := b.Lookup(ctx, sha); err != nil || got.Batch == nil || !got.Batch.Verified {
		t.Errorf("a batched original once its leaves came: %+v, %v", got, err)
	}
	// Only the made-up fingerprint is still missing, read again later.
	if st, err := b.Status(ctx); err != nil || st.MissingFiles != 1 {
		t.Errorf("status: %+v, %v; want 1 missing file", st, err)
	}
	if due, err := b.index.DueMissing(ctx, clock.Add(missingFirstTry), 10); err != nil || len(due) != 1 || due[0].Hash != fp {
		t.Errorf("due a second later: %+v, %v; want the made-up fingerprint", due, err)
	}
	if _, err := b.Register(ctx, src, ""); !errors.Is(err, ErrReadOnly) {
		t.Errorf("register on a read-only registry: err = %v", err)
	}
}

// TestOneNodePerSigner: a second node with the same key is refused while
// the first holds the account, and starts once it is released; a node
// whose lease another took stops sending.
func TestOneNodePerSigner(t *testing.T) {
	dc, err := devchain.Open(t.Context(), filepath.Join(t.TempDir(), "chain"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	clock := time.Now()
	var mu sync.Mutex
	leases := &testutil.Leases{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }}
	ctx := t.Context()
	a, err := Open(ctx, dc.Client(), t.TempDir(), Options{Signers: leases, Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dc.Client(), t.TempDir(), Options{Signers: leases, Node: "b"})
	var inUse *SignerInUseError
	if !errors.As(err, &inUse) || inUse.Node != "a" || inUse.Address != dc.Client().From().Hex() {
		t.Fatalf("second node on a's key: err = %v, want a SignerInUseError naming a", err)
	}
	want := fmt.Sprintf("signer %s is in use by node a", dc.Client().From().Hex())
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "give each node its own key") {
		t.Errorf("error %q does not say %q and what to do", err, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// b loses the lease store for longer than its lease: it stops sending.
	flaky := &flakyLease{SignerLease: leases}
	b, err := Open(ctx, dc.Client(), t.TempDir(), Options{Signers: flaky, Node: "b", LeaseTTL: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("once a released the key: %v", err)
	}
	defer b.Close()
	flaky.fail.Store(true)
	waitCanSign := func(ok func(error) bool) error {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := b.canSign()
			if ok(err) {
				return err
			}
			if time.Now().After(deadline) {
				t.Fatalf("b.canSign() = %v after 10 s", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := waitCanSign(func(err error) bool { return err != nil }); !errors.Is(err, ErrLeaseLapsed) {
		t.Errorf("b cut off from the store: canSign = %v, want ErrLeaseLapsed", err)
	}
	// Meanwhile its lease ends in the store too, and c takes the key.
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	if _, err := ClaimSigner(ctx, leases, dc.Client().From().Hex(), "c", time.Hour); err != nil {
		t.Fatal(err)
	}
	flaky.fail.Store(false)
	waitCanSign(func(err error) bool { return errors.As(err, &inUse) })
	if err := b.EnqueueHashes([32]byte{9}, [32]byte{9}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Flush(ctx); !errors.As(err, &inUse) || inUse.Node != "c" {
		t.Errorf("flush after c took the key: err = %v, want a SignerInUseError naming c", err)
	}
	if st, err := b.Status(ctx); err != nil || st.Queued != 0 {
		t.Errorf("the refused batch stays queued: %+v, %v", st, err)
	}
	if _, err := b.Lookup(ctx, [32]byte{9}); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("lookup on b (reads need no lease): err = %v, want ErrNotRegistered", err)
	}
}

// flakyLease fails every call while fail is set: the database is out of
// reach.
type flakyLease struct {
	SignerLease
	fail atomic.Bool
}

func (f *flakyLease) ClaimSigner(ctx context.Context, address, node string, ttl time.Duration) (string, time.Time, error) {
	if f.fail.Load() {
		return "", time.Time{}, errors.New("database unreachable")
	}
	return f.SignerLease.ClaimSigner(ctx, address, node, ttl)
}
