// Command loadbench measures `trueframe serve` under load, on loopback
// only: it starts the service in a fresh data directory, uploads a short
// clip N times from C concurrent clients, polls each job until it ends, and
// prints throughput, status-GET latency, errors and the server's peak RSS.
//
//	go run ./internal/tools/loadbench -bin bin/trueframe -clip CLIP [-n 200] [-c 20]
//
// It exits non-zero when any request got a 5xx or any accepted job was lost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trueframe/trueframe/internal/cluster"
)

func main() {
	bin := flag.String("bin", "bin/trueframe", "trueframe binary")
	clip := flag.String("clip", "", "video to upload")
	n := flag.Int("n", 200, "uploads")
	conc := flag.Int("c", 20, "concurrent clients")
	workers := flag.Int("workers", 0, "service worker processes (0: its default, the CPU count)")
	flag.Parse()
	if *clip == "" {
		fmt.Fprintln(os.Stderr, "loadbench: -clip is required")
		os.Exit(2)
	}
	if err := run(*bin, *clip, *n, *conc, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(bin, clip string, n, conc, workers int) error {
	video, err := os.ReadFile(clip)
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "trueframe-loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)

	out, err := exec.Command(bin, "keys", "create", "--role", "analyst", "--data", data).Output()
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	key := strings.TrimSpace(string(out))

	args := []string{"--data", data,
		"--rate", "1000", "--burst", "1000", "--max-waiting", strconv.Itoa(n + 10),
		// One key plays every client: the per-key caps must not bind.
		"--max-uploads-per-key", strconv.Itoa(conc), "--max-queued-per-key", strconv.Itoa(n + 10)}
	if workers > 0 {
		args = append(args, "--workers", strconv.Itoa(workers))
	}
	ctx := context.Background()
	srv, err := cluster.StartAPI(ctx, "serve", cluster.Options{Exe: bin, Args: args})
	if err != nil {
		return err
	}
	defer srv.Kill()

	// Sample the RSS of the server and of its worker processes.
	var peakServer, peakTotal atomic.Int64
	sctx, stopSampling := context.WithCancel(ctx)
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			own, total := rss(srv.Pid()), treeRSS(srv.Pid())
			peakServer.Store(max(peakServer.Load(), own))
			peakTotal.Store(max(peakTotal.Load(), total))
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	})
	res := cluster.Load{URLs: []string{srv.URL}, Key: key, Clip: video, ClipName: filepath.Base(clip), N: n, Concurrency: conc}.Run(ctx)
	stopSampling()
	sampler.Wait()
	hwm := vmHWM(srv.Pid())

	fmt.Printf("loadbench: %s (%d bytes)\n%s", filepath.Base(clip), len(video), res.Summary(n, conc))
	fmt.Printf("  server peak RSS: %.1f MiB (VmHWM; sampled %.1f MiB); server + workers peak: %.1f MiB\n",
		float64(hwm)/(1<<20), float64(peakServer.Load())/(1<<20), float64(peakTotal.Load())/(1<<20))
	if res.Statuses[0] > 0 || len(res.Lost) > 0 || res.Accepted != n {
		return errors.New("errors under load (see above)")
	}
	for code, c := range res.Statuses {
		if code >= 500 && c > 0 {
			return errors.New("errors under load (see above)")
		}
	}
	if hwm > 1536<<20 {
		return fmt.Errorf("server peak RSS %.0f MiB over the 1.5 GiB budget", float64(hwm)/(1<<20))
	}
	return nil
}

// rss is a process's resident set in bytes (0 when it is gone).
func rss(pid int) int64 { return statusKB(pid, "VmRSS:") << 10 }

// vmHWM is a process's peak resident set in bytes.
func vmHWM(pid int) int64 { return statusKB(pid, "VmHWM:") << 10 }

func statusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// treeRSS sums the resident sets of a process and its descendants.
func treeRSS(pid int) int64 {
	total := rss(pid)
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(f); err == nil {
				total += treeRSS(child)
			}
		}
	}
	return total
}
