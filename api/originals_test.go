package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/devchain"
)

// openLedger runs the embedded chain and a registry (fingerprinting in
// this process) with its batcher.
func openLedger(t *testing.T) *ledger.Registry {
	t.Helper()
	dir := t.TempDir()
	c, err := devchain.Open(t.Context(), filepath.Join(dir, "chain"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ledger.Open(t.Context(), c.Client(), dir, ledger.Options{BatchDelay: 100 * time.Millisecond})
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		r.Close()
		c.Close()
	})
	return r
}

func TestProvenanceRoutes(t *testing.T) {
	reg := openLedger(t)
	s := startService(t, serviceOptions{ledger: reg})
	registrar, _ := s.newKey(store.RoleRegistrar)
	analyst, _ := s.newKey(store.RoleAnalyst)
	original := gridClip(t, "bbaf2n.mpg")

	post := func(path, key, query string, content []byte, fields map[string]string, status int, out any) []byte {
		t.Helper()
		ct, body := multipartBody(t, "clip.mpg", content, fields)
		return s.expect(s.do("POST", path+query, key, ct, body), status, out)
	}

	// Only registrars (and admins) register.
	if b := post("/v1/originals", analyst, "", original, nil, 403, nil); errorCode(t, b) != codeForbidden {
		t.Error(string(b))
	}
	var rec ledger.Record
	post("/v1/originals", registrar, "", original, map[string]string{"meta": "grid/bbaf2n"}, 201, &rec)
	if rec.TxHash == "" || rec.Meta != "grid/bbaf2n" || rec.Block == 0 {
		t.Fatalf("record %+v", rec)
	}
	if b := post("/v1/originals", registrar, "", original, nil, 409, nil); errorCode(t, b) != codeAlreadyRegistered {
		t.Error(string(b))
	}
	var got ledger.Record
	s.expect(s.do("GET", "/v1/originals/"+rec.SHA256, analyst, "", nil), 200, &got)
	if got.TxHash != rec.TxHash {
		t.Errorf("GET original = %+v", got)
	}
	s.expect(s.do("GET", "/v1/originals/"+strings.Repeat("0", 64), analyst, "", nil), 404, nil)
	s.expect(s.do("GET", "/v1/originals/xyz", analyst, "", nil), 404, nil)

	// Verify: the file itself, a re-encoded copy, another clip, a non-video.
	var v ledger.Verification
	post("/v1/verify", analyst, "", original, nil, 200, &v)
	if v.Status != ledger.Registered || v.Original == nil || v.Original.TxHash != rec.TxHash {
		t.Errorf("verify original: %+v", v)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.mp4")
	videofix.Transcode(t, filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "bbaf2n.mpg"), copyPath,
		videofix.Options{Scale: 0.5, JPEGQuality: 30, FourCC: "mp4v"})
	copied, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	post("/v1/verify", analyst, "", copied, nil, 200, &v)
	if v.Status != ledger.MatchesOriginal {
		t.Errorf("verify re-encoded copy: %s (%s)", v.Status, v.Explanation)
	}
	post("/v1/verify", analyst, "", gridClip(t, "sbia1a.mpg"), nil, 200, &v)
	if v.Status != ledger.Unknown {
		t.Errorf("verify another clip: %s (%s)", v.Status, v.Explanation)
	}
	if b := post("/v1/verify", analyst, "", []byte("plain text, not a video"), nil, 415, nil); errorCode(t, b) != codeUnsupportedMedia {
		t.Error(string(b))
	}

	// Batched registration answers once its batch is anchored, with the proof.
	var batched ledger.Record
	post("/v1/originals", registrar, "?batch=true", gridClip(t, "brbk7n.mpg"), nil, 201, &batched)
	if batched.Batch == nil || !batched.Batch.Verified {
		t.Errorf("batched record %+v", batched)
	}

	// Revoke: a reason is required; twice is a conflict.
	s.expect(s.do("DELETE", "/v1/originals/"+rec.SHA256, registrar, "", nil), 400, nil)
	s.expect(s.do("DELETE", "/v1/originals/"+rec.SHA256+"?reason=withdrawn", analyst, "", nil), 403, nil)
	var revoked ledger.Record
	s.expect(s.do("DELETE", "/v1/originals/"+rec.SHA256+"?reason=withdrawn", registrar, "", nil), 200, &revoked)
	if !revoked.Revoked || revoked.RevokeReason != "withdrawn" {
		t.Errorf("revoked record %+v", revoked)
	}
	if b := s.expect(s.do("DELETE", "/v1/originals/"+rec.SHA256+"?reason=again", registrar, "", nil), 409, nil); errorCode(t, b) != codeAlreadyRevoked {
		t.Error(string(b))
	}

	// A scan report carries the provenance check of its file.
	var a Analysis
	s.expect(s.upload(analyst, "?wait=120", "b.mpg", gridClip(t, "brbk7n.mpg"), nil), 200, &a)
	var rep struct {
		Provenance *ledger.Verification `json:"provenance"`
	}
	if err := json.Unmarshal(a.Result, &rep); err != nil || rep.Provenance == nil || rep.Provenance.Status != ledger.Registered {
		t.Errorf("report provenance: %+v (%v)", rep.Provenance, err)
	}
}

// A server without a ledger answers the provenance routes 503.
func TestProvenanceWithoutLedger(t *testing.T) {
	s := startService(t, serviceOptions{jobs: jobs.Options{Provenance: ProvenanceCheck(nil, slog.New(slog.DiscardHandler))}})
	if b := s.expect(s.do("GET", "/v1/originals/"+strings.Repeat("a", 64), s.admin, "", nil), 503, nil); errorCode(t, b) != codeLedgerUnavailable {
		t.Error(string(b))
	}
	// A report says that its provenance could not be checked, and why, in
	// the shape the OpenAPI document gives (the client checks it).
	var a Analysis
	s.expect(s.upload(s.admin, "?wait=120", "a.mpg", gridClip(t, "bbaf2n.mpg"), nil), 200, &a)
	var rep struct {
		Provenance struct{ Status, Error string } `json:"provenance"`
	}
	if err := json.Unmarshal(a.Result, &rep); err != nil || rep.Provenance.Status != "unavailable" || rep.Provenance.Error == "" {
		t.Errorf("provenance without a ledger: %+v (%v)", rep.Provenance, err)
	}
}
