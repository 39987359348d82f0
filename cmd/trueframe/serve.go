package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/trueframe/trueframe/api"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

func cmdServe(fs *flag.FlagSet) action {
	var nf nodeFlags
	nf.register(fs, "data directory: database, uploads, evidence")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	maxUpload := fs.String("max-upload", "2GiB", "largest upload accepted")
	maxWaiting := fs.Int("max-waiting", 100, "queued+running jobs before new uploads get 429")
	minRate := fs.String("min-upload-rate", "8KiB", "bytes per second an upload must average over every --upload-rate-window, or it is ended (408)")
	rateWindow := fs.Duration("upload-rate-window", 20*time.Second, "window over which --min-upload-rate is measured")
	keyUploads := fs.Int("max-uploads-per-key", 4, "uploads one key may have in progress (429 beyond)")
	keyQueued := fs.Int("max-queued-per-key", 20, "jobs one key may have queued or running, per kind (429 beyond)")
	ratePerS := fs.Float64("rate", 20, "requests per second allowed per key")
	burst := fs.Int("burst", 40, "burst of requests allowed per key")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: none")
	hookHosts := fs.String("webhook-hosts", "", "comma-separated hosts webhooks may call (\"*.example.org\" for subdomains); empty: any public host")
	orphanAge := fs.Duration("orphan-age", time.Hour, "at start, remove stored files of no job that are older than this (a node that died between storing an upload and queueing it)")
	example := fs.String("example-file", "", "video named in the printed curl example")
	useLedger := fs.Bool("ledger", true, "serve the provenance ledger")
	useGenerator := fs.Bool("generator", true, "run generator and training jobs, one at a time (with a shared --database, any such node takes any of them)")
	var lf ledgerFlags
	lf.registerChain(fs)
	return func(ctx context.Context, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("serve takes no arguments")}
		}
		uploadLimit, err := parseBytes(*maxUpload)
		if err != nil || uploadLimit <= 0 {
			return usageError{fmt.Errorf("--max-upload %q: want a size such as 500MiB", *maxUpload)}
		}
		uploadRate, err := parseBytes(*minRate)
		if err != nil || uploadRate <= 0 || *rateWindow <= 0 {
			return usageError{fmt.Errorf("--min-upload-rate %q and --upload-rate-window %s: want a size such as 8KiB and a positive duration", *minRate, *rateWindow)}
		}
		if err := nf.check(); err != nil {
			return err
		}
		if *maxWaiting < 1 || *ratePerS <= 0 || *burst < 1 || *keyUploads < 1 || *keyQueued < 1 {
			return usageError{errors.New("--max-waiting, --burst, --max-uploads-per-key, --max-queued-per-key must be ≥ 1 and --rate positive")}
		}
		trustedProxies, err := parseProxies(*proxies)
		if err != nil {
			return usageError{fmt.Errorf("--trusted-proxies: %w", err)}
		}
		n, err := nf.open(ctx)
		if err != nil {
			return err
		}
		defer n.Close()
		firstKey, err := firstAdminKey(ctx, n.store)
		if err != nil {
			return err
		}
		var hosts []string
		for _, h := range strings.Split(*hookHosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		hooks := webhook.New(webhook.Options{AllowedHosts: hosts})

		// The provenance ledger, embedded by default. Without it the service
		// still analyses; the provenance routes answer 503.
		var apiLedger api.Ledger
		if *useLedger {
			if reg, err := n.openLedger(ctx, &lf, false); err != nil {
				n.log.Error("provenance ledger unavailable; serving analyses without it", "err", err)
			} else {
				apiLedger = reg
			}
		}
		var genRunner *jobs.Runner
		if *useGenerator {
			if genRunner, err = n.generatorRunner(hooks); err != nil {
				return err
			}
		}
		var srv *api.Server
		runner := n.analyses(hooks, apiLedger, jobs.Options{Payload: func(j store.Job) ([]byte, error) { return srv.WebhookBody(j) }})
		srv = api.New(n.store, runner, hooks, n.metrics, n.log, api.Options{DataDir: n.dataDir, Blobs: n.blobs, Models: n.models,
			MaxUploadBytes: uploadLimit, MaxWaiting: *maxWaiting, RatePerSecond: *ratePerS, RateBurst: *burst, TrustedProxies: trustedProxies,
			MinUploadRate: uploadRate, UploadRateWindow: *rateWindow, MaxUploadsPerKey: *keyUploads, MaxQueuedPerKey: *keyQueued,
			Version: n.version, Ledger: apiLedger, OrphanAge: *orphanAge, Generator: genRunner,
			// With a shared database, other nodes may run the generator
			// jobs this one receives.
			GeneratorElsewhere: nf.distributed()})
		if err := n.runJobs(ctx, runner, genRunner, srv.SetReady); err != nil {
			return err
		}
		if err := srv.Prepare(ctx); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		// Close first: readiness turns 503 and requests waiting on ?wait are
		// answered now, so that draining does not wait out their long polls.
		n.serveHTTP(ln, srv.HTTPServer(*addr), func() { srv.Close() })
		url := "http://" + ln.Addr().String()
		printWelcome(os.Stdout, url, firstKey, *example)
		n.log.Info("serving", "url", url, "data", n.dataDir, "workers", nf.workers, "distributed", nf.distributed(), "version", n.version)
		return n.Run(ctx)
	}
}

// firstAdminKey creates an admin key when the database has no key at all
// (revoked ones count: revoking every key must not mint a new one on the
// next start), so that a fresh installation can be used at once. It
// returns the token, or "" when keys existed.
func firstAdminKey(ctx context.Context, st *store.Store) (string, error) {
	n, err := st.CountAllKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	_, token, err := st.NewKey(ctx, "first admin", store.RoleAdmin)
	return token, err
}

func printWelcome(w io.Writer, url, firstKey, example string) {
	key := "$TRUEFRAME_KEY"
	if firstKey != "" {
		fmt.Fprintf(w, "\nCreated the first admin key. It is shown only now; keep it:\n\n  export TRUEFRAME_KEY=%s\n", firstKey)
	} else {
		fmt.Fprintf(w, "\n(Set TRUEFRAME_KEY to your API key; create one with: trueframe keys create --role analyst)\n")
	}
	if example == "" {
		example = "video.mp4"
	}
	fmt.Fprintf(w, `
trueframe is serving at %[1]s  (API description: %[1]s/v1/openapi.json)
Analyse a video and wait up to 60 s for the report:

  curl -sS -H "Authorization: Bearer %[2]s" -F file=@%[3]s "%[1]s/v1/analyses?wait=60"

or open %[1]s/ in a browser and paste the key there.

`, url, key, example)
}

// storeCounts adapts the store's job counts to the metrics package.
type storeCounts struct{ st *store.Store }

func (s storeCounts) Counts(ctx context.Context) (map[string]int, error) {
	c, err := s.st.Counts(ctx)
	out := make(map[string]int, len(c))
	for k, v := range c {
		out[string(k)] = v
	}
	return out, err
}

// parseProxies reads a comma-separated list of addresses and CIDRs.
func parseProxies(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR", p)
			}
		}
		out = append(out, p)
	}
	return out, nil
}
