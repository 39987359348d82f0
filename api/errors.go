package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/models/registry"
)

// ErrorBody is the one shape of every error answer:
//
//	{"error": {"code": "queue_full", "message": "...", "request_id": "..."}}
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

// Error codes: the one list of the codes an error answer carries, with the
// status each comes with. errorCodes returns it, replyTo is the only
// function that picks one, and a test checks the list against the OpenAPI
// document's enum.
const (
	codeBadRequest           = "bad_request"            // 400
	codeInvalidCallback      = "invalid_callback_url"   // 400
	codeIncompleteUpload     = "incomplete_upload"      // 400
	codeMissingKey           = "missing_key"            // 401
	codeInvalidKey           = "invalid_key"            // 401
	codeForbidden            = "forbidden"              // 403
	codeNotFound             = "not_found"              // 404
	codeMethod               = "method_not_allowed"     // 405
	codeUploadTimeout        = "upload_timeout"         // 408
	codeUploadTooSlow        = "upload_too_slow"        // 408
	codeAlreadyRegistered    = "already_registered"     // 409
	codeAlreadyRevoked       = "already_revoked"        // 409
	codeChainRefused         = "chain_refused"          // 409: the registry contract reverted
	codeModelDamaged         = "model_damaged"          // 409
	codeTooLarge             = "too_large"              // 413
	codeUnsupportedMedia     = "unsupported_media_type" // 415
	codeUnprocessable        = "unprocessable_video"    // 422: the file could not be decoded
	codeQueueFull            = "queue_full"             // 429
	codeRateLimited          = "rate_limited"           // 429
	codeTooManyUploads       = "too_many_uploads"       // 429
	codeCanceled             = "canceled"               // 499: the client left; logged and counted, never received
	codeInternal             = "internal"               // 500
	codeNotReady             = "not_ready"              // 503
	codeLedgerUnavailable    = "ledger_unavailable"     // 503
	codeGeneratorUnavailable = "generator_unavailable"  // 503
)

// errorCodes lists every code above, for the test that holds the OpenAPI
// document to it.
func errorCodes() []string {
	return []string{codeBadRequest, codeInvalidCallback, codeIncompleteUpload, codeMissingKey, codeInvalidKey,
		codeForbidden, codeNotFound, codeMethod, codeUploadTimeout, codeUploadTooSlow, codeAlreadyRegistered,
		codeAlreadyRevoked, codeChainRefused, codeModelDamaged, codeTooLarge, codeUnsupportedMedia, codeUnprocessable,
		codeQueueFull, codeRateLimited, codeTooManyUploads, codeCanceled, codeInternal, codeNotReady,
		codeLedgerUnavailable, codeGeneratorUnavailable}
}

// statusClientClosed is what a request whose client went away is logged
// and counted with (nginx's convention); nobody receives it, but the logs
// and metrics must not count it as a server error.
const statusClientClosed = 499

// The API's own kinds of refusal. A handler returns one wrapped with a
// message for the client (refuse, badRequest, notFound); replyTo maps the
// kind to its code and status.
var (
	errBadRequest           = errors.New("bad request")
	errIncompleteUpload     = errors.New("incomplete upload")
	errMissingKey           = errors.New("missing API key")
	errInvalidKey           = errors.New("invalid API key")
	errForbidden            = errors.New("forbidden")
	errNotFound             = errors.New("not found")
	errMethodNotAllowed     = errors.New("method not allowed")
	errUploadTimeout        = errors.New("upload took too long")
	errUploadTooSlow        = errors.New("upload too slow")
	errTooLarge             = errors.New("too large")
	errUnsupportedMedia     = errors.New("unsupported media type")
	errQueueFull            = errors.New("queue full")
	errRateLimited          = errors.New("rate limited")
	errTooManyUploads       = errors.New("too many uploads")
	errNotReady             = errors.New("not ready")
	errLedgerUnavailable    = errors.New("ledger unavailable")
	errGeneratorUnavailable = errors.New("generator unavailable")
)

// clientError gives an error a message meant for the client, and
// optionally a Retry-After. Its code and status come from the error it
// wraps.
type clientError struct {
	err        error
	message    string
	retryAfter time.Duration
}

