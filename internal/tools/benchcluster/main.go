// Command benchcluster measures trueframe on several nodes, on loopback:
// the same uploads against the embedded default (one serve, SQLite, files
// in its data directory), then against PostgreSQL + an S3 server with one
// API node and 1, then 2, worker nodes. It prints jobs per minute of each.
//
//	eval "$(scripts/test-engines start)"
//	go run ./internal/tools/benchcluster -bin bin/trueframe -clip CLIP [-n 100] [-c 20]
//
// On one machine the worker nodes share its cores, so the second adds no
// throughput; what a bigger deployment would gain is judged from the
// queue's own cost per job (go test -bench QueueOverhead ./api/jobs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/trueframe/trueframe/internal/cluster"
)

func main() {
	bin := flag.String("bin", "bin/trueframe", "trueframe binary")
	clip := flag.String("clip", "", "video to upload")
	n := flag.Int("n", 100, "uploads per run")
	conc := flag.Int("c", 20, "concurrent clients")
	flag.Parse()
	if *clip == "" {
		fmt.Fprintln(os.Stderr, "benchcluster: -clip is required")
		os.Exit(2)
	}
	pg, s3 := os.Getenv("TRUEFRAME_TEST_POSTGRES"), os.Getenv("TRUEFRAME_TEST_S3")
	if pg == "" || s3 == "" {
		fmt.Fprintln(os.Stderr, `benchcluster: TRUEFRAME_TEST_POSTGRES and TRUEFRAME_TEST_S3 are unset: eval "$(scripts/test-engines start)" first`)
		os.Exit(2)
	}
	b := bench{bin: *bin, n: *n, conc: *conc, pg: pg, s3: s3}
	var err error
	if b.video, err = os.ReadFile(*clip); err == nil {
		b.clipName = filepath.Base(*clip)
		err = b.run(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcluster:", err)
		os.Exit(1)
	}
}

type bench struct {
	bin, pg, s3 string
	video       []byte
	clipName    string
	n, conc     int
}

func (b bench) run(ctx context.Context) error {
	fmt.Printf("benchcluster: %d uploads of %s (%d bytes) at concurrency %d, %d cores; worker nodes run --workers %d (the CPU count)\n",
		b.n, b.clipName, len(b.video), b.conc, runtime.NumCPU(), runtime.NumCPU())
	var rows []string
	embedded, err := b.embedded(ctx)
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	rows = append(rows, embedded)
	for workers := 1; workers <= 2; workers++ {
		row, err := b.cluster(ctx, workers)
		if err != nil {
			return fmt.Errorf("%d worker nodes: %w", workers, err)
		}
		rows = append(rows, row)
	}
	fmt.Println("\nsummary:")
	for _, r := range rows {
		fmt.Println("  " + r)
	}
	return nil
}

// limits lets one key play every client.
func (b bench) limits() []string {
	return []string{"--rate", "1000", "--burst", "1000", "--max-waiting", strconv.Itoa(b.n + 10),
		"--max-uploads-per-key", strconv.Itoa(b.conc), "--max-queued-per-key", strconv.Itoa(b.n + 10),
		"--ledger=false", "--generator=false"}
}

func (b bench) embedded(ctx context.Context) (string, error) {
	data, err := os.MkdirTemp("", "trueframe-benchcluster-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(data)
	key, err := b.key("--data", data)
	if err != nil {
		return "", err
	}
	srv, err := cluster.StartAPI(ctx, "serve", cluster.Options{Exe: b.bin, Args: append([]string{"--data", data}, b.limits()...)})
	if err != nil {
		return "", err
	}
	defer srv.Kill()
	return b.load(ctx, "embedded (SQLite, files in --data), 1 node", key, srv.URL)
}

func (b bench) cluster(ctx context.Context, workers int) (string, error) {
	dsn, drop, err := cluster.NewDatabase(ctx, b.pg)
	if err != nil {
		return "", err
	}
	defer drop()
	blobs, err := cluster.WithPrefix(b.s3, "bench")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command(b.bin, "migrate", "--database", dsn).CombinedOutput(); err != nil {
		return "", fmt.Errorf("migrate: %v: %s", err, out)
	}
	key, err := b.key("--database", dsn)
	if err != nil {
		return "", err
	}
	common := func(name string) []string {
		dir, _ := os.MkdirTemp("", "trueframe-benchcluster-"+name+"-")
		return []string{"--database", dsn, "--blobs", blobs, "--data", dir, "--node", name}
	}
	var nodes []*cluster.Node
	defer func() {
		for _, n := range nodes {
			n.Kill()
		}
	}()
	api, err := cluster.StartAPI(ctx, "api", cluster.Options{Exe: b.bin, Args: append(append(common("api"), "--workers", "0"), b.limits()...)})
	if err != nil {
		return "", err
	}
	nodes = append(nodes, api)
	for i := range workers {
		w, err := cluster.StartWorker(ctx, fmt.Sprint("worker", i+1), cluster.Options{Exe: b.bin, Args: common(fmt.Sprint("worker", i+1))})
		if err != nil {
			return "", err
		}
		nodes = append(nodes, w)
	}
	return b.load(ctx, fmt.Sprintf("PostgreSQL + S3, 1 API node + %d worker node(s)", workers), key, api.URL)
}

func (b bench) key(where ...string) (string, error) {
	out, err := exec.Command(b.bin, append([]string{"keys", "create", "--role", "analyst"}, where...)...).Output()
	if err != nil {
		return "", fmt.Errorf("keys create: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (b bench) load(ctx context.Context, name, key string, urls ...string) (string, error) {
	res := cluster.Load{URLs: urls, Key: key, Clip: b.video, ClipName: b.clipName, N: b.n, Concurrency: b.conc}.Run(ctx)
	fmt.Printf("\n%s:\n%s", name, res.Summary(b.n, b.conc))
	if len(res.Lost) > 0 || res.Accepted != b.n || res.Ended() != b.n {
		return "", errors.New("jobs lost or refused (see above)")
	}
	return fmt.Sprintf("%-52s %6.1f jobs/min (done %d, failed %d)", name+":", float64(res.Ended())/res.Elapsed.Minutes(), res.States["done"], res.States["failed"]), nil
}
