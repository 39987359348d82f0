package api

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// webFiles are the browser interface: one page, its script, style sheet and
// icon, all served by the binary (no scripts from elsewhere). The page calls
// only the public API, with the user's key.
//
//go:embed web
var webFiles embed.FS

// contentSecurityPolicy lets the page run only its own script and style
// sheet (no inline code at all), load images and media only from this
// server or from blob: URLs it made itself (evidence images fetched with the
// key, the video being analysed), and talk to this server only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webAsset is one file of the interface, ready to serve.
type webAsset struct {
	body        []byte
	contentType string
	etag        string
}

// loadWebAssets reads the embedded interface once, at start.
func loadWebAssets() map[string]webAsset {
	types := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	assets := map[string]webAsset{}
	entries, _ := fs.ReadDir(webFiles, "web")
	for _, e := range entries {
		ct, ok := types[path.Ext(e.Name())]
		if !ok || e.IsDir() {
			continue
		}
		b, err := webFiles.ReadFile("web/" + e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		assets[e.Name()] = webAsset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return assets
}

// serveAsset answers with an asset, or 304 when the browser has it.
func serveAsset(c *gin.Context, a webAsset) {
	c.Header("Content-Security-Policy", contentSecurityPolicy)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Referrer-Policy", "no-referrer")
	// Revalidated on each load, so that an upgraded service never runs
	// with a stale script; the ETag makes that cheap.
	c.Header("Cache-Control", "no-cache")
	c.Header("ETag", a.etag)
	if c.GetHeader("If-None-Match") == a.etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.contentType, a.body)
}

// GET /
func (s *Server) web(*gin.Context) (*result, error) {
	page := s.assets["index.html"]
	return written(func(c *gin.Context) { serveAsset(c, page) }), nil
}

// GET /assets/{name}: the page's script, style sheet and icon.
func (s *Server) webAsset(c *gin.Context) (*result, error) {
	name := c.Param("name")
	a, ok := s.assets[name]
	if !ok || name == "index.html" || strings.Contains(name, "/") {
		return nil, notFound("no such asset")
	}
	return written(func(c *gin.Context) { serveAsset(c, a) }), nil
}
