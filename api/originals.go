package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
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
	release, ok := s.admitMultipart(c, overhead, "send the video as multipart/form-data with the file in the field \"file\"", false)
	if !ok {
		return nil, nil, false
	}
	defer release() // received, or refused, when this returns
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

// ledgerError answers a failed ledger call; up is the upload the call was
// about, if any. Messages never carry the server's paths or a raw error of
// the chain client, which can hold the node's RPC URL and with it a
// provider's API key: those are logged.
func (s *Server) ledgerError(c *gin.Context, err error, up *upload) {
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
		fail(c, http.StatusUnprocessableEntity, codeUnprocessable,
			"the video could not be fingerprinted ("+analysis.Code+"): "+s.clientMessage(analysis.Message, up))
	case errors.Is(err, chain.ErrNotRegistrar), errors.Is(err, chain.ErrNotAuthorized), errors.Is(err, chain.ErrNotOwner):
		// The service's own account lacks the right: a configuration problem.
		s.log.Error("the ledger account may not do this", "err", err, "request_id", c.GetString(ctxRequestID))
		fail(c, http.StatusServiceUnavailable, codeLedgerUnavailable,
			"the service's ledger account is not allowed to do this; the operator has the details in the logs")
	case errors.As(err, &revert):
		// The contract's own words: chain facts, public by nature.
		fail(c, http.StatusConflict, "chain_refused", "the registry contract refused the transaction: "+revert.Error())
	case errors.Is(err, ledger.ErrCorrupt):
		s.internalError(c, "the ledger's off-chain records disagree with the chain (run trueframe ledger reindex)", err)
	case errors.Is(err, context.Canceled):
		fail(c, 499, "canceled", "the request was cancelled")
	default:
		// Most other failures are the node being unreachable or slow.
		s.log.Error("ledger call failed", "err", err, "request_id", c.GetString(ctxRequestID))
		failRetry(c, http.StatusServiceUnavailable, codeLedgerUnavailable,
			"the ledger did not answer; try again later (the request id is in the logs)", 10*time.Second)
	}
}

// clientMessage rewrites a message about an upload for its client: the
// file by the name the client gave it, no path of the server's.
func (s *Server) clientMessage(msg string, up *upload) string {
	if up != nil {
		msg = strings.ReplaceAll(msg, up.path, up.name)
	}
	if filepath.IsAbs(s.opts.DataDir) {
		msg = strings.ReplaceAll(msg, s.opts.DataDir, "…")
	}
	return msg
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
		s.ledgerError(c, err, up)
		return
	}
	// Who registered it decides who may revoke it. The registration is on
	// chain whatever happens here; without this row only admins can.
	key := callerKey(c)
	if err := s.store.SetOriginalOwner(context.WithoutCancel(c), up.sha256, key.ID); err != nil {
		s.log.Error("recording the registrant of an original", "err", err, "sha256", up.sha256, "key_id", key.ID)
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
		s.ledgerError(c, err, nil)
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
	if !s.mayRevoke(c, sha) {
		return
	}
	// On an external node, waiting for confirmations can take a while.
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	rec, err := s.ledger.Revoke(c, sha, reason)
	if err != nil {
		s.ledgerError(c, err, nil)
		return
	}
	s.log.Info("original revoked", "sha256", rec.SHA256, "key_id", callerKey(c).ID)
	c.JSON(http.StatusOK, rec)
}

// mayRevoke lets through admins and the key that registered the original,
// and answers the others: 403 for an original someone else registered (or
// one registered outside the service, whose registrant is unknown), 404
// for one that does not exist.
func (s *Server) mayRevoke(c *gin.Context, sha [32]byte) bool {
	key := callerKey(c)
	if key.Role == store.RoleAdmin {
		return true
	}
	owner, err := s.store.OriginalOwner(c, hex.EncodeToString(sha[:]))
	switch {
	case err == nil && owner == key.ID:
		return true
	case errors.Is(err, store.ErrNotFound):
		// Unknown to the service: say whether it exists before refusing.
		if _, err := s.ledger.Lookup(c, sha); err != nil {
			s.ledgerError(c, err, nil)
			return false
		}
	case err != nil:
		s.internalError(c, "reading the registrant of an original", err)
		return false
	}
	fail(c, http.StatusForbidden, codeForbidden, "only the key that registered this original, or an admin key, may revoke it")
	return false
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
		s.ledgerError(c, err, up)
		return
	}
	c.JSON(http.StatusOK, v)
}

// ProvenanceCheck returns the job runner's provenance hook: a finished
// job's file verified against the ledger, or why it could not be. l may be
// nil (no ledger on this server). What went wrong with the ledger is
// logged, not shown: a node's RPC URL often carries a provider's API key.
func ProvenanceCheck(l Ledger, log *slog.Logger) func(context.Context, store.Job) json.RawMessage {
	return func(ctx context.Context, j store.Job) json.RawMessage {
		var v any
		if l == nil {
			v = provenanceUnavailable("the provenance ledger is not enabled on this server")
		} else if res, err := l.Verify(ctx, j.FilePath); err != nil {
			var analysis *scan.AnalysisError
			switch {
			case errors.As(err, &analysis):
				v = provenanceUnavailable("the file could not be fingerprinted (" + analysis.Code + "): " + jobs.ClientMessage(analysis.Message, j))
			case ctx.Err() != nil:
				v = provenanceUnavailable("the check was interrupted")
			default:
				log.Error("provenance check failed", "job_id", j.ID, "err", err)
				v = provenanceUnavailable("the provenance ledger did not answer")
			}
		} else {
			v = res
		}
		b, _ := json.Marshal(v)
		return b
	}
}

func provenanceUnavailable(why string) map[string]string {
	return map[string]string{"status": "unavailable", "error": why}
}
