package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trueframe/trueframe/generator/model"
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
		var parts []formFile
		for field, name := range files {
			parts = append(parts, formFile{field, filepath.Join(grid, name)})
		}
		var j genJob
		if code := postForm(t, srv.url+"/v1/generator/jobs", key, fields, parts, &j); code != http.StatusAccepted {
			t.Fatalf("submit %v: status %d", fields, code)
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
	manifest := has(dataset, "dataset/manifest.json")

	// What clients see names files inside the job, never the server's
	// directories.
	abs, _ := filepath.Abs(data)
	shown := map[string]string{"train result": string(train.Result), "swap result": string(swap.Result)}
	if manifest != "" {
		resp := get(manifest)
		b := new(bytes.Buffer)
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		shown["dataset manifest"] = b.String()
	}
	for what, text := range shown {
		if strings.Contains(text, abs) || strings.Contains(text, data) {
			t.Errorf("%s shows a server path (%s):\n%s", what, data, text)
		}
	}
	if !strings.Contains(string(swap.Result), `"out/fake.mp4"`) || !strings.Contains(string(train.Result), `"faces/a"`) {
		t.Errorf("results do not name the job's own files:\n%s\n%s", train.Result, swap.Result)
	}
}

// TestServeTrainingSurvivesRestart stops the service (SIGTERM) while a
// training job runs: the training checkpoints on the way out, the job goes
// back to the queue, and the restarted service resumes it to the end.
func TestServeTrainingSurvivesRestart(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	data := t.TempDir()
	r := trueframe(t, "keys", "create", "--role", "registrar", "--data", data)
	key := strings.TrimSpace(r.stdout)
	first := startServer(t, data, "--workers", "1", "--ledger=false")

	var job genJob
	if code := postForm(t, first.url+"/v1/generator/jobs", key, map[string]string{"type": "train", "steps": "40"},
		[]formFile{{"a", filepath.Join(grid, "bbaf2n.mpg")}, {"b", filepath.Join(grid, "swiz3n.mpg")}}, &job); code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}

	poll := func(s *server) genJob {
		req, _ := http.NewRequest("GET", s.url+job.URL, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var j genJob
		json.NewDecoder(resp.Body).Decode(&j)
		return j
	}
	// Let it train a few steps, then stop the service politely.
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		if j := poll(first); j.Detail["step"] >= 3 {
			break
		} else if j.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("training never got going: %+v", j)
		}
	}
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v\n%s", err, first.out)
	}
	var meta struct{ Step int64 }
	b, err := os.ReadFile(filepath.Join(data, "blobs", "generator", job.ID, "artifacts", "model", model.MetaFile))
	if err != nil || json.Unmarshal(b, &meta) != nil || meta.Step < 3 {
		t.Fatalf("no checkpoint on stop: %s (%v)", b, err)
	}
	checkpointed := meta.Step

	second := startServer(t, data, "--workers", "1", "--ledger=false")
	for deadline := time.Now().Add(15 * time.Minute); ; time.Sleep(time.Second) {
		j := poll(second)
		if j.Status == "done" {
			break
		}
		if j.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("after the restart: %+v %+v\n%s", j, j.Error, second.out)
		}
	}
	b, _ = os.ReadFile(filepath.Join(data, "blobs", "generator", job.ID, "artifacts", "model", model.MetaFile))
	if json.Unmarshal(b, &meta) != nil || meta.Step != 40 {
		t.Errorf("final model at step %d, want 40", meta.Step)
	}
	t.Logf("checkpointed at step %d on stop, finished at %d after the restart", checkpointed, meta.Step)
}