func (e *clientError) Error() string { return e.message }
func (e *clientError) Unwrap() error { return e.err }

// refuse is err (one of the kinds above, or a sentinel replyTo knows)
// told to the client as message.
func refuse(err error, message string) error { return &clientError{err: err, message: message} }

// refuseRetry is refuse with a Retry-After.
func refuseRetry(err error, message string, after time.Duration) error {
	return &clientError{err: err, message: message, retryAfter: after}
}

func badRequest(format string, args ...any) error {
	return refuse(errBadRequest, fmt.Sprintf(format, args...))
}

func notFound(message string) error { return refuse(errNotFound, message) }

// ledgerFailure marks an error as the ledger's: one that replyTo does not
// recognise is then taken as the node being unreachable (503, retry)
// rather than as a fault of the service (500).
type ledgerFailure struct{ err error }

func (e *ledgerFailure) Error() string { return "ledger: " + e.err.Error() }
func (e *ledgerFailure) Unwrap() error { return e.err }

// fromLedger marks err (nil stays nil) as the ledger's.
func fromLedger(err error) error {
	if err == nil {
		return nil
	}
	return &ledgerFailure{err}
}

// reply is what an error becomes on the wire.
type reply struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration // > 0: sent as Retry-After
	// log: the cause is the service's or its dependency's, and only the
	// logs get its details (which can hold paths and a node's RPC URL).
	log bool
}

// replyTo maps an error to its answer. It is the one place that decides
// codes and statuses, and it never shows an error's own text unless that
// text is meant for clients: a clientError's message, a callback URL's
// fault, a contract's revert reason, or the fingerprinter's reason (whose
// paths the handler has replaced by the client's file name, see
// forClient). Everything else gets a fixed message.
func replyTo(err error) reply {
	r := classify(err)
	var ce *clientError
	if errors.As(err, &ce) {
		r.message = ce.message
		if ce.retryAfter > 0 {
			r.retryAfter = ce.retryAfter
		}
	}
	return r
}

