package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueframe/trueframe/api/store"
	genjobs "github.com/trueframe/trueframe/generator/jobs"
)

// recordingGenerator stands in for the worker processes (the generator
// itself is tested in generator/...): it checks the job's inputs and
// writes outputs the way the real one does.
type recordingGenerator struct{ t *testing.T }

func (g recordingGenerator) Generate(ctx context.Context, job store.Job, h genjobs.Hooks) (json.RawMessage, error) {
	var p GeneratorParams
	if err := json.Unmarshal(job.Params, &p); err != nil {
		return nil, err
	}
	for field, files := range p.Inputs {
		for _, f := range files {
			if _, err := os.Stat(f); err != nil {
				return nil, errors.New("input " + field + " missing: " + err.Error())
			}
		}
	}
	os.WriteFile(filepath.Join(p.WorkDir, ProgressFile), []byte(`{"step":10,"steps":10,"loss":0.05}`), 0o644)
	out := filepath.Join(p.WorkDir, "out")
	switch p.Type {
	case "train":
		os.MkdirAll(filepath.Join(out, "model"), 0o755)
		os.WriteFile(filepath.Join(out, "model", "meta.json"), []byte(`{"steps":10}`), 0o644)
		os.WriteFile(filepath.Join(out, "preview.png"), []byte("\x89PNG fake"), 0o644)
	case "swap":
		if _, err := os.Stat(filepath.Join(p.ModelDir, "meta.json")); err != nil {
			return nil, errors.New("model dir not given: " + err.Error())
		}
		os.MkdirAll(out, 0o755)
		os.WriteFile(filepath.Join(out, "fake.mp4"), []byte("video"), 0o644)
	}
	h.Progress(1)
	return json.RawMessage(`{"type":"` + p.Type + `"}`), nil
}

func generatorUpload(t *testing.T, fields map[string]string, files map[string][]byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for field, content := range files {
		fw, _ := mw.CreateFormFile(field, field+".mpg")
		fw.Write(content)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func TestGeneratorJobs(t *testing.T) {
	s := startService(t, serviceOptions{generator: recordingGenerator{t}})
	registrar, _ := s.newKey(store.RoleRegistrar)
	analyst, _ := s.newKey(store.RoleAnalyst)
	clip := gridClip(t, "bbaf2n.mpg")
	post := func(key string, fields map[string]string, files map[string][]byte, status int, out any) []byte {
		t.Helper()
		ct, body := generatorUpload(t, fields, files)
		return s.expect(s.do("POST", "/v1/generator/jobs", key, ct, body), status, out)
	}
	wait := func(id string) GeneratorJob {
		t.Helper()
		var g GeneratorJob
		waitFor(t, "generator job "+id+" to end", func() bool {
			g = GeneratorJob{}
			s.expect(s.do("GET", "/v1/generator/jobs/"+id, registrar, "", nil), 200, &g)
			return g.Status == store.Done || g.Status == store.Failed
		})
		return g
	}

	post(analyst, map[string]string{"type": "train"}, map[string][]byte{"a": clip, "b": clip}, 403, nil)
	for _, bad := range []map[string]string{{"type": "bogus"}, {"type": "train", "steps": "-3"}, {"type": "train", "checkpoint_every": "0"}, {"type": "swap"}, {"type": "swap", "model": "gen_000000000000000000000000"}} {
		if b := post(registrar, bad, map[string][]byte{"a": clip, "b": clip}, 400, nil); errorCode(t, b) != codeBadRequest {
			t.Errorf("%v: %s", bad, b)
		}
	}
	if b := post(registrar, map[string]string{"type": "train"}, map[string][]byte{"a": []byte("not a video")}, 415, nil); errorCode(t, b) != codeUnsupportedMedia {
		t.Error(string(b))
	}

	var train GeneratorJob
	post(registrar, map[string]string{"type": "train", "steps": "10"}, map[string][]byte{"a": clip, "b": clip}, 202, &train)
	train = wait(train.ID)
	if train.Status != store.Done || len(train.Artifacts) != 2 || string(train.Detail) != `{"step":10,"steps":10,"loss":0.05}` {
		t.Fatalf("train job: %+v", train)
	}
	preview := s.expect(s.do("GET", train.URL+"/artifacts/preview.png", registrar, "", nil), 200, nil)
	if string(preview) != "\x89PNG fake" {
		t.Errorf("artifact = %q", preview)
	}
	for _, bad := range []string{"/artifacts/../../../trueframe.db", "/artifacts/%2e%2e/inputs/a/00-a.mpg", "/artifacts/nope"} {
		s.expect(s.do("GET", train.URL+bad, registrar, "", nil), 404, nil)
	}
	s.expect(s.do("GET", train.URL, analyst, "", nil), 403, nil)

	var swap GeneratorJob
	post(registrar, map[string]string{"type": "swap", "model": train.ID}, map[string][]byte{"target": clip}, 202, &swap)
	if swap = wait(swap.ID); swap.Status != store.Done || len(swap.Artifacts) != 1 || swap.Artifacts[0].Name != "fake.mp4" {
		t.Fatalf("swap job: %+v %+v", swap, swap.Error)
	}
	var list struct{ Jobs []GeneratorJob }
	s.expect(s.do("GET", "/v1/generator/jobs", registrar, "", nil), 200, &list)
	if len(list.Jobs) != 2 {
		t.Errorf("list: %d jobs", len(list.Jobs))
	}
	// Generator jobs are not analyses, and the reverse.
	s.expect(s.do("GET", "/v1/analyses/"+swap.ID, s.admin, "", nil), 404, nil)
	// The inputs and artifacts are in the blob store, not in a local
	// directory of the node; the attempts' local directories are gone.
	for _, want := range []string{"generator/" + swap.ID + "/inputs/target/00-target.mpg", "generator/" + swap.ID + "/artifacts/fake.mp4",
		"generator/" + train.ID + "/artifacts/model/meta.json", "generator/" + train.ID + "/state/progress.json"} {
		if _, err := os.Stat(filepath.Join(s.data, "blobs", filepath.FromSlash(want))); err != nil {
			t.Errorf("blob %s: %v", want, err)
		}
	}
	// (Removed just after the job's end is recorded.)
	waitFor(t, "the attempts' directories to be removed", func() bool {
		left, _ := filepath.Glob(filepath.Join(s.data, "cache", "generator-*"))
		return len(left) == 0
	})
	s.expect(s.do("DELETE", swap.URL, registrar, "", nil), 204, nil)
	s.expect(s.do("GET", swap.URL, registrar, "", nil), 404, nil)
	if _, err := os.Stat(filepath.Join(s.data, "blobs", "generator", swap.ID)); !os.IsNotExist(err) {
		t.Errorf("the deleted job's files are still there (%v)", err)
	}
}
