package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/ledger"
	"github.com/trueframe/trueframe/ledger/chain"
)

// Security regressions of issue 15: each test here failed on the code
// before its fix.

// ?wait=1e300 overflowed to a negative duration, which became a write
// deadline in the past: the client got no answer at all. Huge waits are
// clamped to the maximum; non-finite and negative ones are refused.
func TestWaitIsClampedAndValidated(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{MaxWait: 20 * time.Millisecond}, noRunner: true})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]

	var a Analysis
	s.expect(s.upload(s.admin, "?wait=1e300", "a.mpg", clip, nil), 202, &a)
	s.expect(s.do("GET", a.URL+"?wait=1e300", s.admin, "", nil), 200, nil)
	s.expect(s.upload(s.admin, "?wait=0.001", "a.mpg", clip, nil), 202, nil)

	for _, bad := range []string{"inf", "+Inf", "-Inf", "NaN", "-1", "1e400", "soon"} {
		b := s.expect(s.upload(s.admin, "?wait="+bad, "a.mpg", clip, nil), 400, nil)
		if errorCode(t, b) != codeBadRequest {
			t.Errorf("POST wait=%s: %s", bad, b)
		}
		b = s.expect(s.do("GET", a.URL+"?wait="+bad, s.admin, "", nil), 400, nil)
		if errorCode(t, b) != codeBadRequest {
			t.Errorf("GET wait=%s: %s", bad, b)
		}
	}
}