// TestServeTrainingSurvivesKill9 kills the service with SIGKILL mid
// training: nothing checkpoints on the way out, so what the restarted
// service resumes from is the checkpoint the attempt stored as soon as the
// trainer wrote it — the job loses at most one checkpoint interval, not
// everything since it started.
func TestServeTrainingSurvivesKill9(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	data := t.TempDir()
	r := trueframe(t, "keys", "create", "--role", "registrar", "--data", data)
	key := strings.TrimSpace(r.stdout)
	first := startServer(t, data, "--workers", "1", "--ledger=false")
	const steps, every = 40, 4
	var job genJob
	if code := postForm(t, first.url+"/v1/generator/jobs", key,
		map[string]string{"type": "train", "steps": fmt.Sprint(steps), "checkpoint_every": fmt.Sprint(every)},
		[]formFile{{"a", filepath.Join(grid, "bbaf2n.mpg")}, {"b", filepath.Join(grid, "swiz3n.mpg")}}, &job); code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}
	stored := func() model.Meta {
		var meta model.Meta
		b, err := os.ReadFile(filepath.Join(data, "blobs", "generator", job.ID, "artifacts", "model", model.MetaFile))
		if err != nil || json.Unmarshal(b, &meta) != nil {
			return model.Meta{}
		}
		return meta
	}
	// Wait until a checkpoint past the first is stored, then kill.
	for deadline := time.Now().Add(5 * time.Minute); stored().Step < 2*every; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint stored while training ran:\n%s", first.out)
		}
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	killed := stored()
	if killed.Step >= steps {
		t.Fatalf("the first checkpoint stored was the finished model (step %d): nothing was stored while training ran", killed.Step)
	}

	second := startServer(t, data, "--workers", "1", "--ledger=false")
	for deadline := time.Now().Add(15 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		var j genJob
		getJSON(t, second.url+job.URL, key, &j)
		if j.Status == "done" {
			break
		}
		if j.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("after kill -9 and restart: %+v %+v\n%s", j, j.Error, second.out)
		}
	}
	final := stored()
	if final.Step != steps {
		t.Errorf("final model at step %d, want %d", final.Step, steps)
	}
	// A model made afresh gets a new id: the same id means the restart
	// went on from the stored checkpoint, in a cache directory it rebuilt
	// from the blob store.
	if final.ID != killed.ID {
		t.Errorf("the restarted training began a new model (%s), not the stored one (%s at step %d)", final.ID, killed.ID, killed.Step)
	}
	t.Logf("checkpoint at step %d stored before kill -9; the restart finished it at step %d", killed.Step, final.Step)
}

// Training resumes in its model directory with the architecture it began
// with; asking for another one there is a usage error, not a silent change
// or a crash on mismatched weights.
func TestGenerateTrainResumeKeepsArchitecture(t *testing.T) {
	grid := testutil.SharedDir(t, "data", "videos", "real", "grid")
	dir := t.TempDir()
	for id, clip := range map[string]string{"a": "bbaf2n.mpg", "b": "swiz3n.mpg"} {
		r := trueframe(t, "generate", "extract", "--out", filepath.Join(dir, id), filepath.Join(grid, clip))
		if r.code != 0 {
			t.Fatalf("extract %s: exit %d: %s", id, r.code, r.stderr)
		}
	}
	modelDir := filepath.Join(dir, "model")
	train := func(extra ...string) result {
		args := append([]string{"generate", "train", "--a", filepath.Join(dir, "a"), "--b", filepath.Join(dir, "b"),
			"--out", modelDir, "--batch", "2", "--preview-every", "0", "--holdout", "0"}, extra...)
		return trueframe(t, args...)
	}
	if r := train("--steps", "2", "--width", "4", "--latent", "16"); r.code != 0 {
		t.Fatalf("first training: exit %d: %s", r.code, r.stderr)
	}
	r := train("--steps", "3", "--latent", "32")
	if r.code != 2 || !strings.Contains(r.stderr, "holds a model") {
		t.Errorf("another architecture in the same directory: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
	r = train("--steps", "3")
	if r.code != 0 || !strings.Contains(r.stderr, "from step 2 to 3") {
		t.Errorf("resume: exit %d, stderr %q; want it to go on from step 2", r.code, r.stderr)
	}
	meta, err := model.ReadMeta(modelDir)
	if err != nil || meta.Step != 3 || meta.Config.Latent != 16 || meta.Config.Width != 4 {
		t.Errorf("after resuming: %+v, %v", meta, err)
	}
}
