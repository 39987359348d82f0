package devchain_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/ledger/devchain"
)

func hash(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func open(t testing.TB, dir string, opts *devchain.Options) *devchain.Chain {
	t.Helper()
	c, err := devchain.Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestCreateThenReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	c := open(t, dir, nil)
	info := c.Info()
	if info.ChainID != devchain.DefaultChainID || info.Contract == (common.Address{}) || info.Account != c.Client().From() || info.DeployBlock == 0 {
		t.Fatalf("info after creation: %+v", info)
	}
	for _, f := range []string{"devchain.json", "keystore-password"} {
		st, err := os.Stat(dir + "/" + f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v", f, st, err)
		}
	}
	r, err := c.Client().Register(ctx, hash("original"), hash("fp"), "meta")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client().Register(ctx, hash("original"), hash("fp"), "meta"); !errors.Is(err, chain.ErrAlreadyRegistered) {
		t.Fatalf("duplicate: got %v, want ErrAlreadyRegistered", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	c2 := open(t, dir, nil)
	if c2.Info() != info {
		t.Fatalf("reopened info %+v, want %+v", c2.Info(), info)
	}
	o, err := c2.Client().Original(ctx, hash("original"))
	if err != nil || o.BlockNumber != r.BlockNumber || o.FingerprintDigest != hash("fp") {
		t.Fatalf("after reopen: %+v, %v (registered in block %d)", o, err, r.BlockNumber)
	}
	r2, err := c2.Client().Register(ctx, hash("second"), hash("fp2"), "")
	if err != nil {
		t.Fatalf("register after reopen: %v", err)
	}
	if r2.BlockNumber <= r.BlockNumber {
		t.Fatalf("block %d after %d: the chain did not continue", r2.BlockNumber, r.BlockNumber)
	}
	events, _, err := c2.Client().Events(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var regs int
	for _, e := range events {
		if e.Kind == chain.EventRegistered {
			regs++
		}
	}
	if regs != 2 {
		t.Fatalf("%d Registered events, want 2: %+v", regs, events)
	}
}

func TestReopenChecksChainID(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, &devchain.Options{ChainID: 4321})
	if c.Info().ChainID != 4321 || c.Client().ChainID() != 4321 {
		t.Fatalf("chain id %d / %d, want 4321", c.Info().ChainID, c.Client().ChainID())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := devchain.Open(context.Background(), dir, &devchain.Options{ChainID: 1}); !errors.Is(err, devchain.ErrChainIDMismatch) {
		t.Fatalf("got %v, want ErrChainIDMismatch", err)
	}
	if _, err := devchain.Open(context.Background(), dir, &devchain.Options{Password: "wrong"}); err == nil {
		t.Fatal("opened with a wrong keystore password")
	}
	c2 := open(t, dir, nil) // chain id 0: take the existing one
	if c2.Info().ChainID != 4321 {
		t.Fatalf("reopened chain id %d", c2.Info().ChainID)
	}
}

func TestHTTPOnlyWhenAsked(t *testing.T) {
	c := open(t, t.TempDir(), nil)
	if ep := c.HTTPEndpoint(); ep != "" {
		t.Fatalf("HTTP endpoint %q without HTTPAddr", ep)
	}
	c2 := open(t, t.TempDir(), &devchain.Options{HTTPAddr: "127.0.0.1:0"})
	ep := c2.HTTPEndpoint()
	if !strings.HasPrefix(ep, "http://127.0.0.1:") || strings.HasSuffix(ep, ":0") {
		t.Fatalf("HTTP endpoint %q", ep)
	}
	ec, err := ethclient.Dial(ep)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	code, err := ec.CodeAt(context.Background(), c2.Info().Contract, nil)
	if err != nil || len(code) == 0 {
		t.Fatalf("registry code over HTTP: %d bytes, %v", len(code), err)
	}
}

// helperEnv names the data directory of the subprocess TestHelperProcess
// runs in; it is unset in a normal test run.
const helperEnv = "TRUEFRAME_DEVCHAIN_HELPER_DIR"

// TestHelperProcess is not a test: TestKill9AfterAck runs the test binary
// again with only this function, which registers originals in a loop and
// prints "ACK <sha256> <block>" as each Register returns.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("subprocess helper for TestKill9AfterAck")
	}
	ctx := context.Background()
	c, err := devchain.Open(ctx, dir, nil)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		sha := hash(fmt.Sprint("kill9-", i))
		r, err := c.Client().Register(ctx, sha, hash("fp"), "")
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Printf("ACK %x %d\n", sha, r.BlockNumber)
	}
}

// TestKill9AfterAck kills (SIGKILL) a process right after it printed an
// acknowledgement, reopens its data directory and requires every
// acknowledged registration, in its block, to be there.
func TestKill9AfterAck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	dir := t.TempDir()
	const acks = 5
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[[32]byte]uint64{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "ERR" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("helper: %s", sc.Text())
		}
		if f[0] != "ACK" || len(f) != 3 {
			continue
		}
		if len(acked) == acks-1 {
			// Kill first, bookkeeping after: the process must not get a
			// moment to flush anything more.
			_ = cmd.Process.Kill()
		}
		b, err := hex.DecodeString(f[1])
		if err != nil {
			t.Fatal(err)
		}
		block, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		acked[[32]byte(b)] = block
		if len(acked) == acks {
			break
		}
	}
	_ = cmd.Wait()
	if len(acked) != acks {
		t.Fatalf("helper acknowledged %d registrations before exiting, want %d", len(acked), acks)
	}

	c := open(t, dir, nil)
	for sha, block := range acked {
		o, err := c.Client().Original(context.Background(), sha)
		if err != nil {
			t.Fatalf("acknowledged registration %x lost after kill -9: %v", sha, err)
		}
		if o.BlockNumber != block {
			t.Fatalf("registration %x in block %d, acknowledged in %d", sha, o.BlockNumber, block)
		}
	}
	// The chain carries on from there.
	if _, err := c.Client().Register(context.Background(), hash("after-kill"), hash("fp"), ""); err != nil {
		t.Fatalf("register after kill -9: %v", err)
	}
}

// BenchmarkRegister measures single registrations on the embedded chain, one
// after the other, each acknowledged (mined and synced to disk).
func BenchmarkRegister(b *testing.B) {
	ctx := context.Background()
	c := open(b, b.TempDir(), nil)
	var gas uint64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := c.Client().Register(ctx, hash(fmt.Sprint("bench-", i)), hash("fp"), "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
		if err != nil {
			b.Fatal(err)
		}
		gas += r.GasUsed
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(gas)/float64(b.N), "gas/register")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "registrations/s")
}

// BenchmarkAnchorBatch1000 measures anchoring Merkle roots of 1,000 originals:
// the gas per original and the originals anchored per second (the chain side
// only; building the tree is ledger/merkle's).
func BenchmarkAnchorBatch1000(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	c := open(b, b.TempDir(), nil)
	var gas uint64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := c.Client().AnchorBatch(ctx, hash(fmt.Sprint("root-", i)), n, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
		if err != nil {
			b.Fatal(err)
		}
		gas += r.GasUsed
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(gas)/float64(b.N*n), "gas/hash")
	b.ReportMetric(float64(b.N*n)/elapsed.Seconds(), "hashes/s")
}

// BenchmarkRegisterConcurrent measures single registrations from 32
// concurrent writers: they share blocks and database syncs.
func BenchmarkRegisterConcurrent(b *testing.B) {
	ctx := context.Background()
	c := open(b, b.TempDir(), nil)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if _, err := c.Client().Register(ctx, hash(fmt.Sprint("par-", i)), hash("fp"), ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
}