// Requests with invented methods each added a time series to the request
// metrics: a few thousand with long methods exhausted memory. Every label
// is now bounded: the method to a fixed set, the route to a template.
func TestMetricLabelsAreBounded(t *testing.T) {
	s := startService(t, serviceOptions{noRunner: true})
	for i := range 20 {
		method := "INVENTED" + strings.Repeat("X", 1000) + string(rune('A'+i))
		s.expect(s.do(method, "/v1/analyses", s.admin, "", nil), 405, nil)
		s.expect(s.do(method, "/no/such/route/"+strings.Repeat("y", i), "", "", nil), 404, nil)
	}
	s.expect(s.do("GET", "/v1/analyses/an_000000000000000000000000", s.admin, "", nil), 404, nil)

	resp := s.do("GET", "/metrics", "", "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	metrics := string(body)
	if strings.Contains(metrics, "INVENTED") || strings.Contains(metrics, "yyy") {
		t.Errorf("a client-chosen method or path became a label")
	}
	for _, want := range []string{
		`trueframe_http_requests_total{code="405",method="other",route="unmatched"} 20`,
		`trueframe_http_requests_total{code="404",method="other",route="unmatched"} 20`,
		`trueframe_http_requests_total{code="404",method="GET",route="/v1/analyses/:id"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if len(metrics) > 200<<10 {
		t.Errorf("the metrics page is %d bytes", len(metrics))
	}
}

// failingGenerator fails every job with a message of its own.
type failingGenerator struct{}

func (failingGenerator) Generate(context.Context, store.Job, genjobs.Hooks) (json.RawMessage, error) {
	return nil, &isolate.Error{Kind: isolate.KindGenerate, Code: genjobs.CodeFailed, Message: "training diverged at step 12"}
}

// A generator job has no upload path: replacing the (empty) path by the
// job's name in its error garbled every message ("trainetrainxtrain…").
func TestGeneratorErrorMessageIsIntact(t *testing.T) {
	s := startService(t, serviceOptions{generator: failingGenerator{}})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]
	ct, body := generatorUpload(t, map[string]string{"type": "train"}, map[string][]byte{"a": clip, "b": clip})
	var g GeneratorJob
	s.expect(s.do("POST", "/v1/generator/jobs", s.admin, ct, body), 202, &g)
	g = waitGenerator(t, s, g.ID)
	if g.Status != store.Failed || g.Error == nil || g.Error.Code != "generator_failed" ||
		g.Error.Message != "training diverged at step 12" {
		t.Fatalf("failed job: %s %+v", g.Status, g.Error)
	}
}

func waitGenerator(t *testing.T, s *service, id string) GeneratorJob {
	t.Helper()
	var g GeneratorJob
	waitFor(t, "generator job "+id+" to end", func() bool {
		g = GeneratorJob{}
		s.expect(s.do("GET", "/v1/generator/jobs/"+id, s.admin, "", nil), 200, &g)
		return g.Status == store.Done || g.Status == store.Failed
	})
	return g
}

// A generator input named with 255 bytes could not be moved into the job
// (its stored name gains a prefix); the failed move was ignored, leaving
// an orphaned upload and a job without its input.
func TestGeneratorInputWithLongName(t *testing.T) {
	s := startService(t, serviceOptions{generator: recordingGenerator{t}})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("type", "train")
	for _, field := range []string{"a", "b"} {
		fw, _ := mw.CreateFormFile(field, strings.Repeat("é", 124)+"long.mpg") // 256 bytes
		fw.Write(clip)
	}
	mw.Close()
	var g GeneratorJob
	s.expect(s.do("POST", "/v1/generator/jobs", s.admin, mw.FormDataContentType(), &buf), 202, &g)
	if g = waitGenerator(t, s, g.ID); g.Status != store.Done {
		t.Errorf("job with long input names: %s %+v", g.Status, g.Error)
	}
	job, err := s.store.Job(t.Context(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var p GeneratorParams
	json.Unmarshal(job.Params, &p)
	for _, f := range append(p.Inputs["a"], p.Inputs["b"]...) {
		// Stored in the blob store (a directory here), under the job's prefix.
		if st, err := os.Stat(filepath.Join(s.data, "blobs", job.EvidenceDir, f)); err != nil || st.Size() != int64(len(clip)) || !strings.HasSuffix(f, ".mpg") {
			t.Errorf("input %s: %v", f, err)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp")); len(left) != 0 {
		t.Errorf("%d uploads left behind in tmp", len(left))
	}
}

// Any registrar could revoke any original, for good. Only the key that
// registered it, or an admin, may now.
func TestOnlyTheRegistrantRevokes(t *testing.T) {
	fl := newFakeLedger()
	s := startService(t, serviceOptions{api: Options{Ledger: fl}, noRunner: true})
	alice, _ := s.newKey(store.RoleRegistrar)
	bob, _ := s.newKey(store.RoleRegistrar)
	clip := gridClip(t, "bbaf2n.mpg")
	register := func(key string, content []byte) ledger.Record {
		t.Helper()
		var rec ledger.Record
		ct, body := multipartBody(t, "clip.mpg", content, nil)
		s.expect(s.do("POST", "/v1/originals", key, ct, body), 201, &rec)
		return rec
	}
	first, second := register(alice, clip[:40<<10]), register(alice, clip[:50<<10])
	revoke := func(key, sha string, status int) []byte {
		t.Helper()
		return s.expect(s.do("DELETE", "/v1/originals/"+sha+"?reason=withdrawn", key, "", nil), status, nil)
	}

	if b := revoke(bob, first.SHA256, 403); errorCode(t, b) != codeForbidden {
		t.Errorf("another registrar revokes: %s", b)
	}
	if fl.revoked(first.SHA256) {
		t.Fatal("another registrar's revocation went through")
	}
	if b := revoke(bob, strings.Repeat("ab", 32), 404); errorCode(t, b) != codeNotFound {
		t.Errorf("unknown original: %s", b)
	}
	revoke(alice, first.SHA256, 200)
	revoke(s.admin, second.SHA256, 200) // admins may revoke anyone's

	// An original registered outside the service (the CLI) has no known
	// registrant: only admins revoke it.
	other := strings.Repeat("cd", 32)
	fl.add(other)
	if b := revoke(alice, other, 403); errorCode(t, b) != codeForbidden {
		t.Errorf("original of unknown registrant: %s", b)
	}
	revoke(s.admin, other, 200)
}

// Error answers carried server paths (the upload's temporary file) and raw
// ledger errors, whose RPC URL often holds a provider's API key.
func TestErrorsDoNotLeakServerDetails(t *testing.T) {
	fl := newFakeLedger()
	s := startService(t, serviceOptions{api: Options{Ledger: fl}, noRunner: true})
	clip := gridClip(t, "bbaf2n.mpg")[:32<<10]
	post := func(path string, status int) string {
		t.Helper()
		ct, body := multipartBody(t, "mine.mpg", clip, nil)
		b := s.expect(s.do("POST", path, s.admin, ct, body), status, nil)
		errorCode(t, b)
		return string(b)
	}
	secrets := []string{s.data, "uploads/tmp", "upload-", "SECRETAPIKEY", "10.1.2.3", "node.example"}
	check := func(what, answer string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(answer, secret) {
				t.Errorf("%s: the answer shows %q: %s", what, secret, answer)
			}
		}
	}

	// A file the fingerprinter refused: the message names the client's file.
	fl.fail = func(path string) error {
		return scan.ErrorCodes.Error(isolate.KindFingerprint, "truncated", "decode "+path+": video: truncated or corrupt file")
	}
	answer := post("/v1/verify", 422)
	check("refused file", answer)
	if !strings.Contains(answer, "decode mine.mpg: video: truncated") {
		t.Errorf("refused file: the message lost its substance: %s", answer)
	}

	// The node does not answer.
	rpc := errors.New(`Post "https://node.example/v3/SECRETAPIKEY": dial tcp 10.1.2.3:443: connect: connection refused`)
	fl.fail = func(string) error { return rpc }
	check("node down, register", post("/v1/originals", 503))
	check("node down, verify", post("/v1/verify", 503))
	sha := strings.Repeat("ab", 32)
	check("node down, lookup", string(s.expect(s.do("GET", "/v1/originals/"+sha, s.admin, "", nil), 503, nil)))
	check("node down, revoke", string(s.expect(s.do("DELETE", "/v1/originals/"+sha+"?reason=x", s.admin, "", nil), 503, nil)))

	// The service's account lacks a right: the sentinel's wrapper has the URL.
	fl.fail = func(string) error {
		return fmt.Errorf("%w (node https://node.example/v3/SECRETAPIKEY)", chain.ErrNotRegistrar)
	}
	check("not a registrar", post("/v1/originals", 503))

	// The provenance check of a scan reports that the ledger did not
	// answer, not how.
	job := store.Job{ID: "an_000000000000000000000001", FileName: "mine.mpg", FilePath: filepath.Join(s.data, "uploads", "an_000000000000000000000001")}
	fl.fail = func(string) error { return rpc }
	check("provenance check", string(ProvenanceCheck(fl, s.server.log)(t.Context(), job)))
	fl.fail = func(path string) error {
		return scan.ErrorCodes.Error(isolate.KindFingerprint, "truncated", "decode "+path+": video: truncated or corrupt file")
	}
	if got := string(ProvenanceCheck(fl, s.server.log)(t.Context(), job)); strings.Contains(got, s.data) || !strings.Contains(got, "unavailable") {
		t.Errorf("provenance check of a refused file: %s", got)
	}
	if got := string(ProvenanceCheck(nil, s.server.log)(t.Context(), job)); !strings.Contains(got, "unavailable") {
		t.Errorf("provenance check without a ledger: %s", got)
	}

	// A database that does not answer.
	s.store.Close()
	check("readyz", string(s.expect(s.do("GET", "/readyz", "", "", nil), 503, nil)))
}

// X-Forwarded-For was believed from any client (gin's default), so anyone
// could choose the address the logs record. No proxy is trusted unless
// configured.
func TestForwardedForTrustedOnlyFromConfiguredProxies(t *testing.T) {
	remoteOf := func(opts Options, id string) string {
		t.Helper()
		var logs syncBuffer
		s := startService(t, serviceOptions{api: opts, noRunner: true, log: &logs})
		req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.Header.Set("X-Real-IP", "203.0.113.9")
		req.Header.Set("X-Request-Id", id)
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var line string
		waitFor(t, "the request's log line", func() bool {
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, "request_id="+id) && strings.Contains(l, "msg=request") {
					line = l
					return true
				}
			}
			return false
		})
		_, remote, _ := strings.Cut(line, "remote=")
		remote, _, _ = strings.Cut(remote, " ")
		return strings.TrimSpace(remote)
	}
	if got := remoteOf(Options{}, "default"); got != "127.0.0.1" {
		t.Errorf("by default the log records %q, want the peer 127.0.0.1", got)
	}
	if got := remoteOf(Options{TrustedProxies: []string{"127.0.0.0/8"}}, "proxied"); got != "203.0.113.9" {
		t.Errorf("behind a trusted proxy the log records %q, want the forwarded 203.0.113.9", got)
	}
}

// rawUpload starts an analysis upload on its own connection and sends the
// headers and the first part of the body; it returns the connection and
// the rest of the body.
func rawUpload(t *testing.T, s *service, key string, content []byte, sent int) (net.Conn, []byte) {
	t.Helper()
	ct, body := multipartBody(t, "slow.mpg", content, nil)
	whole := body.Bytes()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/analyses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		key, ct, len(whole))
	if _, err := conn.Write(whole[:sent]); err != nil {
		t.Fatal(err)
	}
	return conn, whole[sent:]
}

// One key could hold every upload slot by trickling bytes: only a 30 s
// idle gap was enforced, so 1 byte every 20 s kept an upload open for up
// to 30 minutes. An upload slower than the minimum rate over its window
// is now ended with a 408.
func TestTricklingUploadIsEnded(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{MinUploadRate: 64 << 10, UploadRateWindow: 300 * time.Millisecond}, noRunner: true})
	conn, rest := rawUpload(t, s, s.admin, gridClip(t, "bbaf2n.mpg"), 4<<10)
	answer := make(chan string, 1)
	go func() {
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		b, _ := io.ReadAll(conn)
		answer <- string(b)
	}()
	// 100 bytes every 50 ms, far within the idle timeout, for up to 20 s.
	var got string
trickle:
	for i := 0; i < 400 && len(rest) > 100; i++ {
		select {
		case got = <-answer:
			break trickle
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := conn.Write(rest[:100]); err != nil {
			break // the server closed the connection
		}
		rest = rest[100:]
	}
	if got == "" {
		conn.(*net.TCPConn).CloseWrite()
		got = <-answer
	}
	if !strings.Contains(got, " 408 ") || !strings.Contains(got, codeUploadTooSlow) {
		t.Errorf("a trickling upload was answered %q", got)
	}
	if left, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp")); len(left) != 0 {
		t.Errorf("the ended upload left %d files", len(left))
	}
}

// Per-key caps: uploads one key has in progress, and its jobs waiting, so
// that one key cannot take the slots shared by every key.
func TestPerKeyUploadAndQueueCaps(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{MaxUploadsPerKey: 2, MaxQueuedPerKey: 2}, noRunner: true})
	alice, _ := s.newKey(store.RoleAnalyst)
	bob, _ := s.newKey(store.RoleAnalyst)
	clip := gridClip(t, "bbaf2n.mpg")

	// Two uploads of alice's in progress (stalled halfway).
	for range 2 {
		rawUpload(t, s, alice, clip, len(clip)/2)
	}
	waitFor(t, "two uploads in progress", func() bool {
		left, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp"))
		return len(left) == 2
	})
	resp := s.upload(alice, "", "third.mpg", clip, nil)
	if b := s.expect(resp, 429, nil); errorCode(t, b) != codeTooManyUploads || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third upload in progress: %s (Retry-After %q)", b, resp.Header.Get("Retry-After"))
	}
	s.expect(s.upload(bob, "", "bob.mpg", clip, nil), 202, nil) // other keys are not held back

	// Two of bob's jobs waiting: his third is refused, alice's is not.
	s.expect(s.upload(bob, "", "bob.mpg", clip, nil), 202, nil)
	resp = s.upload(bob, "", "bob.mpg", clip, nil)
	if b := s.expect(resp, 429, nil); errorCode(t, b) != codeQueueFull || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third job waiting: %s (Retry-After %q)", b, resp.Header.Get("Retry-After"))
	}
	if n, _ := s.store.Waiting(t.Context()); n != 2 {
		t.Errorf("%d jobs waiting, want bob's 2", n)
	}
}

// A tiny file with an absurd frame rate held a worker for ~20 minutes: the
// rate was guessed as 25 and every frame analysed. The job now fails at
// once with a code that says why.
func TestAbsurdFrameRateFailsTheJob(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fast.mp4")
	videofix.WriteSynthetic(t, p, videofix.Synthetic{FPS: 10000, Width: 32, Height: 32, Frames: 2000, Background: gocv.NewScalar(40, 90, 60, 0)})
	clip, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := startService(t, serviceOptions{})
	var a Analysis
	s.expect(s.upload(s.admin, "?wait=120", "fast.mp4", clip, nil), 200, &a)
	if a.Status != store.Failed || a.Error == nil || a.Error.Code != "bad_frame_rate" || a.Attempts != 1 {
		t.Fatalf("a 10000 fps file: %s %+v after %d attempts", a.Status, a.Error, a.Attempts)
	}
	if !strings.Contains(a.Error.Message, "fast.mp4") || strings.Contains(a.Error.Message, s.data) {
		t.Errorf("the message should name the file, not the server's path: %s", a.Error.Message)
	}
}
