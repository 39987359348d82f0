package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/chain"
	"github.com/trueframe/trueframe/models/registry"
)

// timeoutError is a network timeout, as a connection's read deadline gives.
type timeoutError struct{}

func (timeoutError) Error() string   { return "read tcp 10.1.2.3:8080: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestReplyTo(t *testing.T) {
	const secret = "https://node.example/v3/SECRETAPIKEY"
	rpc := errors.New(`Post "` + secret + `": dial tcp 10.1.2.3:443: connect: connection refused`)
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		code    string
		message string // a part of the message, "" for any
		retry   time.Duration
		log     bool
	}{
		// The API's own refusals: the handler's message, the table's code.
		{"bad request", badRequest("limit must be %s", "small"), 400, codeBadRequest, "limit must be small", 0, false},
		{"bare kind", errBadRequest, 400, codeBadRequest, "bad request", 0, false},
		{"wrapped refusal", fmt.Errorf("parsing: %w", notFound("no analysis with this id")), 404, codeNotFound, "no analysis with this id", 0, false},
		{"missing key", errMissingKey, 401, codeMissingKey, "Authorization: Bearer", 0, false},
		{"invalid key", refuse(errInvalidKey, "the Authorization header must be: Bearer <key>"), 401, codeInvalidKey, "must be: Bearer", 0, false},
		{"forbidden", refuse(errForbidden, "this needs a key with the admin role"), 403, codeForbidden, "admin role", 0, false},
		{"no route", errMethodNotAllowed, 405, codeMethod, "method not allowed", 0, false},
		{"queue full", refuseRetry(errQueueFull, "the queue is full", time.Minute), 429, codeQueueFull, "the queue is full", time.Minute, false},
		{"queue full, default retry", errQueueFull, 429, codeQueueFull, "", 30 * time.Second, false},
		{"rate limited", refuseRetry(errRateLimited, "rate limit of 1 requests per second exceeded", 3*time.Second), 429, codeRateLimited, "rate limit", 3 * time.Second, false},
		{"too many uploads", errTooManyUploads, 429, codeTooManyUploads, "", 10 * time.Second, false},
		{"not ready", refuse(errNotReady, "models are loading"), 503, codeNotReady, "models are loading", 0, false},
		{"no generator", errGeneratorUnavailable, 503, codeGeneratorUnavailable, "not enabled", 0, false},
		{"no ledger", errLedgerUnavailable, 503, codeLedgerUnavailable, "not configured", 0, false},

		// Uploads.
		{"not a video", refuse(errUnsupportedMedia, "the file is not a video container"), 415, codeUnsupportedMedia, "not a video", 0, false},
		{"too large", tooLarge(1 << 20), 413, codeTooLarge, "limit of 1048576 bytes", 0, false},
		{"body over MaxBytesReader", &http.MaxBytesError{Limit: 65536}, 413, codeTooLarge, "65536", 0, false},
		{"read timeout", readError(timeoutError{}, 1<<20), 408, codeUploadTimeout, "too slow", 0, false},
		{"upload deadline", readError(errUploadTimeout, 1<<20), 408, codeUploadTimeout, "", 0, false},
		{"trickle", readError(fmt.Errorf("%w: 10 bytes in 20s", errUploadTooSlow), 1<<20), 408, codeUploadTooSlow, "10 bytes in 20s", 0, false},
		{"body cut short", readError(io.ErrUnexpectedEOF, 1<<20), 400, codeIncompleteUpload, "stopped before its end", 0, false},
		{"body over limit while reading", readError(&http.MaxBytesError{Limit: 10}, 1<<20), 413, codeTooLarge, "1048576", 0, false},
		{"callback URL", fmt.Errorf("%w: scheme must be http or https", webhook.ErrURL), 400, codeInvalidCallback, "scheme must be http or https", 0, false},

		// The store and the model registry.
		{"store not found", fmt.Errorf("reading: %w", store.ErrNotFound), 404, codeNotFound, "", 0, false},
		{"bad token", store.ErrBadToken, 401, codeInvalidKey, "not valid", 0, false},
		{"model not found", fmt.Errorf("reading a model: %w", registry.ErrNotFound), 404, codeNotFound, "no model version", 0, false},
		{"model damaged", fmt.Errorf("activating: %w", &registry.ChecksumError{ID: "v2", File: "/srv/models/v2.onnx", Want: "aa", Got: "bb"}),
			409, codeModelDamaged, "no longer match", 0, false},

		// The ledger: its sentinels, the contract's words, and a node that
		// does not answer (whose error holds the RPC URL).
		{"already registered", fromLedger(ledger.ErrAlreadyRegistered), 409, codeAlreadyRegistered, "registered already", 0, false},
		{"already registered, as a revert", fromLedger(&chain.RevertError{Name: "AlreadyRegistered", Err: chain.ErrAlreadyRegistered}),
			409, codeAlreadyRegistered, "", 0, false},
		{"already revoked", fromLedger(ledger.ErrAlreadyRevoked), 409, codeAlreadyRevoked, "", 0, false},
		{"not registered", fromLedger(ledger.ErrNotRegistered), 404, codeNotFound, "no original", 0, false},
		{"meta too long", fromLedger(chain.ErrMetaTooLong), 400, codeBadRequest, "too long", 0, false},
		{"other revert", fromLedger(&chain.RevertError{Name: "Paused"}), 409, codeChainRefused, "registry reverted with Paused", 0, false},
		{"account lacks the right", fromLedger(fmt.Errorf("%w (node %s)", chain.ErrNotRegistrar, secret)), 503, codeLedgerUnavailable, "not allowed", 0, true},
		{"node down", fromLedger(rpc), 503, codeLedgerUnavailable, "did not answer", 10 * time.Second, true},
		{"ledger corrupt", fromLedger(ledger.ErrCorrupt), 500, codeInternal, "reindex", 0, true},
		{"fingerprint refused", scan.ErrorCodes.Error(isolate.KindFingerprint, "truncated", "decode mine.mpg: truncated"), 422, codeUnprocessable, "(truncated): decode mine.mpg", 0, false},
		{"verification refused, as stored", verifyFailure(store.Job{ErrorCode: "not_video", ErrorMessage: "not a video"}), 422, codeUnprocessable, "(not_video): not a video", 0, false},
		{"verification cut short, as stored", verifyFailure(store.Job{ErrorCode: "worker_lost", ErrorMessage: "the node stopped"}), 503, codeLedgerUnavailable, "the node stopped", 0, false},

		// The client left; anything else is the service's fault.
		{"client gone", fmt.Errorf("counting: %w", context.Canceled), statusClientClosed, codeCanceled, "", 0, false},
		{"client gone during a ledger call", fromLedger(context.Canceled), statusClientClosed, codeCanceled, "", 0, false},
		{"unknown", fmt.Errorf("storing the upload: %w", &os.PathError{Op: "write", Path: "/srv/data/uploads/tmp/upload-1", Err: errors.New("no space left")}),
			500, codeInternal, "request id is in the logs", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := replyTo(tc.err)
			if r.status != tc.status || r.code != tc.code || r.retryAfter != tc.retry || r.log != tc.log {
				t.Errorf("replyTo = %d %s retry %s log %v, want %d %s retry %s log %v",
					r.status, r.code, r.retryAfter, r.log, tc.status, tc.code, tc.retry, tc.log)
			}
			if !strings.Contains(r.message, tc.message) || r.message == "" {
				t.Errorf("message %q, want it to contain %q", r.message, tc.message)
			}
			// Nothing the client is not meant to see.
			for _, hidden := range []string{"SECRETAPIKEY", "10.1.2.3", "/srv/"} {
				if strings.Contains(r.message, hidden) {
					t.Errorf("message %q shows %q", r.message, hidden)
				}
			}
			if !slices.Contains(errorCodes(), r.code) {
				t.Errorf("code %q is not in errorCodes()", r.code)
			}
		})
	}
}

