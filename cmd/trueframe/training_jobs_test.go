package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/models"
)

// TestServeTrainingJob runs a training job through the service: only an
// admin may start one; it is killed (-9) with the service in its fit stage
// and resumes there after the restart, without making its datasets again;
// it ends with the comparison, the model and a ROC plot as artifacts, and
// the registry holds the new version exactly when the job says it was
// admitted, and stays sound.
func TestServeTrainingJob(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	data := t.TempDir()
	keyOf := func(role string) string {
		r := trueframe(t, "keys", "create", "--role", role, "--data", data)
		if r.code != 0 {
			t.Fatalf("keys create: %s", r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	admin, registrar := keyOf("admin"), keyOf("registrar")
	srv := startServer(t, data, "--workers", "1", "--ledger=false")

	type trainingJob struct {
		ID, URL, Status string
		Detail          struct {
			Stage string `json:"stage"`
		}
		Error     *struct{ Code, Message string }
		Result    json.RawMessage
		Artifacts []struct{ Name, URL string }
	}
	submit := func(key string, clips ...string) (int, trainingJob) {
		t.Helper()
		var files []formFile
		for _, name := range clips {
			files = append(files, formFile{"real", filepath.Join(grid, name)})
		}
		var j trainingJob
		return postForm(t, srv.url+"/v1/training-jobs", key, map[string]string{"activate": "true"}, files, &j), j
	}
	get := func(s *server, url string, out any) int { return getJSON(t, s.url+url, admin, out) }

	if code, _ := submit(registrar, "bbaf2n.mpg", "lbax4n.mpg"); code != http.StatusForbidden {
		t.Errorf("a registrar's training job: status %d, want 403", code)
	}
	if code, _ := submit(admin, "bbaf2n.mpg"); code != http.StatusBadRequest {
		t.Errorf("one real clip: status %d, want 400", code)
	}
	code, job := submit(admin, "bbaf2n.mpg", "lbax4n.mpg", "brbk7n.mpg", "swiz3n.mpg")
	if code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}

	// Kill the service in the fit stage; the datasets are made by then.
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var j trainingJob
		get(srv, job.URL, &j)
		if j.Detail.Stage == "fit" {
			break
		}
		if j.Status == "done" || j.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("never saw the fit stage: %+v\n%s", j, srv.out)
		}
	}
	srv.cmd.Process.Kill()
	srv.cmd.Wait()
	// The datasets were stored as their stage ended, where any node can
	// resume from them.
	manifest := filepath.Join(data, "blobs", "generator", job.ID, "state", "dataset-fit", "manifest.json")
	before, err := os.Stat(manifest)
	if err != nil {
		t.Fatalf("the fit dataset was not made before the fit stage: %v", err)
	}

	again := startServer(t, data, "--workers", "1", "--ledger=false")
	var done trainingJob
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		get(again, job.URL, &done)
		if done.Status == "done" || done.Status == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: still %s", done.Status)
		}
	}
	if done.Status != "done" {
		t.Fatalf("training job failed: %+v\n%s", done.Error, again.out)
	}
	if after, err := os.Stat(manifest); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("the fit dataset was made again after the restart")
	}
	names := map[string]bool{}
	for _, a := range done.Artifacts {
		names[a.Name] = true
	}
	for _, want := range []string{"fusion.json", "gate.json", "roc.png"} {
		if !names[want] {
			t.Errorf("no artifact %s (have %v)", want, names)
		}
	}
	var res struct {
		Version, Parent    string
		Registered, Active bool
		HeldApartClips     int `json:"held_apart_clips"`
	}
	if err := json.Unmarshal(done.Result, &res); err != nil || res.Version == "" || res.Parent == "" || res.HeldApartClips != 2 {
		t.Fatalf("result %s (%v)", done.Result, err)
	}
	var mv struct{ Active bool }
	status := get(again, "/v1/models/"+res.Version, &mv)
	switch {
	case res.Registered && (status != http.StatusOK || mv.Active != res.Active || !res.Active):
		t.Errorf("admitted and activated, but /v1/models/%s answers %d, active %v", res.Version, status, mv.Active)
	case !res.Registered && status != http.StatusNotFound:
		t.Errorf("refused, but /v1/models/%s answers %d", res.Version, status)
	}
	t.Logf("training job %s: %s", job.ID, done.Result)
	if r := trueframe(t, "models", "verify", "--data", data); r.code != 0 {
		t.Errorf("models verify after kill -9: exit %d: %s", r.code, r.stderr)
	}
}

