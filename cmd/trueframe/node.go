package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/trueframe/trueframe/api"
	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/media/face"
	"github.com/trueframe/trueframe/media/video"
	"github.com/trueframe/trueframe/models/registry"
)

// nodeFlags are the settings serve and worker share: where the state is,
// and how this node runs analyses.
type nodeFlags struct {
	data, node, blobs string
	database          *string
	workers, attempts int
	maxFrames         int
	maxAnalysed       int
	jobTimeout        time.Duration
	maxMemory, deps   string
	faceModel, fusion string
	logFormat         string
}

func (nf *nodeFlags) register(fs *flag.FlagSet, dataUsage string) {
	fs.StringVar(&nf.data, "data", "data", dataUsage)
	nf.database = databaseFlag(fs)
	fs.StringVar(&nf.blobs, "blobs", "", "blob store of uploads and evidence: a directory, file:///dir or s3://bucket?endpoint=http://host:port&region=R&use_path_style=true (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); default DATA/blobs")
	fs.StringVar(&nf.node, "node", "", "this node's `name` in the queue's records (default: host-pid)")
	fs.IntVar(&nf.workers, "workers", runtime.NumCPU(), "analyses run at once on this node, one worker process each (0: none, the node serves HTTP only)")
	fs.IntVar(&nf.attempts, "attempts", 3, "tries of a job whose worker crashes")
	fs.DurationVar(&nf.jobTimeout, "job-timeout", 30*time.Minute, "time limit of one analysis; also how long the job of a node that died waits before another node takes it over")
	fs.StringVar(&nf.maxMemory, "max-memory", "6GiB", "address-space cap of each worker process")
	fs.StringVar(&nf.deps, "deps", "", depsUsage)
	fs.IntVar(&nf.maxFrames, "max-frames", video.DefaultLimits().MaxFrames, "most frames decoded in one analysis (the file is refused beyond)")
	fs.IntVar(&nf.maxAnalysed, "max-analysed-frames", scan.DefaultMaxAnalysedFrames, "most frames analysed in one analysis (the file is refused beyond)")
	fs.StringVar(&nf.faceModel, "face-model", face.BlazeFace, "face detector: blazeface or ultraface")
	fs.StringVar(&nf.fusion, "fusion", "", "fusion model file (default: the embedded one)")
	fs.StringVar(&nf.logFormat, "log-format", "json", "log format: json or text")
}

// check validates the flags before any state is touched.
func (nf *nodeFlags) check() error {
	if nf.workers < 0 || nf.attempts < 1 || nf.jobTimeout <= 0 || nf.maxFrames < 1 || nf.maxAnalysed < 1 {
		return usageError{errors.New("--workers must be ≥ 0, --attempts, --max-frames, --max-analysed-frames ≥ 1, and --job-timeout positive")}
	}
	if _, err := parseBytes(nf.maxMemory); err != nil {
		return usageError{fmt.Errorf("--max-memory: %w", err)}
	}
	if nf.logFormat != "json" && nf.logFormat != "text" {
		return usageError{fmt.Errorf("--log-format %q: want json or text", nf.logFormat)}
	}
	return nil
}

func (nf *nodeFlags) logger() *slog.Logger {
	if nf.logFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

// dataDir makes the local data directory and returns its absolute path.
func (nf *nodeFlags) dataDir() (string, error) {
	dir, err := filepath.Abs(nf.data)
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o750)
}

// openStore opens the database --database names, by default the embedded
// SQLite file in the data directory.
func (nf *nodeFlags) openStore(ctx context.Context, dataDir string) (*store.Store, error) {
	dsn, err := databaseDSN(dataDir, *nf.database)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dsn)
}

// openBlobs opens the blob store of uploads and evidence: a directory in
// the data directory, or a store every node shares.
func (nf *nodeFlags) openBlobs(ctx context.Context, dataDir string) (*blobs.Store, error) {
	url := nf.blobs
	if url == "" {
		url = filepath.Join(dataDir, "blobs")
	}
	b, err := blobs.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("--blobs: %w", err)
	}
	return b, nil
}

// distributed reports whether the database is shared with other nodes.
func (nf *nodeFlags) distributed() bool {
	return store.IsPostgres(*nf.database)
}

// node is what serve and worker both run: the state the nodes of a
// service share and a pool of analysis workers, in a service that closes
// them after its components.
type node struct {
	*service
	flags    *nodeFlags
	version  string
	deps     string
	dataDir  string
	store    *store.Store
	blobs    *blobs.Store
	models   *registry.Registry
	pool     *isolate.Pool
	analyzer *jobs.Pooled
	metrics  *metrics.Metrics
}

