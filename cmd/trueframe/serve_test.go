package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/internal/testutil"
)

// server is `trueframe serve` running as a subprocess of the test.
type server struct {
	cmd *exec.Cmd
	url string
	out *bytes.Buffer // its stdout and stderr, for failures
}

var servingURL = regexp.MustCompile(`serving at (http://[0-9.:]+)`)

func startServer(t *testing.T, data string, args ...string) *server {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0", "--log-format", "text"}, args...)...)
	cmd.Env = append(os.Environ(), "TRUEFRAME_CLI_TEST=1", "TRUEFRAME_DEPS="+testutil.DepsDir(t))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, out: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: s.out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case s.url = <-found:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve printed no URL: %s", s.out)
	}
	return s
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type jobStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  *struct {
		Code, Message string
	} `json:"error"`
}

func (s *server) submit(t *testing.T, key, file string) (int, jobStatus) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", filepath.Base(file))
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(b)
	mw.Close()
	req, _ := http.NewRequest("POST", s.url+"/v1/analyses", &buf)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, jobStatus{} // the server may be dying
	}
	defer resp.Body.Close()
	var js jobStatus
	json.NewDecoder(resp.Body).Decode(&js)
	return resp.StatusCode, js
}

func (s *server) status(key, id string) (int, jobStatus, error) {
	req, _ := http.NewRequest("GET", s.url+"/v1/analyses/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, jobStatus{}, err
	}
	defer resp.Body.Close()
	var js jobStatus
	err = json.NewDecoder(resp.Body).Decode(&js)
	return resp.StatusCode, js, err
}

// TestServeSurvivesKill9 submits 20 jobs, kills the service with SIGKILL
// while some run, restarts it, and checks that every job that got a 202
// ends done or failed with a reason: none vanish.
func TestServeSurvivesKill9(t *testing.T) {
	clips, err := filepath.Glob(filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "*.mpg"))
	if err != nil || len(clips) == 0 {
		t.Fatalf("no GRID clips: %v", err)
	}
	data := t.TempDir()
	r := trueframe(t, "keys", "create", "--role", "analyst", "--data", data)
	key := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(key, "tf_") {
		t.Fatalf("keys create: exit %d %q %s", r.code, r.stdout, r.stderr)
	}

	first := startServer(t, data, "--workers", "2")
	var accepted []string
	for i := range 20 {
		code, js := first.submit(t, key, clips[i%len(clips)])
		if code != http.StatusAccepted || js.ID == "" {
			t.Fatalf("upload %d: status %d %+v\n%s", i, code, js, first.out)
		}
		accepted = append(accepted, js.ID)
	}
	// Kill it while analyses run (the first few are done by now or soon).
	deadline := time.Now().Add(2 * time.Minute)
	for running := false; !running; {
		for _, id := range accepted {
			if _, js, _ := first.status(key, id); js.Status == "running" {
				running = true
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no job ever ran")
		}
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	var before []string
	for _, id := range accepted {
		if _, js, err := first.status(key, id); err == nil {
			before = append(before, js.Status)
		}
	}
	if len(before) != 0 {
		t.Fatal("the killed server still answers")
	}

	second := startServer(t, data, "--workers", "2")
	done, failed := 0, 0
	deadline = time.Now().Add(5 * time.Minute)
	for _, id := range accepted {
		for {
			code, js, err := second.status(key, id)
			if err != nil || code != http.StatusOK {
				t.Fatalf("job %s after restart: status %d, %v\n%s", id, code, err, second.out)
			}
			if js.Status == "done" {
				done++
				break
			}
			if js.Status == "failed" {
				if js.Error == nil || js.Error.Message == "" {
					t.Errorf("job %s failed without a reason", id)
				}
				failed++
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s still %s after the restart", id, js.Status)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("after kill -9 and restart: %d done, %d failed, of %d accepted", done, failed, len(accepted))
	if done+failed != len(accepted) {
		t.Fatalf("%d jobs vanished", len(accepted)-done-failed)
	}
	if failed > 0 {
		t.Errorf("%d real clips failed", failed)
	}
	// Nothing half-received or orphaned is left: the store holds the
	// accepted uploads, and the node's directories nothing.
	b, err := blobs.Open(t.Context(), filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if uploads, err := b.List(t.Context(), "uploads/"); len(uploads) != len(accepted) || err != nil {
		t.Errorf("the store holds %d uploads (%v), want %d", len(uploads), err, len(accepted))
	}
	for _, dir := range []string{filepath.Join("uploads", "tmp"), "cache"} {
		if entries, _ := os.ReadDir(filepath.Join(data, dir)); len(entries) != 0 {
			t.Errorf("%s holds %d entries", dir, len(entries))
		}
	}
}

// formFile is one file part of a multipart request: its field and the
// path of the file to send.
type formFile struct{ field, path string }

// postForm sends a multipart request (fields, then files) with key and
// decodes the JSON answer into out; it returns the status.
func postForm(t *testing.T, url, key string, fields map[string]string, files []formFile, out any) int {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		fw, _ := mw.CreateFormFile(f.field, filepath.Base(f.path))
		fw.Write(b)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return doJSON(t, req, key, out)
}

// getJSON GETs url with key, decodes the body into out (when not nil) and
// returns the status.
func getJSON(t *testing.T, url, key string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	return doJSON(t, req, key, out)
}

// doJSON sends req with key, decodes the JSON answer into out (when not
// nil) and returns the status.
func doJSON(t *testing.T, req *http.Request, key string, out any) int {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