// TestServeFaceCNNTrainingJob: a training job with detector=face_cnn crops
// the first part's faces, fine-tunes the active face_cnn on them for a few
// steps, and measures the child against it on the held-apart part; the
// version is in /v1/models exactly when the gate admitted it, and the
// artifacts are the child's card, the gate's report and the ROC plot.
// Parameters that belong to the other kind are refused up front.
func TestServeFaceCNNTrainingJob(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	data := t.TempDir()
	r := trueframe(t, "keys", "create", "--role", "admin", "--data", data)
	if r.code != 0 {
		t.Fatalf("keys create: %s", r.stderr)
	}
	admin := strings.TrimSpace(r.stdout)
	srv := startServer(t, data, "--workers", "1", "--ledger=false")
	clips := []formFile{{"real", filepath.Join(grid, "bbaf2n.mpg")}, {"real", filepath.Join(grid, "lbax4n.mpg")},
		{"real", filepath.Join(grid, "brbk7n.mpg")}, {"real", filepath.Join(grid, "swiz3n.mpg")}}
	var job struct {
		ID, URL, Status string
		Error           *struct{ Code, Message string }
		Result          json.RawMessage
		Artifacts       []struct{ Name string }
	}
	for _, bad := range []map[string]string{{"detector": "bogus"}, {"steps": "5"}, {"detector": "face_cnn", "steps": "-1"},
		{"detector": "face_cnn", "model": "gen_000000000000000000000000"}} {
		if code := postForm(t, srv.url+"/v1/training-jobs", admin, bad, clips, nil); code != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", bad, code)
		}
	}
	if code := postForm(t, srv.url+"/v1/training-jobs", admin, map[string]string{"detector": "face_cnn", "steps": "4", "activate": "true"},
		clips, &job); code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}
	get := func(url string, out any) int { return getJSON(t, srv.url+url, admin, out) }
	for deadline := time.Now().Add(15 * time.Minute); job.Status != "done"; time.Sleep(time.Second) {
		get(job.URL, &job)
		if job.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("training job: %s %+v\n%s", job.Status, job.Error, srv.out)
		}
	}
	var res struct {
		Kind, Version, Parent, Measured string
		Registered, Active              bool
	}
	if err := json.Unmarshal(job.Result, &res); err != nil || res.Kind != "face_cnn" || !strings.HasPrefix(res.Version, "face_cnn-") || res.Parent == "" {
		t.Fatalf("result %s (%v)", job.Result, err)
	}
	// The shipped fusion gives face_cnn no weight: the gate compares its own scores.
	if fu, err := models.DefaultFusion(); err != nil || (fu.Detectors["face_cnn"].Weight == 0) != (res.Measured == "face_cnn alone") {
		t.Errorf("result measured %q (fusion %v)", res.Measured, err)
	}
	names := map[string]bool{}
	for _, a := range job.Artifacts {
		names[a.Name] = true
	}
	for _, want := range []string{"face_cnn/face_cnn.json", "face_cnn/face_cnn.onnx", "gate.json", "roc.png"} {
		if !names[want] {
			t.Errorf("no artifact %s (have %v)", want, names)
		}
	}
	var mv struct {
		Kind   string
		Active bool
	}
	status := get("/v1/models/"+res.Version, &mv)
	switch {
	case res.Registered && (status != http.StatusOK || mv.Kind != "face_cnn" || !mv.Active):
		t.Errorf("admitted and activated, but /v1/models/%s answers %d %+v", res.Version, status, mv)
	case !res.Registered && status != http.StatusNotFound:
		t.Errorf("refused, but /v1/models/%s answers %d", res.Version, status)
	}
	t.Logf("face_cnn training job: %s", job.Result)
}
