package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/ledger"
)

// Ledger is what the service needs of the provenance registry.
type Ledger interface {
	Register(ctx context.Context, path, meta string) (ledger.Record, error)
	RegisterBatched(ctx context.Context, path, meta string) (ledger.Record, error)
	Lookup(ctx context.Context, sha [32]byte) (ledger.Record, error)
	Revoke(ctx context.Context, sha [32]byte, reason string) (ledger.Record, error)
	Verify(ctx context.Context, path string) (ledger.Verification, error)
}

func (s *Server) ledgerEnabled(*gin.Context) error {
	if s.ledger == nil {
		return errLedgerUnavailable
	}
	return nil
}

// provenanceForm is the upload of the provenance routes: one video and,
// for a registration, its meta.
func provenanceForm(fields ...string) uploadForm {
	f := uploadForm{hint: "send the video as multipart/form-data with the file in the field \"file\"",
		overhead: 64 << 10, files: map[string]int{"file": 1}, required: "file",
		fields: map[string]int{}, fieldsInQuery: true}
	for _, name := range fields {
		f.fields[name] = 4096
	}
	return f
}

// forClient prepares an error of a ledger call about an upload (nil: none)
// for replyTo: marked as the ledger's, and a fingerprinter's message
// rewritten to name the file as the client did, with no path of the
// server's. What else the error says (a node's RPC URL often carries a
// provider's API key) replyTo does not show.
func (s *Server) forClient(err error, up *upload) error {
	var reported *isolate.Error
	if errors.As(err, &reported) {
		scrubbed := *reported
		scrubbed.Message = s.clientMessage(reported.Message, up)
		return &scrubbed
	}
	return fromLedger(err)
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
func (s *Server) registerOriginal(c *gin.Context) (*result, error) {
	batch := false
	if v := c.Query("batch"); v != "" {
		var err error
		if batch, err = strconv.ParseBool(v); err != nil {
			return nil, badRequest("batch must be true or false")
		}
	}
	f, err := s.receiveForm(c, provenanceForm("meta"))
	if err != nil {
		return nil, err
	}
	defer f.discard()
	f.release()
	up, meta := f.file("file"), f.fields["meta"]
	if len(meta) > 256 {
		return nil, badRequest("meta must be at most 256 bytes: keep it a URI or a hash")
	}
	// Fingerprinting a long video takes a while.
	f.rc.SetWriteDeadline(time.Now().Add(s.opts.UploadTimeout))
	register := s.ledger.Register
	if batch {
		register = s.ledger.RegisterBatched
	}
	rec, err := register(c, up.path, meta)
	if err != nil {
		return nil, s.forClient(err, up)
	}
	// Who registered it decides who may revoke it. The registration is on
	// chain whatever happens here; without this row only admins can.
	key := callerKey(c)
	if err := s.store.SetOriginalOwner(context.WithoutCancel(c), up.sha256, key.ID); err != nil {
		s.log.Error("recording the registrant of an original", "err", err, "sha256", up.sha256, "key_id", key.ID)
	}
	s.log.Info("original registered", "sha256", rec.SHA256, "tx", rec.TxHash, "batched", rec.Batch != nil, "key_id", key.ID)
	c.Header("Location", "/v1/originals/"+rec.SHA256)
	return created(rec), nil
}

func parseSHA(c *gin.Context) ([32]byte, error) {
	sha, err := ledger.ParseHash(c.Param("sha256"))
	if err != nil {
		return sha, notFound("no original with this SHA-256 (want 64 hex digits)")
	}
	return sha, nil
}

// GET /v1/originals/{sha256}
func (s *Server) getOriginal(c *gin.Context) (*result, error) {
	sha, err := parseSHA(c)
	if err != nil {
		return nil, err
	}
	rec, err := s.ledger.Lookup(c, sha)
	if err != nil {
		return nil, fromLedger(err)
	}
	return ok200(rec), nil
}

// DELETE /v1/originals/{sha256}?reason=R: revoke (registrar).
func (s *Server) revokeOriginal(c *gin.Context) (*result, error) {
	sha, err := parseSHA(c)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(c.Query("reason"))
	if reason == "" || len(reason) > 256 {
		return nil, badRequest("say why in ?reason= (at most 256 bytes): it is recorded on chain")
	}
	if err := s.mayRevoke(c, sha); err != nil {
		return nil, err
	}
	// On an external node, waiting for confirmations can take a while.
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	rec, err := s.ledger.Revoke(c, sha, reason)
	if err != nil {
		return nil, fromLedger(err)
	}
	s.log.Info("original revoked", "sha256", rec.SHA256, "key_id", callerKey(c).ID)
	return ok200(rec), nil
}

// mayRevoke lets through admins and the key that registered the original,
// and refuses the others: 403 for an original someone else registered (or
// one registered outside the service, whose registrant is unknown), 404
// for one that does not exist.
func (s *Server) mayRevoke(c *gin.Context, sha [32]byte) error {
	key := callerKey(c)
	if key.Role == store.RoleAdmin {
		return nil
	}
	owner, err := s.store.OriginalOwner(c, hex.EncodeToString(sha[:]))
	switch {
	case err == nil && owner == key.ID:
		return nil
	case errors.Is(err, store.ErrNotFound):
		// Unknown to the service: say whether it exists before refusing.
		if _, err := s.ledger.Lookup(c, sha); err != nil {
			return fromLedger(err)
		}
	case err != nil:
		return fmt.Errorf("reading the registrant of an original: %w", err)
	}
	return refuse(errForbidden, "only the key that registered this original, or an admin key, may revoke it")
}

// ProvenanceCheck returns the job runner's provenance hook: a finished
// job's file verified against the ledger, or why it could not be. l may be
// nil (no ledger on this server). What went wrong with the ledger is
// logged, not shown: a node's RPC URL often carries a provider's API key.
func ProvenanceCheck(l Ledger, log *slog.Logger) func(context.Context, store.Job) json.RawMessage {
	return func(ctx context.Context, j store.Job) json.RawMessage {
		if l == nil {
			return scan.ProvenanceUnavailable("the provenance ledger is not enabled on this server")
		}
		res, err := l.Verify(ctx, j.FilePath)
		var reported *isolate.Error
		switch {
		case err == nil:
			b, _ := json.Marshal(res)
			return b
		case errors.As(err, &reported):
			return scan.ProvenanceUnavailable("the file could not be fingerprinted (" + reported.Code + "): " + jobs.ClientMessage(reported.Message, j))
		case ctx.Err() != nil:
			return scan.ProvenanceUnavailable("the check was interrupted")
		}
		log.Error("provenance check failed", "job_id", j.ID, "err", err)
		return scan.ProvenanceUnavailable("the provenance ledger did not answer")
	}
}
