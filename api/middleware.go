package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/store"
)

// Keys of values kept in the gin context.
const (
	ctxRequestID = "request_id"
	ctxKey       = "api_key"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestContext gives every request an id (the client's X-Request-Id when
// it is sane), ordinary read/write deadlines, a log line and its metrics.
func (s *Server) requestContext(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 8)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	// Ordinary requests are small; uploads and waits extend these. A read
	// deadline is set only when there is a body to read: on a bodyless
	// request net/http keeps reading in the background, and an expiring
	// deadline there would cancel the request's context (a long ?wait).
	rc := http.NewResponseController(c.Writer)
	if c.Request.ContentLength != 0 {
		rc.SetReadDeadline(start.Add(30 * time.Second))
	}
	rc.SetWriteDeadline(start.Add(60 * time.Second))

	c.Next()

	// Every label comes from a bounded set, never from the client: each new
	// label value is a time series kept for the life of the process, and
	// invented methods or paths would grow memory without bound.
	route := c.FullPath() // the matched route's template
	if route == "" {
		route = "unmatched"
	}
	method := metricMethod(c.Request.Method)
	status := c.Writer.Status()
	elapsed := time.Since(start)
	s.metrics.Requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	s.metrics.RequestSeconds.WithLabelValues(route, method).Observe(elapsed.Seconds())
	attrs := []any{"request_id", id, "method", method, "route", route, "status", status,
		"ms", float64(elapsed.Microseconds()) / 1000, "remote", c.ClientIP()}
	if method == "other" {
		attrs = append(attrs, "raw_method", truncate(c.Request.Method, 32))
	}
	if k, ok := c.Get(ctxKey); ok {
		attrs = append(attrs, "key_id", k.(store.Key).ID)
	}
	if job := c.GetString("job_id"); job != "" {
		attrs = append(attrs, "job_id", job)
	}
	if status >= 500 {
		s.log.Error("request", attrs...)
	} else {
		s.log.Info("request", attrs...)
	}
}

// metricMethod maps a request's method to a label: the standard methods
// by name, anything else "other".
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// recover turns a handler panic into a 500 answer; the server keeps going.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.respondError(c, fmt.Errorf("handler panic: %v", v))
		}
	}()
	c.Next()
}

// authenticate requires a valid API key (Authorization: Bearer tf_...) and
// applies the key's rate limit.
func (s *Server) authenticate(c *gin.Context) error {
	h := c.GetHeader("Authorization")
	if h == "" {
		c.Header("WWW-Authenticate", `Bearer realm="trueframe"`)
		return errMissingKey
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		c.Header("WWW-Authenticate", `Bearer realm="trueframe"`)
		return refuse(errInvalidKey, "the Authorization header must be: Bearer <key>")
	}
	key, err := s.store.Authenticate(c, strings.TrimSpace(token))
	if errors.Is(err, store.ErrBadToken) {
		c.Header("WWW-Authenticate", `Bearer realm="trueframe", error="invalid_token"`)
		return err
	}
	if err != nil {
		return fmt.Errorf("checking the API key: %w", err)
	}
	c.Set(ctxKey, key)
	// The key's bucket is in the database, so that the limit holds across
	// every API node; a refused request does not use up a token.
	ok, delay, err := s.store.TakeToken(c, key.ID, s.opts.RatePerSecond, s.opts.RateBurst)
	if err != nil {
		return fmt.Errorf("checking the rate limit: %w", err)
	}
	if !ok {
		return refuseRetry(errRateLimited, fmt.Sprintf("rate limit of %g requests per second exceeded", s.opts.RatePerSecond), delay)
	}
	return nil
}

// requireRole lets through keys with the given role, and admins.
func (s *Server) requireRole(role store.Role) gin.HandlerFunc {
	return s.guard(func(c *gin.Context) error {
		if key := callerKey(c); key.Role != role && key.Role != store.RoleAdmin {
			return refuse(errForbidden, fmt.Sprintf("this needs a key with the %s role; yours is %s", role, key.Role))
		}
		return nil
	})
}

func callerKey(c *gin.Context) store.Key {
	k, _ := c.Get(ctxKey)
	key, _ := k.(store.Key)
	return key
}
