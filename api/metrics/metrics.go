// Package metrics holds the service's Prometheus metrics, in a registry of
// its own (never the global default one), so that tests and several
// servers in one process do not collide.
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "trueframe"

// Metrics are the service's instruments.
type Metrics struct {
	Registry *prometheus.Registry

	Requests       *prometheus.CounterVec   // by route, method, code
	RequestSeconds *prometheus.HistogramVec // by route, method
	UploadBytes    prometheus.Counter
	JobSeconds     *prometheus.HistogramVec // by kind (analysis, generate.*) and outcome: done, failed
	WorkerCrashes  prometheus.Counter
	DetectorScores *prometheus.HistogramVec // by detector and its version
	VideoScores    *prometheus.HistogramVec // by fusion version
	Webhooks       *prometheus.CounterVec   // by outcome: delivered, retry, failed
}

// JobCounter reports how many jobs are in each state; the store implements
// it, and it is read at scrape time so that the numbers are never stale.
type JobCounter interface {
	Counts(ctx context.Context) (map[string]int, error)
}

// New registers every metric. version goes into trueframe_build_info.
func New(version string, jobs JobCounter, log *slog.Logger) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route and method (uploads included).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"}),
		UploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "upload_bytes_total",
			Help: "Bytes of uploaded media stored.",
		}),
		JobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "job_duration_seconds",
			Help: "Time from a job's last start to its end, by kind and outcome.",
			// 0.5 s … 6 days: analyses take seconds to minutes, generator
			// jobs hours.
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 21),
		}, []string{"kind", "outcome"}),
		WorkerCrashes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "worker_crashes_total",
			Help: "Worker subprocesses that died (signal, out of memory, panic) instead of answering.",
		}),
		DetectorScores: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "detector_score",
			Help:    "Scores of each detector on the deciding face of each analysed video, by detector and its model or code version.",
			Buckets: prometheus.LinearBuckets(0.1, 0.1, 9),
		}, []string{"detector", "version"}),
		VideoScores: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "video_score",
			Help:    "Fused manipulation scores of analysed videos, by fusion version.",
			Buckets: prometheus.LinearBuckets(0.1, 0.1, 9),
		}, []string{"fusion_version"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome.",
		}, []string{"outcome"}),
	}
	m.Registry.MustRegister(m.Requests, m.RequestSeconds, m.UploadBytes, m.JobSeconds, m.WorkerCrashes,
		m.DetectorScores, m.VideoScores, m.Webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "build_info",
			Help:        "The trueframe version serving, as a label; always 1.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
		&jobCollector{jobs: jobs, log: log})
	return m
}

var (
	jobsDesc  = prometheus.NewDesc(namespace+"_jobs", "Jobs in the store by state.", []string{"state"}, nil)
	queueDesc = prometheus.NewDesc(namespace+"_queue_depth", "Jobs waiting for a worker.", nil, nil)
)

// jobCollector reads the job counts from the store at scrape time.
type jobCollector struct {
	jobs JobCounter
	log  *slog.Logger
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- queueDesc
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.jobs.Counts(ctx)
	if err != nil {
		c.log.Warn("metrics: counting jobs", "err", err)
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(counts["queued"]))
}
