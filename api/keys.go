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
func (s *Server) me(c *gin.Context) {
	k := callerKey(c)
	c.JSON(http.StatusOK, Me{KeyInfo: keyInfo(k), WebhookSecret: k.WebhookSecret})
}

// decodeJSON reads a small JSON body strictly: unknown fields, trailing data
// and bodies over 64 KiB are errors.
func decodeJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			fail(c, http.StatusRequestEntityTooLarge, codeTooLarge, "the JSON body is larger than 64 KiB")
			return false
		}
		fail(c, http.StatusBadRequest, codeBadRequest, "malformed JSON body: "+err.Error())
		return false
	}
	return true
}

// POST /v1/keys {"name": "...", "role": "analyst"}
func (s *Server) createKey(c *gin.Context) {
	var req struct {
		Name string     `json:"name"`
		Role store.Role `json:"role"`
	}
	if !decodeJSON(c, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if !req.Role.Valid() {
		fail(c, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("role must be %s, %s or %s", store.RoleAnalyst, store.RoleRegistrar, store.RoleAdmin))
		return
	}
	if len(req.Name) > 200 {
		fail(c, http.StatusBadRequest, codeBadRequest, "name must be at most 200 bytes")
		return
	}
	k, token, err := s.store.NewKey(c, req.Name, req.Role)
	if err != nil {
		s.internalError(c, "creating a key", err)
		return
	}
	s.log.Info("key created", "new_key_id", k.ID, "role", k.Role, "by", callerKey(c).ID)
	c.JSON(http.StatusCreated, NewKeyResponse{KeyInfo: keyInfo(k), Key: token, WebhookSecret: k.WebhookSecret})
}

// GET /v1/keys
func (s *Server) listKeys(c *gin.Context) {
	keys, err := s.store.Keys(c)
	if err != nil {
		s.internalError(c, "listing keys", err)
		return
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyInfo(k))
	}
	c.JSON(http.StatusOK, gin.H{"keys": out})
}

// DELETE /v1/keys/{id}
func (s *Server) revokeKey(c *gin.Context) {
	id := c.Param("id")
	if id == callerKey(c).ID {
		fail(c, http.StatusBadRequest, codeBadRequest, "a key cannot revoke itself; use another admin key")
		return
	}
	err := s.store.RevokeKey(c, id)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, http.StatusNotFound, codeNotFound, "no valid key with this id")
		return
	}
	if err != nil {
		s.internalError(c, "revoking a key", err)
		return
	}
	s.log.Info("key revoked", "revoked_key_id", id, "by", callerKey(c).ID)
	c.Status(http.StatusNoContent)
}

// Prepare creates the data directories and removes what a crash can leave
// behind: half-received uploads, and files of jobs deleted just before the
// crash. Call it before serving.
func (s *Server) Prepare(ctx context.Context) error {
	tmp := filepath.Join(s.uploadDir(), "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for _, d := range []string{tmp, s.evidenceDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	for _, d := range []string{s.generatorDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	for _, dir := range []string{s.uploadDir(), s.evidenceDir(), s.generatorDir()} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !jobIDPattern.MatchString(e.Name()) && !generatorIDPattern.MatchString(e.Name()) {
				continue
			}
			if _, err := s.store.Job(ctx, e.Name()); errors.Is(err, store.ErrNotFound) {
				s.log.Info("removing files of a deleted job", "path", filepath.Join(dir, e.Name()))
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	return nil
}
