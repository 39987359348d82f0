package api

import (
	"errors"
	"net/http"

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

func (s *Server) modelsEnabled(c *gin.Context) {
	if s.opts.Models == nil {
		fail(c, http.StatusServiceUnavailable, codeNotReady, "this service runs without a model registry")
		return
	}
	c.Next()
}

func (s *Server) listModels(c *gin.Context) {
	list, err := s.opts.Models.List()
	if err != nil {
		s.internalError(c, "listing the models", err)
		return
	}
	active, err := s.opts.Models.Active()
	if err != nil {
		s.internalError(c, "reading the active models", err)
		return
	}
	out := make([]ModelVersion, 0, len(list))
	for _, e := range list {
		out = append(out, ModelVersion{Entry: e, Active: active[e.Kind] == e.ID})
	}
	c.JSON(http.StatusOK, gin.H{"models": out, "active": active})
}

func (s *Server) getModel(c *gin.Context) {
	e, err := s.opts.Models.Get(c.Param("id"))
	if errors.Is(err, registry.ErrNotFound) {
		fail(c, http.StatusNotFound, codeNotFound, "no model version with this id")
		return
	}
	if err != nil {
		s.internalError(c, "reading a model", err)
		return
	}
	active, err := s.opts.Models.Active()
	if err != nil {
		s.internalError(c, "reading the active models", err)
		return
	}
	c.JSON(http.StatusOK, ModelVersion{Entry: e, Active: active[e.Kind] == e.ID})
}

// activateModel makes a version active: analyses that start afterwards run
// it, those running finish on the version they started with.
func (s *Server) activateModel(c *gin.Context) {
	e, err := s.opts.Models.Activate(c.Param("id"))
	var ce *registry.ChecksumError
	switch {
	case errors.Is(err, registry.ErrNotFound):
		fail(c, http.StatusNotFound, codeNotFound, "no model version with this id")
		return
	case errors.As(err, &ce):
		fail(c, http.StatusConflict, codeModelDamaged, "this model version's files no longer match their recorded sha256; it cannot be activated")
		return
	case err != nil:
		s.internalError(c, "activating a model", err)
		return
	}
	s.log.Info("model activated", "kind", e.Kind, "version", e.ID, "by", callerKey(c).ID)
	c.JSON(http.StatusOK, ModelVersion{Entry: e, Active: true})
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