// TestOneStatusPerCode holds the error table to its promise: a code always
// comes with the same status, so that clients can branch on either.
func TestOneStatusPerCode(t *testing.T) {
	errs := []error{errBadRequest, errIncompleteUpload, errMissingKey, errInvalidKey, errForbidden, errNotFound,
		errMethodNotAllowed, errUploadTimeout, errUploadTooSlow, errTooLarge, errUnsupportedMedia, errQueueFull,
		errRateLimited, errTooManyUploads, errNotReady, errLedgerUnavailable, errGeneratorUnavailable,
		store.ErrNotFound, store.ErrBadToken, registry.ErrNotFound, &registry.ChecksumError{}, ledger.ErrNotRegistered,
		ledger.ErrAlreadyRegistered, ledger.ErrAlreadyRevoked, ledger.ErrCorrupt, chain.ErrMetaTooLong,
		chain.ErrNotRegistrar, chain.ErrNotOwner, chain.ErrNotAuthorized, &chain.RevertError{}, &isolate.Error{Kind: isolate.KindFingerprint},
		webhook.ErrURL, &http.MaxBytesError{}, context.Canceled, fromLedger(errors.New("x")), errors.New("x")}
	status := map[string]int{}
	for _, err := range errs {
		r := replyTo(err)
		if s, seen := status[r.code]; seen && s != r.status {
			t.Errorf("code %s comes with %d and %d", r.code, s, r.status)
		}
		status[r.code] = r.status
	}
	// The document tells clients each code's status: the same one.
	described := loadContract(t).doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value.Description
	for _, code := range errorCodes() {
		if _, seen := status[code]; !seen {
			t.Errorf("code %s is listed but no error maps to it", code)
		}
		if want := fmt.Sprintf("%s %d", code, status[code]); !strings.Contains(described, want) {
			t.Errorf("the OpenAPI document's code description lacks %q", want)
		}
	}
}
