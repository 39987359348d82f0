package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// ErrorBody is the one shape of every error answer:
//
//	{"error": {"code": "queue_full", "message": "..."}}
//
// code is stable and meant for programs; message is for people.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// Error codes, by status.
const (
	codeBadRequest       = "bad_request"            // 400
	codeInvalidCallback  = "invalid_callback_url"   // 400
	codeIncompleteUpload = "incomplete_upload"      // 400
	codeMissingKey       = "missing_key"            // 401
	codeInvalidKey       = "invalid_key"            // 401
	codeForbidden        = "forbidden"              // 403
	codeNotFound         = "not_found"              // 404
	codeMethod           = "method_not_allowed"     // 405
	codeUploadTimeout    = "upload_timeout"         // 408
	codeUploadTooSlow    = "upload_too_slow"        // 408
	codeModelDamaged     = "model_damaged"          // 409
	codeTooLarge         = "too_large"              // 413
	codeUnsupportedMedia = "unsupported_media_type" // 415
	codeQueueFull        = "queue_full"             // 429
	codeRateLimited      = "rate_limited"           // 429
	codeTooManyUploads   = "too_many_uploads"       // 429
	codeInternal         = "internal"               // 500
	codeNotReady         = "not_ready"              // 503
)

// fail aborts the request with an error answer.
func fail(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, ErrorBody{ErrorDetail{Code: code, Message: message, RequestID: c.GetString(ctxRequestID)}})
}

// failRetry is fail with a Retry-After header.
func failRetry(c *gin.Context, status int, code, message string, after time.Duration) {
	secs := int(after.Round(time.Second) / time.Second)
	c.Header("Retry-After", strconv.Itoa(max(secs, 1)))
	fail(c, status, code, message)
}

// internalError logs err and answers 500 without exposing it.
func (s *Server) internalError(c *gin.Context, what string, err error) {
	s.log.Error(what, "err", err, "request_id", c.GetString(ctxRequestID))
	fail(c, http.StatusInternalServerError, codeInternal, "internal error ("+what+"); the request id is in the logs")
}
