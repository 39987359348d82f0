package api

import (
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trueframe/trueframe/models/registry"
)

// ModelRegistry is what the model routes need of the model registry.
type ModelRegistry interface {
	List() ([]registry.Entry, error)
	Get(id string) (registry.Entry, error)
	Active() (map[string]string, error)
	Activate(id string) (registry.Entry, error)
}

// ModelVersion is a model version as the API shows it.
type ModelVersion struct {
	registry.Entry
	Active bool `json:"active"`
}

func (s *Server) modelsEnabled(*gin.Context) error {
	if s.opts.Models == nil {
		return refuse(errNotReady, "this service runs without a model registry")
	}
	return nil
}

func (s *Server) listModels(*gin.Context) (*result, error) {
	list, err := s.opts.Models.List()
	if err != nil {
		return nil, fmt.Errorf("listing the models: %w", err)
	}
	active, err := s.opts.Models.Active()
	if err != nil {
		return nil, fmt.Errorf("reading the active models: %w", err)
	}
	out := make([]ModelVersion, 0, len(list))
	for _, e := range list {
		out = append(out, ModelVersion{Entry: e, Active: active[e.Kind] == e.ID})
	}
	return ok200(gin.H{"models": out, "active": active}), nil
}

func (s *Server) getModel(c *gin.Context) (*result, error) {
	e, err := s.opts.Models.Get(c.Param("id"))
	if err != nil {
		// registry.ErrNotFound is a 404; replyTo knows it.
		return nil, fmt.Errorf("reading a model: %w", err)
	}
	active, err := s.opts.Models.Active()
	if err != nil {
		return nil, fmt.Errorf("reading the active models: %w", err)
	}
	return ok200(ModelVersion{Entry: e, Active: active[e.Kind] == e.ID}), nil
}

// activateModel makes a version active: analyses that start afterwards run
// it, those running finish on the version they started with. A missing
// version (registry.ErrNotFound) and a damaged one (*registry.ChecksumError)
// are answered by replyTo.
func (s *Server) activateModel(c *gin.Context) (*result, error) {
	e, err := s.opts.Models.Activate(c.Param("id"))
	if err != nil {
		return nil, fmt.Errorf("activating a model: %w", err)
	}
	s.log.Info("model activated", "kind", e.Kind, "version", e.ID, "by", callerKey(c).ID)
	return ok200(ModelVersion{Entry: e, Active: true}), nil
}

// modelInfo exports trueframe_model_info{kind,version} = 1 for each active
// model version, read from the registry at every scrape so that an
// activation shows without a restart.
type modelInfo struct {
	models ModelRegistry
	desc   *prometheus.Desc
}

func newModelInfo(m ModelRegistry) *modelInfo {
	return &modelInfo{models: m, desc: prometheus.NewDesc("trueframe_model_info",
		"The model versions new analyses run (1 for each active version).", []string{"kind", "version"}, nil)}
}

func (m *modelInfo) Describe(ch chan<- *prometheus.Desc) { ch <- m.desc }

func (m *modelInfo) Collect(ch chan<- prometheus.Metric) {
	active, err := m.models.Active()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.desc, err)
		return
	}
	for kind, id := range active {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, 1, kind, id)
	}
}
