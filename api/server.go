// Package api is trueframe's HTTP service: analyses submitted by upload,
// run by the job runner, read back as JSON reports, under API keys with
// roles, limits and Prometheus metrics. The routes are described by the
// OpenAPI document it serves at /v1/openapi.json.
package api

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
)

// Options configure a Server. Zero fields take the documented defaults.
type Options struct {
	DataDir        string        // the database, uploads being received; required
	MaxUploadBytes int64         // largest accepted file; default 2 GiB
	MaxWaiting     int           // queued + running jobs before 429; default 100
	RatePerSecond  float64       // requests per second per key; default 20
	TrustedProxies []string      // addresses or CIDRs whose X-Forwarded-For is believed; none by default
	RateBurst      int           // default 40
	MaxWait        time.Duration // cap of ?wait=N; default 60 s
	// UploadIdleTimeout ends an upload that sends nothing for this long;
	// default 30 s. UploadTimeout ends any upload that takes longer; default 30 min.
	UploadIdleTimeout time.Duration
	UploadTimeout     time.Duration
	// MinUploadRate (bytes per second) is the least an upload must average
	// over every UploadRateWindow, or it is ended with a 408: a client
	// trickling bytes would otherwise hold an upload slot until the total
	// timeout. Default 8 KiB/s over 20 s.
	MinUploadRate    int64
	UploadRateWindow time.Duration
	// MaxUploadsPerKey caps one key's uploads in progress (default 4), and
	// MaxQueuedPerKey its jobs waiting, queued or running, per route kind
	// (default 20), so that one key cannot take the slots MaxWaiting shares
	// between all. Both answer 429 with Retry-After.
	// OrphanAge is how old a blob without a job must be before the sweep
	// at start removes it (default 1 hour). An API node stores an upload
	// before it queues the job, and with several nodes one node's sweep
	// must not take the upload another is queueing: storing it takes at
	// most the upload timeout's order of time, then the insert follows.
	OrphanAge        time.Duration
	MaxUploadsPerKey int
	MaxQueuedPerKey  int
	Version          string
	// Ledger serves the provenance routes; nil answers them 503.
	Ledger Ledger
	// Generator runs the generator's jobs (kinds GeneratorKinds) on this
	// node; nil answers the generator routes 503, unless
	// GeneratorElsewhere: other nodes of a shared database run them.
	Generator          *jobs.Runner
	GeneratorElsewhere bool
	// Models serves the model routes; nil answers them 503.
	Models ModelRegistry
	// Blobs keeps the analyses' uploads and evidence. Nil: the directory
	// DataDir/blobs, opened by Prepare.
	Blobs *blobs.Store
}

func (o *Options) setDefaults() {
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 2 << 30
	}
	if o.MaxWaiting <= 0 {
		o.MaxWaiting = 100
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 20
	}
	if o.RateBurst <= 0 {
		o.RateBurst = 40
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 60 * time.Second
	}
	if o.UploadIdleTimeout <= 0 {
		o.UploadIdleTimeout = 30 * time.Second
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = 30 * time.Minute
	}
	if o.MinUploadRate <= 0 {
		o.MinUploadRate = 8 << 10
	}
	if o.UploadRateWindow <= 0 {
		o.UploadRateWindow = 20 * time.Second
	}
	if o.OrphanAge <= 0 {
		o.OrphanAge = time.Hour
	}
	if o.MaxUploadsPerKey <= 0 {
		o.MaxUploadsPerKey = 4
	}
	if o.MaxQueuedPerKey <= 0 {
		o.MaxQueuedPerKey = 20
	}
}

// Server is the HTTP front of the service. Its handler is safe for
// concurrent use.
type Server struct {
	opts    Options
	store   Store
	runner  Runner
	hooks   Webhooks
	metrics *metrics.Metrics
	log     *slog.Logger
	engine  *gin.Engine
	ledger  Ledger
	assets  map[string]webAsset // the browser interface, by file name
	blobs   *blobs.Store        // set by Prepare when the options have none

	generatorCancel func(id string) <-chan struct{}

	notReady  atomic.Pointer[string] // why the service is not ready; nil when ready
	closing   chan struct{}          // closed by Close: waits end, readiness is lost for good
	closeOnce sync.Once
	modelInfo *modelInfo // on the metrics registry while the server lives; nil without models

}

// New builds the server. It is not ready (readyz answers 503) until
// SetReady(nil) is called. Close it when done.
func New(st Store, runner Runner, hooks Webhooks, m *metrics.Metrics, log *slog.Logger, opts Options) *Server {
	opts.setDefaults()
	s := &Server{opts: opts, store: st, runner: runner, hooks: hooks, metrics: m, log: log, closing: make(chan struct{}),
		ledger: opts.Ledger, assets: loadWebAssets(), blobs: opts.Blobs}
	if opts.Generator != nil {
		s.generatorCancel = opts.Generator.Cancel
	}
	if opts.Models != nil && m != nil {
		s.modelInfo = newModelInfo(opts.Models)
		m.Registry.MustRegister(s.modelInfo)
	}
	starting := "models are loading"
	s.notReady.Store(&starting)
	s.engine = s.routes()
	return s
}

// SetReady marks the service ready (err == nil) or not, with the reason.
// A closed server stays not ready.
func (s *Server) SetReady(err error) {
	select {
	case <-s.closing:
		return
	default:
	}
	if err == nil {
		s.notReady.Store(nil)
		return
	}
	msg := err.Error()
	s.notReady.Store(&msg)
}

