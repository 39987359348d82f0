package api

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/internal/testutil"
)

// testS3 opens a store on the test S3 bucket ($TRUEFRAME_TEST_S3, with
// the AWS credentials in the environment) under a prefix of the test's
// own, emptied and closed after the test. Without the variable the test is
// skipped, unless TRUEFRAME_REQUIRE_SHARED=1 (CI), where that is a setup
// bug.
func testS3(t *testing.T) *blobs.Store {
	t.Helper()
	b, err := blobs.Open(t.Context(), testutil.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		objs, _ := b.List(ctx, "")
		for _, o := range objs {
			b.Delete(ctx, o.Key)
		}
		b.Close()
	})
	return b
}

// TestAnalysisOnS3: with an S3 store, the upload and the evidence live in
// the bucket, the worker reads its copy from there, the files are served
// from there with ranges, and a deletion leaves the bucket empty.
func TestAnalysisOnS3(t *testing.T) {
	b := testS3(t)
	s := startService(t, serviceOptions{api: Options{Blobs: b}})
	clip := gridClip(t, "bbaf2n.mpg")
	var a Analysis
	s.expect(s.upload(s.admin, "?wait=120", "speaker.mpg", clip, nil), 200, &a)
	if a.Status != store.Done || len(a.Evidence) == 0 {
		t.Fatalf("analysis = %+v", a)
	}
	objs, err := b.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1+len(a.Evidence) || objs[len(objs)-1].Key != "uploads/"+a.ID+".mpg" {
		t.Errorf("bucket holds %+v", objs)
	}
	// Nothing of the job stays on the node's disk.
	for _, dir := range []string{"cache", filepath.Join("uploads", "tmp")} {
		if left, _ := os.ReadDir(filepath.Join(s.data, dir)); len(left) != 0 {
			t.Errorf("%s holds %d entries", dir, len(left))
		}
	}

	req, _ := http.NewRequest("GET", s.url+a.URL+"/file", nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set("Range", "bytes=100-")
	resp := s.mustDo(req)
	if body := s.expect(resp, 206, nil); !bytes.Equal(body, clip[100:]) || resp.Header.Get("Content-Type") != "video/mpeg" {
		t.Errorf("range: %d bytes, %q", len(body), resp.Header.Get("Content-Type"))
	}
	resp = s.do("GET", a.Evidence[0].URL, s.admin, "", nil)
	if img := s.expect(resp, 200, nil); len(img) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
		t.Errorf("evidence: %d bytes, %q", len(img), resp.Header.Get("Content-Type"))
	}

	s.expect(s.do("DELETE", a.URL, s.admin, "", nil), 204, nil)
	if objs, _ := b.List(t.Context(), ""); len(objs) != 0 {
		t.Errorf("left after delete: %+v", objs)
	}
}

// TestOrphanBlobsSwept: at start, the files of jobs that no longer exist
// are removed, unless they are recent (another node may be queueing their
// job); the files of existing jobs stay.
func TestOrphanBlobsSwept(t *testing.T) {
	s := startService(t, serviceOptions{noRunner: true})
	ctx := t.Context()
	var a Analysis
	s.expect(s.upload(s.admin, "", "kept.mpg", gridClip(t, "bbaf2n.mpg"), nil), 202, &a)
	b := s.server.blobs
	orphan, recent := newJobID(), newJobID()
	// A generator job's and a verification's files, of no job.
	genOrphan, verifyOrphan := newGeneratorID(), newVerifyID()
	for _, k := range []string{"uploads/" + orphan + ".mp4", "evidence/" + orphan + "/heatmap.png", "evidence/" + orphan + "/face_track_0.jpg",
		"uploads/" + recent + ".mp4", "evidence/" + a.ID + "/heatmap.png", "uploads/not-a-job.txt",
		"generator/" + genOrphan + "/inputs/a/00-a.mpg", "generator/" + genOrphan + "/artifacts/model/meta.json",
		"uploads/" + verifyOrphan + ".mpg", "models/versions/x/entry.json"} {
		if _, _, err := b.Put(ctx, k, strings.NewReader("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Age every blob but the recent orphan's (the directory store keeps
	// each blob as a file).
	old := time.Now().Add(-2 * s.server.opts.OrphanAge)
	filepath.WalkDir(filepath.Join(s.data, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, recent) {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	if err := s.server.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	objs, err := b.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	want := []string{"evidence/" + a.ID + "/heatmap.png", "uploads/" + a.ID + ".mpg", "uploads/" + recent + ".mp4", "uploads/not-a-job.txt",
		"models/versions/x/entry.json"}
	slices.Sort(want)
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("after the sweep:\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(s.data, "blobs", "evidence", orphan)); !os.IsNotExist(err) {
		t.Errorf("the orphan's evidence directory is left: %v", err)
	}
}

// TestUploadStoreFailure: an upload the blob store does not take is a 500,
// queues no job and leaves no file behind.
func TestUploadStoreFailure(t *testing.T) {
	b, err := blobs.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := startService(t, serviceOptions{noRunner: true, api: Options{Blobs: b}})
	b.Close() // every write fails from now on
	resp := s.upload(s.admin, "", "clip.mpg", gridClip(t, "bbaf2n.mpg"), nil)
	if code := errorCode(t, s.expect(resp, 500, nil)); code != codeInternal {
		t.Errorf("code %s", code)
	}
	if n, _ := s.store.Waiting(t.Context(), store.KindAnalysis); n != 0 {
		t.Errorf("%d jobs queued", n)
	}
	if left, _ := os.ReadDir(filepath.Join(s.data, "uploads", "tmp")); len(left) != 0 {
		t.Errorf("%d files left in uploads/tmp", len(left))
	}
}
