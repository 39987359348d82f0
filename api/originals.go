package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/chain"
)

// Ledger is what the service needs of the provenance registry.
type Ledger interface {
	Register(ctx context.Context, path, meta string) (ledger.Record, error)
	RegisterBatched(ctx context.Context, path, meta string) (ledger.Record, error)
	Lookup(ctx context.Context, sha [32]byte) (ledger.Record, error)
	Revoke(ctx context.Context, sha [32]byte, reason string) (ledger.Record, error)
	Verify(ctx context.Context, path string) (ledger.Verification, error)
}

// Error codes of the provenance routes.
const (
	codeAlreadyRegistered = "already_registered"  // 409
	codeAlreadyRevoked    = "already_revoked"     // 409
	codeUnprocessable     = "unprocessable_video" // 422: the file could not be decoded
	codeLedgerUnavailable = "ledger_unavailable"  // 503
)

func (s *Server) ledgerReady(c *gin.Context) bool {
	if s.ledger == nil {
		fail(c, http.StatusServiceUnavailable, codeLedgerUnavailable, "the provenance ledger is not configured on this server")
		return false
	}
	return true
}

// receiveOne receives a multipart upload with one "file" and small fields,
// for the synchronous provenance routes. The caller removes the file.
func (s *Server) receiveOne(c *gin.Context, fields ...string) (*upload, map[string]string, bool) {
	const overhead = 64 << 10
	if !s.admitMultipart(c, overhead, "send the video as multipart/form-data with the file in the field \"file\"") {
		return nil, nil, false
	}
	mr, rc, ok := s.openMultipart(c, overhead)
	if !ok {
		return nil, nil, false
	}
	values := map[string]string{}
	for _, f := range fields {
		if v := c.Query(f); v != "" {
			values[f] = v
		}
	}
	var up *upload
	cleanup := func() {
		if up != nil {
			os.Remove(up.path)
		}
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cleanup()
			s.uploadFailed(c, readError(err, s.opts.MaxUploadBytes))
			return nil, nil, false
		}
		name := part.FormName()
		switch {
		case name == "file" && up == nil:
			if up, err = s.receive(part, cleanName(part.FileName()), rc); err != nil {
				s.uploadFailed(c, err)
				return nil, nil, false
			}
		case contains(fields, name):
			b, err := io.ReadAll(io.LimitReader(part, 4097))
			if err != nil || len(b) > 4096 {
				cleanup()
				fail(c, http.StatusBadRequest, codeBadRequest, name+" must be at most 4096 bytes")
				return nil, nil, false
			}
			values[name] = strings.TrimSpace(string(b))
		default:
			io.Copy(io.Discard, io.LimitReader(part, 1<<20))
		}
	}
	if up == nil {
		fail(c, http.StatusBadRequest, codeBadRequest, "no file: send the video in the multipart field \"file\"")
		return nil, nil, false
	}
	// Fingerprinting a long video takes a while.
	rc.SetWriteDeadline(time.Now().Add(s.opts.UploadTimeout))
	return up, values, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ledgerError answers a failed ledger call.
func (s *Server) ledgerError(c *gin.Context, err error) {
	var analysis *scan.AnalysisError
	var revert *chain.RevertError
	switch {
	case errors.Is(err, ledger.ErrAlreadyRegistered):
		fail(c, http.StatusConflict, codeAlreadyRegistered, "this file is registered already")
	case errors.Is(err, ledger.ErrAlreadyRevoked):
		fail(c, http.StatusConflict, codeAlreadyRevoked, "this original is revoked already")
	case errors.Is(err, ledger.ErrNotRegistered):
		fail(c, http.StatusNotFound, codeNotFound, "no original with this SHA-256")
	case errors.Is(err, chain.ErrMetaTooLong):
		fail(c, http.StatusBadRequest, codeBadRequest, "meta or reason is too long for the chain")
	case errors.As(err, &analysis):
		fail(c, http.StatusUnprocessableEntity, codeUnprocessable, "the video could not be fingerprinted ("+analysis.Code+"): "+analysis.Message)
	case errors.Is(err, chain.ErrNotRegistrar), errors.Is(err, chain.ErrNotAuthorized), errors.Is(err, chain.ErrNotOwner):
		// The service's own account lacks the right: a configuration problem.
		s.log.Error("the ledger account may not do this", "err", err)
		fail(c, http.StatusServiceUnavailable, codeLedgerUnavailable, "the service's ledger account is not allowed to do this: "+err.Error())
	case errors.As(err, &revert):
		fail(c, http.StatusConflict, "chain_refused", "the registry contract refused the transaction: "+revert.Error())
	case errors.Is(err, ledger.ErrCorrupt):
		s.internalError(c, "the ledger's off-chain records disagree with the chain (run trueframe ledger reindex)", err)
	case errors.Is(err, context.Canceled):
		fail(c, 499, "canceled", "the request was cancelled")
	default:
		// Most other failures are the node being unreachable or slow.
		s.log.Error("ledger call failed", "err", err, "request_id", c.GetString(ctxRequestID))
		failRetry(c, http.StatusServiceUnavailable, codeLedgerUnavailable, "the ledger did not answer: "+err.Error(), 10*time.Second)
	}
}

