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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

	args := []string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--log-format", "text",
		"--rate", "1000", "--burst", "1000", "--max-waiting", strconv.Itoa(n + 10),
		// One key plays every client: the per-key caps must not bind.
		"--max-uploads-per-key", strconv.Itoa(conc), "--max-queued-per-key", strconv.Itoa(n + 10)}
	if workers > 0 {
		args = append(args, "--workers", strconv.Itoa(workers))
	}
	srv := exec.Command(bin, args...)
	srv.Stderr = io.Discard
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	url, err := waitURL(stdout)
	if err != nil {
		return err
	}
	if err := waitReady(url); err != nil {
		return err
	}

	// Sample the RSS of the server and of its worker processes.
	var peakServer, peakTotal atomic.Int64
	ctx, stopSampling := context.WithCancel(context.Background())
	var sampler sync.WaitGroup
	sampler.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			own, total := rss(srv.Process.Pid), treeRSS(srv.Process.Pid)
			peakServer.Store(max(peakServer.Load(), own))
			peakTotal.Store(max(peakTotal.Load(), total))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})

	var (
		mu        sync.Mutex
		getLat    []time.Duration
		postLat   []time.Duration
		statuses  = map[int]int{}
		states    = map[string]int{}
		accepted  int
		lost      int
		transport = &http.Transport{MaxIdleConnsPerHost: conc}
		client    = &http.Client{Transport: transport, Timeout: 5 * time.Minute}
	)
	record := func(code int) {
		mu.Lock()
		statuses[code]++
		mu.Unlock()
	}
	next := make(chan int)
	var clients sync.WaitGroup
	start := time.Now()
	for range conc {
		clients.Go(func() {
			for range next {
				t0 := time.Now()
				code, id, err := upload(client, url, key, filepath.Base(clip), video)
				mu.Lock()
				postLat = append(postLat, time.Since(t0))
				mu.Unlock()
				record(code)
				if err != nil || code != http.StatusAccepted {
					continue
				}
				mu.Lock()
				accepted++
				mu.Unlock()
				for {
					t0 := time.Now()
					code, state, err := status(client, url, key, id)
					lat := time.Since(t0)
					record(code)
					mu.Lock()
					getLat = append(getLat, lat)
					mu.Unlock()
					if err != nil || code != http.StatusOK {
						mu.Lock()
						lost++
						mu.Unlock()
						break
					}
					if state == "done" || state == "failed" {
						mu.Lock()
						states[state]++
						mu.Unlock()
						break
					}
					time.Sleep(250 * time.Millisecond)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	clients.Wait()
	elapsed := time.Since(start)
	stopSampling()
	sampler.Wait()
	hwm := vmHWM(srv.Process.Pid)

	fivexx := 0
	for code, c := range statuses {
		if code >= 500 || code == 0 {
			fivexx += c
		}
	}
	fmt.Printf("loadbench: %d uploads of %s (%d bytes) at concurrency %d, %s elapsed\n", n, filepath.Base(clip), len(video), conc, elapsed.Round(time.Millisecond))
	fmt.Printf("  accepted %d, done %d, failed %d, lost %d, 5xx or no answer %d\n", accepted, states["done"], states["failed"], lost, fivexx)
	fmt.Printf("  status codes: %v\n", statuses)
	fmt.Printf("  throughput: %.1f jobs/min\n", float64(states["done"]+states["failed"])/elapsed.Minutes())
	fmt.Printf("  status GET latency: p50 %s, p99 %s (%d requests)\n", pct(getLat, 50), pct(getLat, 99), len(getLat))
	fmt.Printf("  upload POST latency: p50 %s, p99 %s\n", pct(postLat, 50), pct(postLat, 99))
	fmt.Printf("  server peak RSS: %.1f MiB (VmHWM; sampled %.1f MiB); server + workers peak: %.1f MiB\n",
		float64(hwm)/(1<<20), float64(peakServer.Load())/(1<<20), float64(peakTotal.Load())/(1<<20))
	if fivexx > 0 || lost > 0 || accepted != n {
		return errors.New("errors under load (see above)")
	}
	if hwm > 1536<<20 {
		return fmt.Errorf("server peak RSS %.0f MiB over the 1.5 GiB budget", float64(hwm)/(1<<20))
	}
	return nil
}

var servingURL = regexp.MustCompile(`serving at (http://[0-9.:]+)`)

func waitURL(r io.Reader) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u, nil
	case <-time.After(30 * time.Second):
		return "", errors.New("the service printed no URL")
	}
}

func waitReady(url string) error {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("the service never became ready")
}

func upload(c *http.Client, url, key, name string, video []byte) (int, string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(video)
	mw.Close()
	req, _ := http.NewRequest("POST", url+"/v1/analyses", &buf)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.ID, err
}

func status(c *http.Client, url, key, id string) (int, string, error) {
	req, _ := http.NewRequest("GET", url+"/v1/analyses/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Status, err
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
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
