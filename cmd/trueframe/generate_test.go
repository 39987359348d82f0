package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
)

type genJob struct {
	ID        string
	URL       string
	Status    string
	Detail    map[string]float64
	Error     *struct{ Code, Message string }
	Result    json.RawMessage
	Artifacts []struct{ Name, URL string }
}

// TestServeGeneratorJobs trains a (tiny) model, swaps a face with it and
// builds a dataset through the service, each in `trueframe generate`
// child processes.
func TestServeGeneratorJobs(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	data := t.TempDir()
	r := trueframe(t, "keys", "create", "--role", "registrar", "--data", data)
	key := strings.TrimSpace(r.stdout)
	if r.code != 0 {
		t.Fatalf("keys create: %s", r.stderr)
	}
	srv := startServer(t, data, "--workers", "1", "--ledger=false")

	submit := func(fields map[string]string, files map[string]string) genJob {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		for field, name := range files {
			b, err := os.ReadFile(filepath.Join(grid, name))
			if err != nil {
				t.Fatal(err)
			}
			fw, _ := mw.CreateFormFile(field, name)
			fw.Write(b)
		}
		mw.Close()
		req, _ := http.NewRequest("POST", srv.url+"/v1/generator/jobs", &buf)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var j genJob
		json.NewDecoder(resp.Body).Decode(&j)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("submit %v: status %d", fields, resp.StatusCode)
		}
		return j
	}
	get := func(url string) *http.Response {
		req, _ := http.NewRequest("GET", srv.url+url, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	wait := func(j genJob) genJob {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			resp := get(j.URL)
			json.NewDecoder(resp.Body).Decode(&j)
			resp.Body.Close()
			if j.Status == "done" || j.Status == "failed" {
				if j.Status == "failed" {
					t.Fatalf("job %s failed: %+v\n%s", j.ID, j.Error, srv.out)
				}
				return j
			}
		}
		t.Fatalf("job %s still %s", j.ID, j.Status)
		return j
	}
	has := func(j genJob, name string) string {
		for _, a := range j.Artifacts {
			if a.Name == name {
				return a.URL
			}
		}
		t.Errorf("job %s has no artifact %s (has %+v)", j.ID, name, j.Artifacts)
		return ""
	}

	train := wait(submit(map[string]string{"type": "train", "steps": "3"}, map[string]string{"a": "bbaf2n.mpg", "b": "swiz3n.mpg"}))
	if train.Detail["step"] != 3 || train.Detail["total"] != 3 || !(train.Detail["loss"] > 0) {
		t.Errorf("training detail %v", train.Detail)
	}
	has(train, "model/decoder_a.onnx")
	if u := has(train, "model/preview.png"); u != "" {
		resp := get(u)
		b := new(bytes.Buffer)
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if !bytes.HasPrefix(b.Bytes(), []byte("\x89PNG")) {
			t.Errorf("preview is not a PNG (%d bytes)", b.Len())
		}
	}

	swap := wait(submit(map[string]string{"type": "swap", "model": train.ID}, map[string]string{"target": "lbax4n.mpg"}))
	has(swap, "fake.mp4")
	var result struct{ Sidecar struct{ Label string } }
	if err := json.Unmarshal(swap.Result, &result); err != nil || result.Sidecar.Label != "fake" {
		t.Errorf("swap result %s (%v)", swap.Result, err)
	}

	dataset := wait(submit(map[string]string{"type": "dataset"}, map[string]string{"real": "sbia1a.mpg"}))
	has(dataset, "dataset/manifest.json")
}
