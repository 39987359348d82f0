package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trueframe/trueframe/api"
	"github.com/trueframe/trueframe/api/jobs"
)

const workerHelp = `A worker node analyses the jobs of a shared database (and, with
--generator, runs its generator and training jobs) and does nothing
else: no API, no keys. Start any number beside any number of
'trueframe serve --database … --workers 0' API nodes:

  trueframe worker --database postgres://… --blobs s3://bucket?endpoint=…

It answers /healthz, /readyz (models loaded, database reachable) and
/metrics (queue depth read from the database) on --addr. A node that dies
mid-job leaves it to another node once --job-timeout has passed (River's
rescuer looks every 30 s); its attempt is counted. The provenance check of finished
analyses needs an external chain (--ledger-rpc); without one, reports say
the check was not available on this node.`

func cmdWorkerNode(fs *flag.FlagSet) action {
	var nf nodeFlags
	nf.register(fs, "local `directory`: the model registry and a cache of inputs")
	addr := fs.String("addr", "127.0.0.1:9090", "listen address of /healthz, /readyz and /metrics")
	useGenerator := fs.Bool("generator", false, "also run generator and training jobs, one at a time (their files are in the blob store: any such node takes any of them)")
	var lf ledgerFlags
	lf.registerChain(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usageError{errors.New("worker takes no arguments")}
		}
		if err := nf.check(); err != nil {
			return err
		}
		if nf.workers < 1 {
			return usageError{errors.New("--workers must be ≥ 1 on a worker node")}
		}
		n, err := nf.open(ctx)
		if err != nil {
			return err
		}
		defer n.Close()
		// The embedded chain is one node's: only an external one is the
		// same ledger the API nodes register originals on.
		var apiLedger api.Ledger
		if lf.rpcURL != "" {
			reg, err := n.openLedger(ctx, &lf, true)
			if err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
			apiLedger = reg
		}
		// Why the node is not ready; nil once its models are loaded.
		var notReady atomic.Pointer[error]
		setReady := func(err error) { notReady.Store(&err) }
		setReady(errors.New("loading the models"))
		var genRunner *jobs.Runner
		if *useGenerator {
			if genRunner, err = n.generatorRunner(nil); err != nil {
				return err
			}
		}
		if err := n.runJobs(ctx, n.analyses(nil, apiLedger, jobs.Options{}), genRunner, setReady); err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
			err := *notReady.Load()
			if err == nil {
				err = n.store.Ping(r.Context())
			}
			w.Header().Set("Content-Type", "application/json")
			if err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "{\"status\":\"not ready\",\"reason\":%q}\n", err.Error())
				return
			}
			fmt.Fprintln(w, `{"status":"ready"}`)
		})
		mux.Handle("GET /metrics", promhttp.HandlerFor(n.metrics.Registry, promhttp.HandlerOpts{}))
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		n.serveHTTP(ln, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, func() { setReady(errors.New("stopping")) })
		n.log.Info("worker node", "addr", "http://"+ln.Addr().String(), "workers", nf.workers, "distributed", nf.distributed(), "version", n.version)
		return n.Run(ctx)
	}
}
