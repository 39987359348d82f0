package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
)

// goldenClip is the GRID clip whose report is pinned (here and in
// cmd/trueframe's TestScanJSON). Its face_cnn frame scores move by 0.02
// when the aligned face shifts by a tenth of a pixel, as landmarks do from
// one CPU's float kernels to another's; bbaf2n's move by 0.12, and an
// AVX-512 machine turned that clip's verdict from likely_authentic to
// suspicious (see the README, "Same file, same verdict?").
const goldenClip = "lbax4n.mpg"

func TestAnalysisLifecycle(t *testing.T) {
	s := startService(t, serviceOptions{})
	key, _ := s.newKey(store.RoleAnalyst)
	clip := gridClip(t, goldenClip)

	var a Analysis
	s.expect(s.upload(key, "?wait=120", "speaker.mpg", clip, nil), 200, &a)
	if a.Status != store.Done || a.Progress != 1 || a.File.Name != "speaker.mpg" || a.File.SizeBytes != int64(len(clip)) {
		t.Fatalf("analysis = %+v", a)
	}
	var rep struct {
		File    string   `json:"file"`
		SHA256  string   `json:"sha256"`
		Score   *float64 `json:"score"`
		Verdict string   `json:"verdict"`
		Faces   []any    `json:"faces"`
	}
	if err := json.Unmarshal(a.Result, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Score == nil || *rep.Score < 0 || *rep.Score > 1 || rep.Verdict == "" || len(rep.Faces) == 0 {
		t.Errorf("report = %s", a.Result)
	}
	if rep.SHA256 != a.File.SHA256 || rep.File != "speaker.mpg" {
		t.Errorf("report names %q %s, upload hashed %s", rep.File, rep.SHA256, a.File.SHA256)
	}
	t.Logf("score %.3f verdict %s, %d evidence files", *rep.Score, rep.Verdict, len(a.Evidence))
	// The report `trueframe scan --json` prints for the same file (its
	// TestScanJSON compares with the same golden report).
	testutil.GoldenReport(t, a.Result, "grid-lbax4n")

	// The same report on GET, and in the list.
	var got Analysis
	s.expect(s.do("GET", a.URL, key, "", nil), 200, &got)
	if got.ID != a.ID || !bytes.Equal(compactJSON(t, got.Result), compactJSON(t, a.Result)) {
		t.Errorf("GET differs from the POST answer")
	}
	var page AnalysisPage
	s.expect(s.do("GET", "/v1/analyses", key, "", nil), 200, &page)
	if len(page.Analyses) != 1 || page.Analyses[0].ID != a.ID || page.Analyses[0].Result != nil {
		t.Errorf("list = %+v", page)
	}
	// The list carries each done analysis's verdict and score, so that a
	// history can show them without fetching every report.
	if sum := page.Analyses[0].Summary; sum == nil || sum.Verdict != rep.Verdict || sum.Score != *rep.Score {
		t.Errorf("list summary = %+v, report %s %v", sum, rep.Verdict, *rep.Score)
	}
	if got.Summary == nil || got.Summary.Verdict != rep.Verdict {
		t.Errorf("GET summary = %+v", got.Summary)
	}

	// The upload comes back as it was sent, typed from its bytes, with
	// ranges for a video player.
	resp := s.do("GET", a.URL+"/file", key, "", nil)
	if b := s.expect(resp, 200, nil); !bytes.Equal(b, clip) || resp.Header.Get("Content-Type") != "video/mpeg" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "speaker.mpg") {
		t.Errorf("file: %d bytes, %q, %q", len(b), resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	req, _ := http.NewRequest("GET", s.url+a.URL+"/file", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Range", "bytes=10-19")
	if b := s.expect(s.mustDo(req), 206, nil); !bytes.Equal(b, clip[10:20]) {
		t.Errorf("range: %q", b)
	}

	// Each face has a thumbnail among the evidence.
	var faces struct {
		Faces []struct {
			Thumbnail string `json:"thumbnail"`
		} `json:"faces"`
	}
	json.Unmarshal(a.Result, &faces)
	for _, f := range faces.Faces {
		if !strings.HasPrefix(f.Thumbnail, "face_track") {
			t.Errorf("face without a thumbnail: %s", a.Result)
			continue
		}
		resp := s.do("GET", a.URL+"/evidence/"+f.Thumbnail, key, "", nil)
		if b := s.expect(resp, 200, nil); !bytes.HasPrefix(b, []byte("\xff\xd8")) || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("thumbnail %s is %q", f.Thumbnail, resp.Header.Get("Content-Type"))
		}
	}

	// Evidence images are served; names cannot climb out of the job's directory.
	if len(a.Evidence) == 0 {
		t.Fatal("no evidence image for a clip with a face")
	}
	resp = s.do("GET", a.Evidence[0].URL, key, "", nil)
	img := s.expect(resp, 200, nil)
	if !bytes.HasPrefix(img, []byte("\x89PNG")) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("evidence is %q, %d bytes", resp.Header.Get("Content-Type"), len(img))
	}
	for _, bad := range []string{"..%2F..%2Ftrueframe.db", "nope.png", ".hidden"} {
		b := s.expect(s.do("GET", a.URL+"/evidence/"+bad, key, "", nil), 404, nil)
		if errorCode(t, b) != codeNotFound {
			t.Errorf("evidence %q: %s", bad, b)
		}
	}

	// Delete removes the job, the upload and the evidence.
	job, _ := s.store.Job(t.Context(), a.ID)
	if job.FilePath != "uploads/"+a.ID+".mpg" || job.EvidenceDir != "evidence/"+a.ID+"/" {
		t.Errorf("blob keys %q, %q", job.FilePath, job.EvidenceDir)
	}
	if n := s.blobCount(job.FilePath, job.EvidenceDir); n != 1+len(a.Evidence) {
		t.Errorf("%d blobs before delete, want the upload and %d evidence files", n, len(a.Evidence))
	}
	s.expect(s.do("DELETE", a.URL, key, "", nil), 204, nil)
	s.expect(s.do("GET", a.URL, key, "", nil), 404, nil)
	if n := s.blobCount(job.FilePath, job.EvidenceDir); n != 0 {
		t.Errorf("%d blobs still there after delete", n)
	}
}

// blobCount counts the blobs at an upload key and under an evidence prefix.
func (s *service) blobCount(upload, evidence string) int {
	s.t.Helper()
	n := 0
	if ok, err := s.server.blobs.Exists(s.t.Context(), upload); err != nil {
		s.t.Fatal(err)
	} else if ok {
		n++
	}
	objs, err := s.server.blobs.List(s.t.Context(), evidence)
	if err != nil {
		s.t.Fatal(err)
	}
	return n + len(objs)
}

func (s *service) mustDo(req *http.Request) *http.Response {
	s.t.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

func compactJSON(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBadVideoFailsWithReason(t *testing.T) {
	s := startService(t, serviceOptions{})
	// An MP4 header passes the upload check; there is no movie behind it.
	garbage := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), bytes.Repeat([]byte{0x5A}, 8192)...)
	var a Analysis
	s.expect(s.upload(s.admin, "?wait=120", "broken.mpg", garbage, nil), 200, &a)
	if a.Status != store.Failed || a.Error == nil || a.Error.Code == "" || a.Attempts != 1 {
		t.Fatalf("corrupt video: %+v", a)
	}
	t.Logf("corrupt video: %s: %s", a.Error.Code, a.Error.Message)
}

func TestErrorCodes(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{MaxUploadBytes: 64 << 10}, noRunner: true})
	analyst, _ := s.newKey(store.RoleAnalyst)
	registrar, _ := s.newKey(store.RoleRegistrar)
	clip := gridClip(t, "bbaf2n.mpg")
	small := clip[:32<<10]
	ct, body := multipartBody(t, "a.mpg", small, nil)
	bodyBytes := body.Bytes()
	upload := func() io.Reader { return bytes.NewReader(bodyBytes) }

	for _, tc := range []struct {
		name         string
		method, path string
		key          string
		contentType  string
		body         io.Reader
		status       int
		code         string
	}{
		{"no key", "GET", "/v1/analyses", "", "", nil, 401, codeMissingKey},
		{"not bearer", "GET", "/v1/analyses", "", "", nil, 401, codeMissingKey},
		{"wrong key", "GET", "/v1/analyses", "tf_0123456789abcdef_" + strings.Repeat("0", 64), "", nil, 401, codeInvalidKey},
		{"garbage key", "GET", "/v1/analyses", "hunter2", "", nil, 401, codeInvalidKey},
		{"analyst manages keys", "GET", "/v1/keys", analyst, "", nil, 403, codeForbidden},
		{"registrar scans", "POST", "/v1/analyses", registrar, ct, upload(), 403, codeForbidden},
		{"bad id", "GET", "/v1/analyses/nope", analyst, "", nil, 404, codeNotFound},
		{"unknown id", "GET", "/v1/analyses/an_000000000000000000000000", analyst, "", nil, 404, codeNotFound},
		{"unknown route", "GET", "/v1/nothing", analyst, "", nil, 404, codeNotFound},
		{"wrong method", "PUT", "/v1/analyses", analyst, "", nil, 405, codeMethod},
		{"not multipart", "POST", "/v1/analyses", analyst, "video/mp4", bytes.NewReader(small), 415, codeUnsupportedMedia},
		{"broken multipart", "POST", "/v1/analyses", analyst, "multipart/form-data; boundary=xyz", strings.NewReader("garbage"), 400, codeBadRequest},
		{"no file field", "POST", "/v1/analyses", analyst, "", nil, 400, codeBadRequest}, // body set below
		{"bad wait", "POST", "/v1/analyses?wait=soon", analyst, ct, upload(), 400, codeBadRequest},
		{"bad limit", "GET", "/v1/analyses?limit=0", analyst, "", nil, 400, codeBadRequest},
		{"bad cursor", "GET", "/v1/analyses?cursor=abc", analyst, "", nil, 400, codeBadRequest},
		{"malformed JSON", "POST", "/v1/keys", s.admin, "application/json", strings.NewReader(`{"role":`), 400, codeBadRequest},
		{"unknown JSON field", "POST", "/v1/keys", s.admin, "application/json", strings.NewReader(`{"role":"admin","root":true}`), 400, codeBadRequest},
		{"bad role", "POST", "/v1/keys", s.admin, "application/json", strings.NewReader(`{"role":"god"}`), 400, codeBadRequest},
		{"bad callback", "POST", "/v1/analyses?callback_url=file:///etc/passwd", analyst, ct, upload(), 400, codeInvalidCallback},
		{"revoke unknown key", "DELETE", "/v1/keys/0000000000000000", s.admin, "", nil, 404, codeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, contentType := tc.body, tc.contentType
			if tc.name == "no file field" {
				var fieldsOnly bytes.Buffer
				contentType, fieldsOnly = multipartFields(t, map[string]string{"note": "x"})
				body = &fieldsOnly
			}
			req, _ := http.NewRequest(tc.method, s.url+tc.path, body)
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			if tc.name == "not bearer" {
				req.Header.Set("Authorization", "Basic dXNlcjpwdw==")
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.name == "not bearer" {
				tc.code = codeInvalidKey
			}
			if resp.StatusCode != tc.status || errorCode(t, b) != tc.code {
				t.Errorf("status %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	t.Run("wrong content", func(t *testing.T) {
		// Named .mp4, but the bytes are text: judged from the bytes.
		b := s.expect(s.upload(analyst, "", "clip.mp4", []byte("this is not a video, only text\n"), nil), 415, nil)
		if errorCode(t, b) != codeUnsupportedMedia {
			t.Error(string(b))
		}
	})
	t.Run("too large", func(t *testing.T) {
		b := s.expect(s.upload(analyst, "", "big.mpg", clip[:100<<10], nil), 413, nil)
		if errorCode(t, b) != codeTooLarge {
			t.Error(string(b))
		}
	})
	t.Run("too large by Content-Length", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.url+"/v1/analyses", io.LimitReader(zeros{}, 10<<20))
		req.ContentLength = 10 << 20
		req.Header.Set("Authorization", "Bearer "+analyst)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := s.expect(resp, 413, nil); errorCode(t, b) != codeTooLarge {
			t.Error(string(b))
		}
	})
	if leftovers, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp")); len(leftovers) != 0 {
		t.Errorf("refused uploads left files behind: %v", leftovers)
	}
	if n, _ := s.store.Waiting(t.Context()); n != 0 {
		t.Errorf("refused uploads created %d jobs", n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func multipartFields(t *testing.T, fields map[string]string) (string, bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return mw.FormDataContentType(), buf
}

func TestQueueFullAndRateLimit(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{MaxWaiting: 2, RatePerSecond: 0.001, RateBurst: 6}, noRunner: true})
	clip := gridClip(t, "bbaf2n.mpg")
	for range 2 {
		s.expect(s.upload(s.admin, "", "a.mpg", clip, nil), 202, nil)
	}
	resp := s.upload(s.admin, "", "a.mpg", clip, nil)
	if b := s.expect(resp, 429, nil); errorCode(t, b) != codeQueueFull || resp.Header.Get("Retry-After") == "" {
		t.Errorf("queue full: %s, Retry-After %q", b, resp.Header.Get("Retry-After"))
	}
	// 3 uploads + 3 more requests use the burst of 6; the next is limited.
	for range 3 {
		s.expect(s.do("GET", "/v1/analyses", s.admin, "", nil), 200, nil)
	}
	resp = s.do("GET", "/v1/analyses", s.admin, "", nil)
	if b := s.expect(resp, 429, nil); errorCode(t, b) != codeRateLimited || resp.Header.Get("Retry-After") == "" {
		t.Errorf("rate limited: %s, Retry-After %q", b, resp.Header.Get("Retry-After"))
	}
	// The limit is per key: another key is not affected.
	_, other, err := s.store.NewKey(t.Context(), "other", store.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	s.expect(s.do("GET", "/v1/analyses", other, "", nil), 200, nil)
}

func TestKeysIsolation(t *testing.T) {
	s := startService(t, serviceOptions{noRunner: true})
	alice, _ := s.newKey(store.RoleAnalyst)
	bob, _ := s.newKey(store.RoleAnalyst)
	clip := gridClip(t, "bbaf2n.mpg")
	var a Analysis
	s.expect(s.upload(alice, "", "alice.mpg", clip, nil), 202, &a)

	for _, path := range []string{a.URL, a.URL + "/evidence/heatmap.png", a.URL + "/file"} {
		if b := s.expect(s.do("GET", path, bob, "", nil), 404, nil); errorCode(t, b) != codeNotFound {
			t.Errorf("bob reads %s: %s", path, b)
		}
	}
	s.expect(s.do("DELETE", a.URL, bob, "", nil), 404, nil)
	var page AnalysisPage
	s.expect(s.do("GET", "/v1/analyses", bob, "", nil), 200, &page)
	if len(page.Analyses) != 0 {
		t.Errorf("bob lists %d analyses of alice", len(page.Analyses))
	}
	// Alice still has it; the admin sees everyone's.
	s.expect(s.do("GET", a.URL, alice, "", nil), 200, nil)
	s.expect(s.do("GET", "/v1/analyses", s.admin, "", nil), 200, &page)
	if len(page.Analyses) != 1 {
		t.Errorf("admin lists %d analyses, want 1", len(page.Analyses))
	}

	// Pagination walks every job once.
	for range 4 {
		s.expect(s.upload(alice, "", "more.mpg", clip, nil), 202, nil)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		var p AnalysisPage
		s.expect(s.do("GET", "/v1/analyses?limit=2&cursor="+cursor, alice, "", nil), 200, &p)
		for _, x := range p.Analyses {
			if seen[x.ID] {
				t.Fatalf("job %s on two pages", x.ID)
			}
			seen[x.ID] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Errorf("pages held %d jobs, want 5", len(seen))
	}

	// A revoked key stops working at once.
	var me Me
	s.expect(s.do("GET", "/v1/me", bob, "", nil), 200, &me)
	s.expect(s.do("DELETE", "/v1/keys/"+me.ID, s.admin, "", nil), 204, nil)
	if b := s.expect(s.do("GET", "/v1/analyses", bob, "", nil), 401, nil); errorCode(t, b) != codeInvalidKey {
		t.Error(string(b))
	}
}

func TestWebhookSignedAndRetried(t *testing.T) {
	type delivery struct {
		body []byte
		sig  string
	}
	got := make(chan delivery, 8)
	calls := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls++
		got <- delivery{b, r.Header.Get(webhook.SignatureHeader)}
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first attempt fails
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()

	s := startService(t, serviceOptions{})
	key, secret := s.newKey(store.RoleAnalyst)
	var me Me
	s.expect(s.do("GET", "/v1/me", key, "", nil), 200, &me)
	if me.WebhookSecret != secret {
		t.Fatalf("/v1/me secret differs from the one given at creation")
	}
	clip := gridClip(t, "bbaf2n.mpg")
	var a Analysis
	s.expect(s.upload(key, "", "hooked.mpg", clip, map[string]string{"callback_url": receiver.URL + "/hook"}), 202, &a)
	if a.Webhook == nil || a.Webhook.URL != receiver.URL+"/hook" {
		t.Fatalf("webhook not recorded: %+v", a.Webhook)
	}
	var last delivery
	for i := range 2 {
		select {
		case last = <-got:
		case <-time.After(3 * time.Minute):
			t.Fatalf("delivery %d never came", i+1)
		}
		if !webhook.Verify(secret, last.body, last.sig) {
			t.Fatalf("delivery %d: signature %q does not verify", i+1, last.sig)
		}
	}
	var p WebhookPayload
	if err := json.Unmarshal(last.body, &p); err != nil || p.Event != "analysis.completed" || p.Analysis.ID != a.ID ||
		p.Analysis.Status != store.Done || p.Analysis.Result == nil {
		t.Fatalf("payload = %s (%v)", last.body, err)
	}
	// The delivery status is on the job.
	var j Analysis
	waitFor(t, "the delivery to be recorded", func() bool {
		s.expect(s.do("GET", a.URL, key, "", nil), 200, &j)
		return j.Webhook.State == store.WebhookDelivered
	})
	if j.Webhook.Attempts != 2 || j.Webhook.LastCode != 200 {
		t.Errorf("webhook status %+v, want delivered on attempt 2", j.Webhook)
	}
}

func TestRestartFinishesQueuedJob(t *testing.T) {
	data := t.TempDir()
	first := startService(t, serviceOptions{data: data, noRunner: true})
	clip := gridClip(t, "bbaf2n.mpg")
	var a Analysis
	first.expect(first.upload(first.admin, "", "queued.mpg", clip, nil), 202, &a)
	if a.Status != store.Queued {
		t.Fatalf("status %s, want queued", a.Status)
	}
	admin := first.admin
	first.stop()

	second := startService(t, serviceOptions{data: data})
	done := second.waitDone(admin, a.ID)
	if done.Status != store.Done || done.Result == nil {
		t.Fatalf("after restart: %+v", done)
	}
}

func TestWorkerCrashFailsJobAfterRetries(t *testing.T) {
	s := startService(t, serviceOptions{jobs: jobs.Options{MaxAttempts: 2}})
	clip := gridClip(t, "bbaf2n.mpg")
	poisoned := append(append(append([]byte{}, clip[:4]...), crashMarker...), clip[4+len(crashMarker):]...)
	var a Analysis
	s.expect(s.upload(s.admin, "", "poison.mpg", poisoned, nil), 202, &a)
	done := s.waitDone(s.admin, a.ID)
	if done.Status != store.Failed || done.Error == nil || done.Error.Code != "worker_crashed" || done.Attempts != 2 {
		t.Fatalf("crashing job: %+v %+v", done, done.Error)
	}
	if !strings.Contains(done.Error.Message, "abort") {
		t.Errorf("the reason does not name the crash: %q", done.Error.Message)
	}
	// The service keeps serving, and the next job succeeds.
	s.expect(s.do("GET", "/healthz", "", "", nil), 200, nil)
	var ok Analysis
	s.expect(s.upload(s.admin, "?wait=120", "fine.mpg", clip, nil), 200, &ok)
	if ok.Status != store.Done {
		t.Errorf("job after a crash: %s", ok.Status)
	}
	metrics := string(s.expect(s.do("GET", "/metrics", "", "", nil), 200, nil))
	for _, want := range []string{"trueframe_worker_crashes_total 2", `trueframe_jobs{state="failed"} 1`, `trueframe_jobs{state="done"} 1`,
		`trueframe_http_requests_total{code="202",method="POST",route="/v1/analyses"} 1`, `trueframe_build_info{version="test"} 1`,
		"trueframe_job_duration_seconds_bucket", `trueframe_detector_score_count{detector="blink",version=`, "trueframe_queue_depth 0",
		"trueframe_upload_bytes_total", `trueframe_video_score_count{fusion_version="` + fusionVersion(t) + `"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestUploadsThatStopLeaveNothing(t *testing.T) {
	s := startService(t, serviceOptions{api: Options{UploadIdleTimeout: 300 * time.Millisecond}, noRunner: true})
	clip := gridClip(t, "bbaf2n.mpg")
	ct, body := multipartBody(t, "a.mpg", clip, nil)
	whole := body.Bytes()
	send := func(stall bool) string {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/analyses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			s.admin, ct, len(whole))
		conn.Write(whole[:len(whole)/2])
		if !stall {
			return "" // hang up midway
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(conn)
		return string(b)
	}
	if answer := send(true); !strings.Contains(answer, " 408 ") || !strings.Contains(answer, codeUploadTimeout) {
		t.Errorf("stalled upload answered %q", answer)
	}
	send(false)
	waitFor(t, "the handler of the hung-up upload to end", func() bool { return s.handled("/v1/analyses", "POST") == 2 })
	if leftovers, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp")); len(leftovers) != 0 {
		t.Errorf("stopped uploads left %d files", len(leftovers))
	}
	if n, _ := s.store.Waiting(t.Context()); n != 0 {
		t.Errorf("stopped uploads created %d jobs", n)
	}
}

// TestOpenAPIMatchesRoutes checks that every route is documented and every
// documented route answers (something other than 404/405).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := startService(t, serviceOptions{noRunner: true})
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	// The description is public: a client reads it before it has a key.
	s.expect(s.do("GET", "/v1/openapi.json", "", "", nil), 200, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`[:*]([a-z0-9]+)`)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	routes := map[string]bool{}
	for _, r := range s.server.engine.Routes() {
		key := r.Method + " " + param.ReplaceAllString(r.Path, "{$1}")
		routes[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
	}
	id := "an_000000000000000000000000"
	for key := range documented {
		if !routes[key] {
			t.Errorf("documented %s has no route", key)
		}
		method, path, _ := strings.Cut(key, " ")
		path = strings.NewReplacer("{id}", id, "{name}", "x.png", "{sha256}", strings.Repeat("0", 64)).Replace(path)
		if strings.HasPrefix(path, "/v1/generator/jobs/") {
			path = strings.Replace(path, id, "gen_000000000000000000000000", 1)
		}
		if strings.HasPrefix(path, "/v1/keys/") {
			path = "/v1/keys/0000000000000000"
		}
		resp := s.do(method, path, s.admin, "", nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// A missing resource is a 404 too, but not this one.
		if resp.StatusCode == 405 || strings.Contains(string(b), "no such route") {
			t.Errorf("%s answers %d %s", key, resp.StatusCode, b)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := startService(t, serviceOptions{noRunner: true})
	page := s.do("GET", "/", "", "", nil)
	if b := s.expect(page, 200, nil); !strings.Contains(string(b), `<script type="module" src="/assets/app.js">`) ||
		!strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("web page: %s, %q", page.Header, b[:min(len(b), 200)])
	}
	// The page runs only the binary's own script and style sheet: no
	// inline code, so none that an injection could add.
	for _, path := range []string{"/", "/assets/app.js", "/assets/app.css"} {
		resp := s.do("GET", path, "", "", nil)
		b := s.expect(resp, 200, nil)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if path == "/" && (strings.Contains(string(b), "<script>") || strings.Contains(string(b), "<style") || strings.Contains(string(b), " style=")) {
			t.Errorf("the page has inline script or style")
		}
	}
	s.expect(s.do("GET", "/assets/index.html", "", "", nil), 404, nil)
	s.expect(s.do("GET", "/assets/nothing.js", "", "", nil), 404, nil)
	s.server.SetReady(errors.New("models are loading"))
	s.expect(s.do("GET", "/healthz", "", "", nil), 200, nil)
	b := s.expect(s.do("GET", "/readyz", "", "", nil), 503, nil)
	if errorCode(t, b) != codeNotReady || !strings.Contains(string(b), "models are loading") {
		t.Errorf("not ready: %s", b)
	}
	s.server.SetReady(nil)
	var st struct{ Status string }
	s.expect(s.do("GET", "/readyz", "", "", nil), 200, &st)
	if st.Status != "ready" {
		t.Errorf("ready: %+v", st)
	}
	// A closed database makes the service unready again.
	s.store.Close()
	if b := s.expect(s.do("GET", "/readyz", "", "", nil), 503, nil); errorCode(t, b) != codeNotReady {
		t.Errorf("closed store: %s", b)
	}

	// Admin key management: list shows the keys, without secrets.
	t2 := startService(t, serviceOptions{noRunner: true})
	t2.newKey(store.RoleAnalyst)
	var list struct{ Keys []map[string]any }
	raw := t2.expect(t2.do("GET", "/v1/keys", t2.admin, "", nil), 200, &list)
	if len(list.Keys) != 2 || strings.Contains(string(raw), "secret") || strings.Contains(string(raw), "tf_") {
		t.Errorf("key list: %s", raw)
	}
}

// fusionVersion is the version of the embedded fusion, which analyses run
// when no registry chooses another.
func fusionVersion(t *testing.T) string {
	t.Helper()
	f, err := models.DefaultFusion()
	if err != nil {
		t.Fatal(err)
	}
	return f.Version
}
