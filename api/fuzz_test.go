package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/api/jobs"
	"github.com/trueframe/trueframe/api/metrics"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/api/webhook"
)

// fuzzServer is a Server answering in this process, without worker
// processes or a chain: jobs are queued, never run, and the ledger is the
// in-memory fake. Its limits are out of the fuzzer's way.
type fuzzServer struct {
	srv      *Server
	data     string
	admin    string
	contract *contract
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	data := f.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(data, "trueframe.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hooks := webhook.New(webhook.Options{})
	m := metrics.New("fuzz", countsAdapter{st}, log)
	runner := jobs.New(st, nil, hooks, m, log, jobs.Options{})
	gen := jobs.New(st, nil, hooks, m, log, jobs.Options{Kinds: GeneratorKinds})
	srv := New(st, runner, hooks, m, log, Options{DataDir: data, MaxUploadBytes: 1 << 20, MaxWaiting: 1 << 30,
		MaxQueuedPerKey: 1 << 30, RatePerSecond: 1e9, RateBurst: 1 << 30, Version: "fuzz", Ledger: newFakeLedger(), Generator: gen})
	if err := srv.Prepare(context.Background()); err != nil {
		f.Fatal(err)
	}
	srv.SetReady(nil)
	_, admin, err := st.NewKey(context.Background(), "admin", store.RoleAdmin)
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzServer{srv: srv, data: data, admin: admin, contract: loadContract(f)}
}

// do serves one request and checks what every answer must be: never a
// 500 (a handler panic is one), an error in the one error shape, JSON
// otherwise, and as the OpenAPI document says.
func (fs *fuzzServer) do(t *testing.T, method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fs.admin)
	req.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	fs.srv.Handler().ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("%s %s answered %d: %s", method, path, w.Code, w.Body)
	}
	if w.Code >= 400 {
		var e ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s %s answered %d not in the error shape: %s", method, path, w.Code, w.Body)
		}
	} else if w.Code != http.StatusNoContent && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s %s answered %d with invalid JSON: %s", method, path, w.Code, w.Body)
	}
	if err := fs.contract.check(req, w.Code, w.Header(), w.Body.Bytes()); err != nil {
		t.Fatalf("%s %s answered %d against the OpenAPI document: %v", method, path, w.Code, err)
	}
	return w
}

const fuzzBoundary = "trueframe-fuzz-boundary"

// multipartSeed builds a multipart body with the fuzz boundary: fields,
// then files by field name.
func multipartSeed(fields map[string]string, files map[string][]byte) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary(fuzzBoundary)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for k, v := range files {
		fw, _ := mw.CreateFormFile(k, k+".mp4")
		fw.Write(v)
	}
	mw.Close()
	return buf.Bytes()
}

// FuzzMultipartUpload sends arbitrary multipart bodies to the four upload
// routes: each must answer (never a 500 or a panic) in the API's shapes,
// and leave no half-received upload behind.
func FuzzMultipartUpload(f *testing.F) {
	mp4 := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), bytes.Repeat([]byte{0x5A}, 600)...)
	routes := []string{"/v1/analyses", "/v1/verify", "/v1/originals", "/v1/generator/jobs", "/v1/analyses?wait=0.001"}
	f.Add(uint8(0), multipartSeed(nil, map[string][]byte{"file": mp4}))
	f.Add(uint8(0), multipartSeed(map[string]string{"callback_url": "https://hooks.example.com/x"}, map[string][]byte{"file": mp4}))
	f.Add(uint8(0), multipartSeed(map[string]string{"note": "x"}, nil))
	f.Add(uint8(0), multipartSeed(nil, map[string][]byte{"file": []byte("not a video")}))
	f.Add(uint8(1), multipartSeed(nil, map[string][]byte{"file": mp4}))
	f.Add(uint8(2), multipartSeed(map[string]string{"meta": "grid/bbaf2n"}, map[string][]byte{"file": mp4}))
	f.Add(uint8(3), multipartSeed(map[string]string{"type": "train", "steps": "10"}, map[string][]byte{"a": mp4, "b": mp4}))
	f.Add(uint8(3), multipartSeed(map[string]string{"type": "swap", "model": "gen_000000000000000000000000"}, map[string][]byte{"target": mp4}))
	f.Add(uint8(4), multipartSeed(nil, map[string][]byte{"file": mp4, "extra": mp4}))
	f.Add(uint8(0), []byte("--"+fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x\"\r\n\r\n"))
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := routes[int(route)%len(routes)]
		fs.do(t, "POST", path, "multipart/form-data; boundary="+fuzzBoundary, body)
		if left, _ := os.ReadDir(filepath.Join(fs.data, "uploads", "tmp")); len(left) != 0 {
			t.Fatalf("%s left %d uploads in tmp", path, len(left))
		}
	})
}

// FuzzJSONBodies sends arbitrary JSON bodies to the route that reads one
// (POST /v1/keys): 201 with a valid key, or 400/413 in the error shape.
func FuzzJSONBodies(f *testing.F) {
	for _, seed := range []string{`{"name":"desk","role":"analyst"}`, `{"role":"admin"}`, `{"role":"god"}`, `{"role":`,
		`{"role":"admin","root":true}`, `{"name":"` + string(bytes.Repeat([]byte("x"), 300)) + `","role":"registrar"}`,
		`{"role":"analyst"} {"role":"admin"}`, `[]`, `null`, `"analyst"`, `{"name":"\ud800","role":"analyst"}`, ``} {
		f.Add([]byte(seed))
	}
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := fs.do(t, "POST", "/v1/keys", "application/json", body)
		switch w.Code {
		case http.StatusCreated:
			var k NewKeyResponse
			if err := json.Unmarshal(w.Body.Bytes(), &k); err != nil || !k.Role.Valid() || len(k.Name) > 200 || k.Key == "" {
				t.Fatalf("created %s", w.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("answered %d: %s", w.Code, w.Body)
		}
	})
}