// open opens the node's state and its pool; on error nothing stays open.
func (nf *nodeFlags) open(ctx context.Context) (*node, error) {
	n := &node{service: &service{log: nf.logger()}, flags: nf, version: buildVersion()}
	if err := n.open(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *node) open(ctx context.Context) error {
	nf := n.flags
	var err error
	if n.deps, err = depsDir(nf.deps); err != nil {
		return err
	}
	if n.dataDir, err = nf.dataDir(); err != nil {
		return err
	}
	if n.store, err = nf.openStore(ctx, n.dataDir); err != nil {
		return err
	}
	n.closing(n.store.Close)
	if n.blobs, err = nf.openBlobs(ctx, n.dataDir); err != nil {
		return err
	}
	n.closing(n.blobs.Close)
	// Each analysis runs the model versions active in the registry when it
	// starts (trueframe models activate switches them without a restart);
	// --fusion, when set, overrides the registry's fusion.
	if n.models, err = openRegistry(n.dataDir, n.store, n.blobs); err != nil {
		return err
	}
	// Warm workers (none start until asked): the models stay loaded
	// between jobs; a process is replaced after a crash and retired after
	// a few hundred jobs. A node with --workers 0 still gets a small pool,
	// for the provenance routes' fingerprinting.
	memLimit, _ := parseBytes(nf.maxMemory) // checked by check
	size := max(nf.workers, 1)
	n.pool = isolate.NewPool(isolate.PoolOptions{
		Worker:  workerOptions(n.deps, memLimit),
		MaxIdle: size, MaxUses: 300,
		// Analyses use at most --workers processes; the rest serve the
		// provenance routes' fingerprinting, so neither starves the other
		// and the number of processes stays bounded.
		MaxBusy: 2 * size,
	})
	n.closing(n.pool.Close)
	limits := video.DefaultLimits()
	limits.MaxFrames = nf.maxFrames
	n.analyzer = &jobs.Pooled{Pooled: scan.Pooled{Pool: n.pool, Base: scan.Request{FaceModel: nf.faceModel, FusionPath: nf.fusion,
		Limits: &limits, MaxAnalysedFrames: nf.maxAnalysed}, Models: n.models}}
	n.metrics = metrics.New(n.version, storeCounts{n.store}, n.log)
	return nil
}

// openLedger opens the provenance ledger, fingerprinting in the node's
// workers; a registry that registers also runs its batcher, which stops
// after the queue (jobs check provenance to the end).
func (n *node) openLedger(ctx context.Context, lf *ledgerFlags, readOnly bool) (*openedLedger, error) {
	lf.data = n.dataDir
	lf.cluster = n.flags.ledgerCluster(n.store, n.blobs, readOnly)
	reg, err := lf.open(ctx, ledger.Isolated{Run: n.pool.Run}, n.log, ledger.Options{})
	if err != nil {
		return nil, err
	}
	n.closing(func() error { reg.Close(); return nil })
	if !readOnly {
		n.start("ledger", reg.Run, nil)
	}
	return reg, nil
}

// analyses returns the runner of this node's analyses, with the options
// serve adds. Analyses find their inputs in the blob store, fetched into a
// local cache, never on another node's disk.
func (n *node) analyses(hooks *webhook.Client, l api.Ledger, opts jobs.Options) *jobs.Runner {
	opts.Workers, opts.MaxAttempts, opts.JobTimeout = n.flags.workers, n.flags.attempts, n.flags.jobTimeout
	opts.Provenance = api.ProvenanceCheck(l, n.log)
	// A node with a ledger can also verify files (POST /v1/verify), in
	// the same pool (runJobs decides whether it does).
	opts.Verify = api.VerifyWith(l, n.log)
	opts.Files = &jobs.Files{Blobs: n.blobs, CacheDir: filepath.Join(n.dataDir, "cache")}
	return jobs.New(n.store, n.analyzer, hooks, n.metrics, n.log, opts)
}

// runJobs starts the runners and the queue that hands them jobs (a node
// with --workers 0 works no analyses), and the probe that reports
// readiness to setReady once the models load. The runners stop after the
// queue, which gives the running jobs back.
func (n *node) runJobs(ctx context.Context, analyses, generator *jobs.Runner, setReady func(error)) error {
	// The analyses' runner also delivers webhooks where it renders their
	// bodies (serve's; a worker node's renders none).
	opts := jobs.QueueOptions{MaxAttempts: n.flags.attempts, JobTimeout: n.flags.jobTimeout, Node: n.flags.nodeName(), Log: n.log,
		Generator: generator, Webhooks: analyses}
	if n.flags.workers > 0 {
		opts.Analyses = analyses
	}
	// Verifications (when the node has a ledger) go where analyses go: to
	// the worker nodes of a shared database, so that an API node with
	// --workers 0 serves HTTP only. Alone, a node verifies whatever its
	// --workers, in its small pool, as it always did.
	if n.flags.workers > 0 || !n.flags.distributed() {
		opts.Verify = analyses
	}
	queue, err := jobs.NewQueue(ctx, n.store, opts)
	if err != nil {
		return err
	}
	for _, r := range []*jobs.Runner{analyses, generator} {
		if r != nil {
			n.start("runner", r.Run, nil)
		}
	}
	n.start("queue", queue.Run, nil)
	if n.flags.workers == 0 {
		setReady(nil) // nothing to load: this node only serves HTTP
		return nil
	}
	n.start("readiness", func(ctx context.Context) error { n.probeUntilReady(ctx, setReady); return nil }, nil)
	return nil
}

// probeUntilReady loads the models in every worker process, retrying while
// it fails, and reports readiness (nil) once they are warm.
func (n *node) probeUntilReady(ctx context.Context, setReady func(error)) {
	for wait := time.Second; ctx.Err() == nil; wait = min(2*wait, time.Minute) {
		workers := max(n.flags.workers, 1)
		infos := make([]scan.ModelInfo, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() { infos[i], errs[i] = n.analyzer.Probe(ctx) })
		}
		wg.Wait()
		info, err := infos[0], errors.Join(errs...)
		if err == nil {
			setReady(nil)
			n.log.Info("ready: models loaded", "face_detector", info.FaceDetector, "fusion", info.FusionVersion)
			return
		}
		if ctx.Err() != nil {
			return
		}
		setReady(fmt.Errorf("the models do not load: %w", err))
		n.log.Error("models do not load; retrying", "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// nodeName is this node's name among the live ones: --node, or host-pid.
func (nf *nodeFlags) nodeName() string {
	if nf.node != "" {
		return nf.node
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// ledgerCluster is what this node shares of the ledger with the others
// when the database is shared, nil when it is alone: the off-chain files
// in the blob store, the signer leases and the contract record in the
// database. A worker node only verifies (readOnly).
func (nf *nodeFlags) ledgerCluster(st *store.Store, b *blobs.Store, readOnly bool) *ledgerCluster {
	if !nf.distributed() {
		return nil
	}
	return &ledgerCluster{Node: nf.nodeName(), Files: blobFiles{b, ledgerPrefix}, Signers: st, Contracts: st, ReadOnly: readOnly}
}

// blobFiles is a directory of small files in the blob store, under prefix:
// the ledger's off-chain files (full fingerprints, batch manifests) under
// ledger/, the model registry's under models/, where every node reads them.
type blobFiles struct {
	b      *blobs.Store
	prefix string
}

const (
	ledgerPrefix = "ledger/"
	modelsPrefix = "models/"
)

func (f blobFiles) String() string { return f.b.String() + " " + f.prefix }

func (f blobFiles) ReadFile(ctx context.Context, name string) ([]byte, error) {
	r, err := f.b.NewReader(ctx, f.prefix+name)
	if errors.Is(err, blobs.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// WriteFile stores data under name; a blob store's write is all or
// nothing, and a name's contents never change, so rewriting is harmless.
func (f blobFiles) WriteFile(ctx context.Context, name string, data []byte) error {
	_, _, err := f.b.Put(ctx, f.prefix+name, bytes.NewReader(data), nil)
	return err
}

// List returns the names under prefix, relative to the files' own prefix.
func (f blobFiles) List(ctx context.Context, prefix string) ([]string, error) {
	objs, err := f.b.List(ctx, f.prefix+prefix)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = strings.TrimPrefix(o.Key, f.prefix)
	}
	return names, nil
}

// openRegistry opens the model registry: the data directory's, or with a
// shared database the one every node shares (files in the blob store, the
// active pointer in the database), copied to the data directory's cache
// as analyses need its versions.
func openRegistry(dataDir string, st *store.Store, b *blobs.Store) (*registry.Registry, error) {
	if !st.Postgres() {
		return registry.Open(registryDir(dataDir))
	}
	return registry.OpenShared(registry.Shared{Files: blobFiles{b, modelsPrefix}, Pointer: st}, filepath.Join(dataDir, "cache", "models"))
}
