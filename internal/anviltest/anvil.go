// Package anviltest starts anvil (Foundry's dev node, installed by
// scripts/install-anvil into deps/anvil) for integration tests that need a
// real, external Ethereum JSON-RPC node.
package anviltest

import (
	"bufio"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
)

// Options for Start. The zero value starts a fresh anvil with chain id 31337.
type Options struct {
	ChainID uint64 // default 31337
	// StateFile, when set, is loaded at start and written at a graceful stop
	// (anvil --state), so a restarted node keeps its chain.
	StateFile string
}

// Node is a running anvil, listening on 127.0.0.1 only.
type Node struct {
	URL     string
	ChainID uint64
	// Keys are the node's pre-funded dev accounts, in anvil's order.
	Keys []*ecdsa.PrivateKey

	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
	out  *lockedBuffer
}

// Binary returns the anvil binary: $TRUEFRAME_ANVIL, else deps/anvil/anvil
// in the module root. When there is none the test is skipped, or fails when
// TRUEFRAME_REQUIRE_SHARED=1 (CI), where its absence is a setup bug.
func Binary(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("TRUEFRAME_ANVIL")
	var err error
	if p == "" {
		var root string
		if root, err = moduleRoot(); err == nil {
			p = filepath.Join(root, "deps", "anvil", "anvil")
		}
	}
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("anvil not installed (%v): run scripts/install-anvil", err)
	if os.Getenv("TRUEFRAME_REQUIRE_SHARED") == "1" {
		tb.Fatal(msg + " (TRUEFRAME_REQUIRE_SHARED=1)")
	}
	tb.Skip(msg)
	return ""
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

var (
	listenRE = regexp.MustCompile(`Listening on (127\.0\.0\.1:\d+)`)
	keyRE    = regexp.MustCompile(`^\((\d+)\) (0x[0-9a-fA-F]{64})$`)
)

// Start runs anvil on a free port of 127.0.0.1 and stops it (SIGKILL) at the
// end of the test unless Stop was called first.
func Start(tb testing.TB, opts Options) *Node {
	tb.Helper()
	bin := Binary(tb)
	if opts.ChainID == 0 {
		opts.ChainID = 31337
	}
	args := []string{"--host", "127.0.0.1", "--port", "0", "--chain-id", strconv.FormatUint(opts.ChainID, 10)}
	if opts.StateFile != "" {
		args = append(args, "--state", opts.StateFile)
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out := &lockedBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting anvil: %v", err)
	}
	n := &Node{ChainID: opts.ChainID, cmd: cmd, done: make(chan struct{}), out: out}
	tb.Cleanup(func() { n.kill() })

	// anvil prints its keys, then "Listening on …" once the port is bound.
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		announced := false
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			out.Write([]byte(line + "\n"))
			if m := keyRE.FindStringSubmatch(line); m != nil && !announced {
				if k, err := crypto.HexToECDSA(m[2][2:]); err == nil {
					n.Keys = append(n.Keys, k)
				}
			}
			if m := listenRE.FindStringSubmatch(line); m != nil && !announced {
				announced = true
				n.URL = "http://" + m[1]
				ready <- nil
			}
		}
		if !announced {
			ready <- errors.New("anvil exited before listening")
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(n.done)
	}()
	select {
	case err := <-ready:
		if err != nil {
			tb.Fatalf("%v; output:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		tb.Fatalf("anvil did not start listening in 30s; output:\n%s", out.String())
	}
	if len(n.Keys) == 0 {
		tb.Fatalf("no dev keys in anvil's output:\n%s", out.String())
	}
	return n
}

// Stop stops anvil gracefully (SIGINT: it writes its --state file) and
// waits for it to exit.
func (n *Node) Stop(tb testing.TB) {
	tb.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		n.kill()
		tb.Fatalf("anvil did not stop on SIGINT in 30s")
	}
}

// Kill stops anvil at once (SIGKILL), as a crash would.
func (n *Node) Kill() { n.kill() }

func (n *Node) kill() {
	n.once.Do(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