// classify is replyTo before a clientError's message and retry apply.
func classify(err error) reply {
	var (
		revert   *chain.RevertError
		reported *isolate.Error
		checksum *registry.ChecksumError
		maxBytes *http.MaxBytesError
		lf       *ledgerFailure
	)
	switch {
	case errors.Is(err, context.Canceled):
		return reply{status: statusClientClosed, code: codeCanceled, message: "the request was cancelled"}

	case errors.Is(err, errBadRequest):
		return reply{status: http.StatusBadRequest, code: codeBadRequest, message: "bad request"}
	case errors.Is(err, chain.ErrMetaTooLong):
		return reply{status: http.StatusBadRequest, code: codeBadRequest, message: "meta or reason is too long for the chain"}
	case errors.Is(err, webhook.ErrURL):
		return reply{status: http.StatusBadRequest, code: codeInvalidCallback, message: err.Error()}
	case errors.Is(err, errIncompleteUpload):
		return reply{status: http.StatusBadRequest, code: codeIncompleteUpload, message: "the upload stopped before its end"}

	case errors.Is(err, errMissingKey):
		return reply{status: http.StatusUnauthorized, code: codeMissingKey, message: "an API key is required: Authorization: Bearer <key>"}
	case errors.Is(err, errInvalidKey), errors.Is(err, store.ErrBadToken):
		return reply{status: http.StatusUnauthorized, code: codeInvalidKey, message: "the API key is not valid (unknown, wrong or revoked)"}
	case errors.Is(err, errForbidden):
		return reply{status: http.StatusForbidden, code: codeForbidden, message: "this key may not do this"}

	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		return reply{status: http.StatusNotFound, code: codeNotFound, message: "not found"}
	case errors.Is(err, registry.ErrNotFound):
		return reply{status: http.StatusNotFound, code: codeNotFound, message: "no model version with this id"}
	case errors.Is(err, ledger.ErrNotRegistered):
		return reply{status: http.StatusNotFound, code: codeNotFound, message: "no original with this SHA-256"}
	case errors.Is(err, errMethodNotAllowed):
		return reply{status: http.StatusMethodNotAllowed, code: codeMethod, message: "method not allowed on this route"}

	case errors.Is(err, errUploadTooSlow):
		return reply{status: http.StatusRequestTimeout, code: codeUploadTooSlow, message: "the upload was slower than the minimum rate"}
	case errors.Is(err, errUploadTimeout):
		return reply{status: http.StatusRequestTimeout, code: codeUploadTimeout, message: "the upload was too slow and was abandoned"}

	// Before the chain's sentinels: a revert unwraps to one of them.
	case errors.Is(err, ledger.ErrAlreadyRegistered):
		return reply{status: http.StatusConflict, code: codeAlreadyRegistered, message: "this file is registered already"}
	case errors.Is(err, ledger.ErrAlreadyRevoked):
		return reply{status: http.StatusConflict, code: codeAlreadyRevoked, message: "this original is revoked already"}
	case errors.Is(err, chain.ErrNotRegistrar), errors.Is(err, chain.ErrNotAuthorized), errors.Is(err, chain.ErrNotOwner):
		// The service's own account lacks the right: a configuration problem.
		return reply{status: http.StatusServiceUnavailable, code: codeLedgerUnavailable, log: true,
			message: "the service's ledger account is not allowed to do this; the operator has the details in the logs"}
	case errors.As(err, &revert):
		// The contract's own words: chain facts, public by nature.
		return reply{status: http.StatusConflict, code: codeChainRefused,
			message: "the registry contract refused the transaction: " + revert.Error()}
	case errors.As(err, &checksum):
		return reply{status: http.StatusConflict, code: codeModelDamaged,
			message: "this model version's files no longer match their recorded sha256; it cannot be activated"}

	case errors.Is(err, errTooLarge):
		return reply{status: http.StatusRequestEntityTooLarge, code: codeTooLarge, message: "the request is too large"}
	case errors.As(err, &maxBytes):
		return reply{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
			message: fmt.Sprintf("the request body is larger than the limit of %d bytes", maxBytes.Limit)}
	case errors.Is(err, errUnsupportedMedia):
		return reply{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia, message: "unsupported media type"}
	case errors.As(err, &reported) && reported.Kind == isolate.KindFingerprint:
		return reply{status: http.StatusUnprocessableEntity, code: codeUnprocessable,
			message: "the video could not be fingerprinted (" + reported.Code + "): " + reported.Message}

	case errors.Is(err, errQueueFull):
		return reply{status: http.StatusTooManyRequests, code: codeQueueFull, message: "the queue is full; try again later", retryAfter: 30 * time.Second}
	case errors.Is(err, errRateLimited):
		return reply{status: http.StatusTooManyRequests, code: codeRateLimited, message: "rate limit exceeded", retryAfter: time.Second}
	case errors.Is(err, errTooManyUploads):
		return reply{status: http.StatusTooManyRequests, code: codeTooManyUploads,
			message: "this key has too many uploads in progress", retryAfter: 10 * time.Second}

	case errors.Is(err, errNotReady):
		return reply{status: http.StatusServiceUnavailable, code: codeNotReady, message: "the service is not ready"}
	case errors.Is(err, errGeneratorUnavailable):
		return reply{status: http.StatusServiceUnavailable, code: codeGeneratorUnavailable,
			message: "the face-swap generator is not enabled on this server"}
	case errors.Is(err, errLedgerUnavailable):
		return reply{status: http.StatusServiceUnavailable, code: codeLedgerUnavailable,
			message: "the provenance ledger is not configured on this server"}

	case errors.Is(err, ledger.ErrCorrupt):
		return reply{status: http.StatusInternalServerError, code: codeInternal, log: true,
			message: "internal error (the ledger's off-chain records disagree with the chain: run trueframe ledger reindex); the request id is in the logs"}
	case errors.As(err, &lf):
		// Most other ledger failures are the node being unreachable or slow.
		return reply{status: http.StatusServiceUnavailable, code: codeLedgerUnavailable, log: true, retryAfter: 10 * time.Second,
			message: "the ledger did not answer; try again later (the request id is in the logs)"}
	}
	return reply{status: http.StatusInternalServerError, code: codeInternal, log: true,
		message: "internal error; the request id is in the logs"}
}