// POST /v1/originals: register an original (registrar).
func (s *Server) registerOriginal(c *gin.Context) {
	if !s.ledgerReady(c) {
		return
	}
	batch := false
	if v := c.Query("batch"); v != "" {
		var err error
		if batch, err = strconv.ParseBool(v); err != nil {
			fail(c, http.StatusBadRequest, codeBadRequest, "batch must be true or false")
			return
		}
	}
	up, fields, ok := s.receiveOne(c, "meta")
	if !ok {
		return
	}
	defer os.Remove(up.path)
	if len(fields["meta"]) > 256 {
		fail(c, http.StatusBadRequest, codeBadRequest, "meta must be at most 256 bytes: keep it a URI or a hash")
		return
	}
	register := s.ledger.Register
	if batch {
		register = s.ledger.RegisterBatched
	}
	rec, err := register(c, up.path, fields["meta"])
	if err != nil {
		s.ledgerError(c, err)
		return
	}
	s.log.Info("original registered", "sha256", rec.SHA256, "tx", rec.TxHash, "batched", rec.Batch != nil, "key_id", callerKey(c).ID)
	c.Header("Location", "/v1/originals/"+rec.SHA256)
	c.JSON(http.StatusCreated, rec)
}

func parseSHA(c *gin.Context) ([32]byte, bool) {
	sha, err := ledger.ParseHash(c.Param("sha256"))
	if err != nil {
		fail(c, http.StatusNotFound, codeNotFound, "no original with this SHA-256 (want 64 hex digits)")
		return sha, false
	}
	return sha, true
}

// GET /v1/originals/{sha256}
func (s *Server) getOriginal(c *gin.Context) {
	if !s.ledgerReady(c) {
		return
	}
	sha, ok := parseSHA(c)
	if !ok {
		return
	}
	rec, err := s.ledger.Lookup(c, sha)
	if err != nil {
		s.ledgerError(c, err)
		return
	}
	c.JSON(http.StatusOK, rec)
}

// DELETE /v1/originals/{sha256}?reason=R: revoke (registrar).
func (s *Server) revokeOriginal(c *gin.Context) {
	if !s.ledgerReady(c) {
		return
	}
	sha, ok := parseSHA(c)
	if !ok {
		return
	}
	reason := strings.TrimSpace(c.Query("reason"))
	if reason == "" || len(reason) > 256 {
		fail(c, http.StatusBadRequest, codeBadRequest, "say why in ?reason= (at most 256 bytes): it is recorded on chain")
		return
	}
	// On an external node, waiting for confirmations can take a while.
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	rec, err := s.ledger.Revoke(c, sha, reason)
	if err != nil {
		s.ledgerError(c, err)
		return
	}
	s.log.Info("original revoked", "sha256", rec.SHA256, "key_id", callerKey(c).ID)
	c.JSON(http.StatusOK, rec)
}

// POST /v1/verify: check a file against the registered originals.
func (s *Server) verifyFile(c *gin.Context) {
	if !s.ledgerReady(c) {
		return
	}
	up, _, ok := s.receiveOne(c)
	if !ok {
		return
	}
	defer os.Remove(up.path)
	v, err := s.ledger.Verify(c, up.path)
	if err != nil {
		s.ledgerError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}
