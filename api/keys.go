package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
)

// KeyInfo is a key as the API shows it; the secret never appears.
type KeyInfo struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      store.Role `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewKeyResponse answers POST /v1/keys: the only time the key and its
// webhook secret are shown.
type NewKeyResponse struct {
	KeyInfo
	Key           string `json:"key"`
	WebhookSecret string `json:"webhook_secret"`
}

// Me answers GET /v1/me: who the caller is, and the secret that signs its
// webhooks.
type Me struct {
	KeyInfo
	WebhookSecret string `json:"webhook_secret"`
}

func keyInfo(k store.Key) KeyInfo {
	return KeyInfo{ID: k.ID, Name: k.Name, Role: k.Role, CreatedAt: k.CreatedAt, RevokedAt: timePtr(k.RevokedAt)}
}

// GET /v1/me
func (s *Server) me(c *gin.Context) (*result, error) {
	k := callerKey(c)
	return ok200(Me{KeyInfo: keyInfo(k), WebhookSecret: k.WebhookSecret}), nil
}

// decodeJSON reads a small JSON body strictly: unknown fields, trailing data
// and bodies over 64 KiB are errors.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &maxErr):
		return refuse(errTooLarge, "the JSON body is larger than 64 KiB")
	default:
		return badRequest("malformed JSON body: %v", err)
	}
}

// POST /v1/keys {"name": "...", "role": "analyst"}
func (s *Server) createKey(c *gin.Context) (*result, error) {
	var req struct {
		Name string     `json:"name"`
		Role store.Role `json:"role"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return nil, err
	}
	req.Name = strings.TrimSpace(req.Name)
	if !req.Role.Valid() {
		return nil, badRequest("role must be %s, %s or %s", store.RoleAnalyst, store.RoleRegistrar, store.RoleAdmin)
	}
	if len(req.Name) > 200 {
		return nil, badRequest("name must be at most 200 bytes")
	}
	k, token, err := s.store.NewKey(c, req.Name, req.Role)
	if err != nil {
		return nil, fmt.Errorf("creating a key: %w", err)
	}
	s.log.Info("key created", "new_key_id", k.ID, "role", k.Role, "by", callerKey(c).ID)
	return created(NewKeyResponse{KeyInfo: keyInfo(k), Key: token, WebhookSecret: k.WebhookSecret}), nil
}

// GET /v1/keys
func (s *Server) listKeys(c *gin.Context) (*result, error) {
	keys, err := s.store.Keys(c)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyInfo(k))
	}
	return ok200(gin.H{"keys": out}), nil
}

// DELETE /v1/keys/{id}
func (s *Server) revokeKey(c *gin.Context) (*result, error) {
	id := c.Param("id")
	if id == callerKey(c).ID {
		return nil, badRequest("a key cannot revoke itself; use another admin key")
	}
	err := s.store.RevokeKey(c, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no valid key with this id")
	}
	if err != nil {
		return nil, fmt.Errorf("revoking a key: %w", err)
	}
	s.log.Info("key revoked", "revoked_key_id", id, "by", callerKey(c).ID)
	return noContent(), nil
}

// Prepare opens the blob store when the options gave none, creates the
// data directories and removes what a crash can leave behind: half-received
// uploads, and files of jobs deleted just before the crash. Call it before
// serving.
func (s *Server) Prepare(ctx context.Context) error {
	if s.blobs == nil {
		// A directory store holds nothing to release: Close leaves it.
		b, err := blobs.Open(ctx, filepath.Join(s.opts.DataDir, "blobs"))
		if err != nil {
			return err
		}
		s.blobs = b
	}
	tmp := filepath.Join(s.uploadDir(), "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return err
	}
	return s.sweepBlobs(ctx)
}
