package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// apiFunc is a route's logic: it returns the answer, or an error that
// respondError turns into the one error shape. It writes nothing itself,
// except through a result's write function.
type apiFunc func(c *gin.Context) (*result, error)

// result is a successful answer.
type result struct {
	status int
	body   any // sent as JSON, unless status is 204
	// write, when set, writes the answer instead (a file, a range of one,
	// a page), and status and body are unused.
	write func(c *gin.Context)
}

func ok200(body any) *result   { return &result{status: http.StatusOK, body: body} }
func created(body any) *result { return &result{status: http.StatusCreated, body: body} }
func accepted(body any) *result {
	return &result{status: http.StatusAccepted, body: body}
}
func noContent() *result { return &result{status: http.StatusNoContent} }

// written is a result that writes the answer itself.
func written(write func(c *gin.Context)) *result { return &result{write: write} }

// handle adapts an apiFunc to gin: the one place where answers are
// written.
func (s *Server) handle(f apiFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		res, err := f(c)
		if err != nil {
			s.respondError(c, err)
			return
		}
		respond(c, res)
	}
}

// guard adapts a check run before a route's handler (a key, a role, an
// enabled feature): an error ends the request with its answer.
func (s *Server) guard(check func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := check(c); err != nil {
			s.respondError(c, err)
		}
	}
}

func respond(c *gin.Context, res *result) {
	switch {
	case res == nil:
		c.Status(http.StatusNoContent)
	case res.write != nil:
		res.write(c)
	case res.status == http.StatusNoContent || res.body == nil:
		c.Status(res.status)
	default:
		c.JSON(res.status, res.body)
	}
}

// respondError answers err in the one error shape, with the code and
// status replyTo gives it, and logs what the client is not told.
func (s *Server) respondError(c *gin.Context, err error) {
	r := replyTo(err)
	id := c.GetString(ctxRequestID)
	if r.log {
		s.log.Error("request failed", "err", err, "code", r.code, "request_id", id)
	}
	if r.retryAfter > 0 {
		secs := int(r.retryAfter.Round(time.Second) / time.Second)
		c.Header("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	if r.status == http.StatusRequestEntityTooLarge || r.status == http.StatusRequestTimeout {
		// The rest of the body will not be read: close the connection
		// rather than drain gigabytes.
		c.Header("Connection", "close")
	}
	// An error can end an upload that outlasted the ordinary write
	// deadline: the answer gets time of its own.
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(30 * time.Second))
	c.AbortWithStatusJSON(r.status, ErrorBody{ErrorDetail{Code: r.code, Message: r.message, RequestID: id}})
}
