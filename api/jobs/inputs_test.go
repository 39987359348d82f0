package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/internal/isolate"
)

func TestFilesLocal(t *testing.T) {
	ctx := t.Context()
	b, err := blobs.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	video := []byte("not really a video, but bytes all the same")
	_, sum, err := b.Put(ctx, "uploads/an_1.mp4", strings.NewReader(string(video)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	// What a process killed mid-analysis left goes at the first Local.
	os.MkdirAll(filepath.Join(cache, workPrefix+"an_0-123", "evidence"), 0o700)
	f := &Files{Blobs: b, CacheDir: cache}
	job := store.Job{ID: "an_1", FileName: "clip.mp4", FilePath: "uploads/an_1.mp4", EvidenceDir: "evidence/an_1/", SHA256: sum}

	local, cleanup, err := f.Local(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(local.FilePath); string(got) != string(video) || filepath.Ext(local.FilePath) != ".mp4" ||
		!strings.HasPrefix(local.FilePath, cache) {
		t.Errorf("local copy %s: %q", local.FilePath, got)
	}
	if entries, err := os.ReadDir(local.EvidenceDir); err != nil || len(entries) != 0 {
		t.Errorf("evidence directory %s: %v, %v", local.EvidenceDir, entries, err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Errorf("cache holds %d entries, want this attempt's", len(entries))
	}
	if local.ID != job.ID || local.FileName != job.FileName || job.FilePath != "uploads/an_1.mp4" {
		t.Errorf("local = %+v, job = %+v", local, job)
	}

	// An earlier attempt's evidence is replaced, not merged.
	b.Put(ctx, "evidence/an_1/stale.png", strings.NewReader("old"), nil)
	os.WriteFile(filepath.Join(local.EvidenceDir, "heatmap.png"), []byte("\x89PNG"), 0o600)
	if err := f.SaveEvidence(ctx, job, local.EvidenceDir); err != nil {
		t.Fatal(err)
	}
	objs, _ := b.List(ctx, "evidence/an_1/")
	if len(objs) != 1 || objs[0].Key != "evidence/an_1/heatmap.png" {
		t.Errorf("stored evidence: %+v", objs)
	}
	if _, err := os.Stat(local.EvidenceDir); !os.IsNotExist(err) {
		t.Errorf("local evidence left: %v", err)
	}
	cleanup()
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("cache holds %d entries after cleanup", len(entries))
	}

	// A missing upload fails for good; a changed one fails; both leave
	// nothing behind and report about the job itself.
	for name, tc := range map[string]struct {
		job  store.Job
		code string
	}{
		"missing": {store.Job{ID: "an_2", FilePath: "uploads/an_2.mp4", EvidenceDir: "evidence/an_2/"}, "not_found"},
		"changed": {store.Job{ID: "an_1", FilePath: "uploads/an_1.mp4", EvidenceDir: "evidence/an_1/", SHA256: hexSum("other")}, ""},
	} {
		got, cleanup, err := f.Local(ctx, tc.job)
		cleanup()
		var reported *isolate.Error
		if err == nil || errors.As(err, &reported) != (tc.code != "") || (tc.code != "" && reported.Code != tc.code) {
			t.Errorf("%s: %v", name, err)
		}
		if got.FilePath != tc.job.FilePath {
			t.Errorf("%s: returned %+v", name, got)
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("%s: cache holds %d entries", name, len(entries))
		}
	}

	// Without Files, jobs keep their local paths.
	var none *Files
	if got, cleanup, err := none.Local(ctx, job); err != nil || got.FilePath != job.FilePath || got.EvidenceDir != job.EvidenceDir {
		t.Errorf("nil Files: %+v, %v", got, err)
	} else {
		cleanup()
	}
	if err := none.SaveEvidence(ctx, job, cache); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("nil Files removed the directory: %v", err)
	}
}

func hexSum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