// Close ends the server's part in the service, before its HTTP server is
// shut down: readyz answers 503 from now on (a balancer stops sending
// requests), requests waiting for a job (?wait) are answered at once with
// the job as it is rather than holding the shutdown for up to MaxWait, and
// the model metric leaves the registry (so that another Server can
// register its own). The store, the runners and the webhook client are
// not closed: whoever made them does. Closing twice is harmless.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		why := "the service is shutting down"
		s.notReady.Store(&why)
		close(s.closing)
		if s.modelInfo != nil {
			s.metrics.Registry.Unregister(s.modelInfo)
		}
	})
	return nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// HTTPServer returns an http.Server for the handler with timeouts against
// slow clients. Uploads manage their own read deadlines (an idle timeout
// and a total one), so the server-wide ones only cover headers and
// ordinary requests.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) uploadDir() string { return filepath.Join(s.opts.DataDir, "uploads") }

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	// gin believes X-Forwarded-For from anyone by default, which lets any
	// client choose the address the logs record: only the configured
	// proxies are trusted (none by default). A list that does not parse
	// trusts none rather than all.
	if err := r.SetTrustedProxies(s.opts.TrustedProxies); err != nil {
		s.log.Error("trusted proxies: no proxy is trusted", "err", err)
		r.SetTrustedProxies(nil)
	}
	r.Use(s.requestContext, s.recover)
	r.NoRoute(s.handle(func(*gin.Context) (*result, error) { return nil, notFound("no such route") }))
	r.NoMethod(s.handle(func(*gin.Context) (*result, error) { return nil, errMethodNotAllowed }))

	r.GET("/", s.handle(s.web))
	r.GET("/assets/:name", s.handle(s.webAsset))
	r.GET("/healthz", s.handle(s.healthz))
	r.GET("/readyz", s.handle(s.readyz))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})))
	// The API's description is public: a client reads it before it has a key.
	r.GET("/v1/openapi.json", s.openAPI)

	// Everything else under /v1 needs a key.
	v1 := r.Group("/v1", s.guard(s.authenticate))
	v1.GET("/me", s.handle(s.me))
	scan := v1.Group("", s.requireRole(store.RoleAnalyst))
	scan.POST("/analyses", s.handle(s.createAnalysis))
	scan.GET("/analyses", s.handle(s.listAnalyses))
	scan.GET("/analyses/:id", s.handle(s.getAnalysis))
	scan.GET("/analyses/:id/evidence/:name", s.handle(s.getEvidence))
	scan.GET("/analyses/:id/file", s.handle(s.getUploadedFile))
	scan.DELETE("/analyses/:id", s.handle(s.deleteAnalysis))

	ledgerEnabled := s.guard(s.ledgerEnabled)
	v1.GET("/originals/:sha256", ledgerEnabled, s.handle(s.getOriginal))
	v1.POST("/verify", ledgerEnabled, s.handle(s.verifyFile))
	v1.GET("/verify/:id", ledgerEnabled, s.handle(s.getVerification))
	registrar := v1.Group("", s.requireRole(store.RoleRegistrar), ledgerEnabled)
	registrar.POST("/originals", s.handle(s.registerOriginal))
	registrar.DELETE("/originals/:sha256", s.handle(s.revokeOriginal))

	gen := v1.Group("/generator", s.requireRole(store.RoleRegistrar), s.guard(s.generatorEnabled))
	gen.POST("/jobs", s.handle(s.createGeneratorJob))
	gen.GET("/jobs", s.handle(s.listGeneratorJobs))
	gen.GET("/jobs/:id", s.handle(s.getGeneratorJob))
	gen.GET("/jobs/:id/artifacts/*name", s.handle(s.getArtifact))
	gen.DELETE("/jobs/:id", s.handle(s.deleteGeneratorJob))
	v1.POST("/training-jobs", s.requireRole(store.RoleAdmin), s.guard(s.generatorEnabled), s.handle(s.createTrainingJob))

	models := v1.Group("/models", s.guard(s.modelsEnabled))
	models.GET("", s.requireRole(store.RoleAnalyst), s.handle(s.listModels))
	models.GET("/:id", s.requireRole(store.RoleAnalyst), s.handle(s.getModel))
	models.POST("/:id/activate", s.requireRole(store.RoleAdmin), s.handle(s.activateModel))

	admin := v1.Group("", s.requireRole(store.RoleAdmin))
	admin.POST("/keys", s.handle(s.createKey))
	admin.GET("/keys", s.handle(s.listKeys))
	admin.DELETE("/keys/:id", s.handle(s.revokeKey))
	return r
}

func (s *Server) generatorEnabled(*gin.Context) error {
	if s.generatorCancel == nil && !s.opts.GeneratorElsewhere {
		return errGeneratorUnavailable
	}
	return nil
}

func (s *Server) healthz(*gin.Context) (*result, error) { return ok200(gin.H{"status": "ok"}), nil }

func (s *Server) readyz(c *gin.Context) (*result, error) {
	if why := s.notReady.Load(); why != nil {
		return nil, refuse(errNotReady, *why)
	}
	ctx, cancel := context.WithTimeout(c, 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error("readiness: the database does not answer", "err", err)
		return nil, refuse(errNotReady, "the database does not answer")
	}
	return ok200(gin.H{"status": "ready", "version": s.opts.Version}), nil
}
