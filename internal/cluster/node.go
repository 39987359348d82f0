// Package cluster starts trueframe nodes as processes on loopback and
// drives uploads at them: the cluster test, the load benchmarks and
// bench-cluster share it. It is a test utility, not part of the service.
package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Node is one running trueframe process: an API node (serve) or a worker
// node (worker).
type Node struct {
	Name string
	// URL is where it answers: the API for serve, /healthz, /readyz and
	// /metrics for a worker.
	URL string
	cmd *exec.Cmd

	mu     sync.Mutex
	output strings.Builder // the last lines of its logs, for failure messages
	exited chan struct{}
	err    error
}

// Options say how to start a node.
type Options struct {
	Exe  string   // the trueframe binary
	Env  []string // NAME=value added to the environment
	Args []string // after the subcommand (serve or worker)
}

var (
	servingURL = regexp.MustCompile(`serving at (http://[0-9.:]+)`)
	workerURL  = regexp.MustCompile(`msg="?worker node"? addr=(http://[0-9.:]+)`)
)

// StartAPI starts `trueframe serve` and waits until it answers /readyz.
func StartAPI(ctx context.Context, name string, o Options) (*Node, error) {
	return start(ctx, name, "serve", servingURL, o)
}

// StartWorker starts `trueframe worker` and waits until it answers
// /readyz (its models are loaded).
func StartWorker(ctx context.Context, name string, o Options) (*Node, error) {
	return start(ctx, name, "worker", workerURL, o)
}

func start(ctx context.Context, name, sub string, urlLine *regexp.Regexp, o Options) (*Node, error) {
	args := append([]string{sub, "--addr", "127.0.0.1:0", "--log-format", "text"}, o.Args...)
	cmd := exec.Command(o.Exe, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	// Its own process group, so that Kill takes its worker processes too,
	// as a machine's death would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &Node{Name: name, cmd: cmd, exited: make(chan struct{})}
	found := make(chan string, 2)
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Go(func() { n.scan(r, urlLine, found) })
	}
	go func() {
		readers.Wait()
		n.err = cmd.Wait()
		close(n.exited)
	}()
	select {
	case n.URL = <-found:
	case <-n.exited:
		return nil, fmt.Errorf("%s exited before serving: %v\n%s", name, n.err, n.Output())
	case <-time.After(90 * time.Second):
		n.Kill()
		return nil, fmt.Errorf("%s printed no address\n%s", name, n.Output())
	case <-ctx.Done():
		n.Kill()
		return nil, ctx.Err()
	}
	if err := n.waitReady(ctx, 3*time.Minute); err != nil {
		n.Kill()
		return nil, err
	}
	return n, nil
}

func (n *Node) scan(r io.Reader, urlLine *regexp.Regexp, found chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := urlLine.FindStringSubmatch(line); m != nil {
			found <- m[1]
		}
		n.mu.Lock()
		n.output.WriteString(line + "\n")
		if n.output.Len() > 256<<10 {
			rest := n.output.String()[n.output.Len()-128<<10:]
			n.output.Reset()
			n.output.WriteString(rest)
		}
		n.mu.Unlock()
	}
}

func (n *Node) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(n.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-n.exited:
			return fmt.Errorf("%s exited: %v\n%s", n.Name, n.err, n.Output())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s was not ready after %s\n%s", n.Name, limit, n.Output())
}

// Output returns the node's recent log lines.
func (n *Node) Output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.output.String()
}

// Pid is the node's process id.
func (n *Node) Pid() int { return n.cmd.Process.Pid }

// Kill kills the node and its worker processes at once (SIGKILL to its
// process group), as a machine that dies, and waits for it to end.
func (n *Node) Kill() {
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.exited
}

// Alive reports whether the process is still running.
func (n *Node) Alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}
