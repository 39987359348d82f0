package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes every route; a test checks it against the router.
//
//go:embed openapi.json
var openAPIDoc []byte

// webPage is the browser interface: one self-contained page (no scripts
// from elsewhere) that calls the API with the user's key.
//
//go:embed web/index.html
var webPage []byte

func (s *Server) web(c *gin.Context) {
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("X-Frame-Options", "DENY")
	c.Data(http.StatusOK, "text/html; charset=utf-8", webPage)
}

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
