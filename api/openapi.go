package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes every route. Tests hold the router to it, and
// validate against it every answer the api tests receive.
//
//go:embed openapi.json
var openAPIDoc []byte

// GET /v1/openapi.json, without a key: a client reads it before it has one.
func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
