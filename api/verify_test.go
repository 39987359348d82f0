package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/ledger"
)

// A verification is a job: the route waits for it and answers the
// verification as it always did; asked not to wait (or when it takes
// longer) it answers 202 with the job, which its key follows at its URL
// until the verification is there. The upload is not kept once verified.
func TestVerifyAsAJob(t *testing.T) {
	fl := newFakeLedger()
	s := startService(t, serviceOptions{api: Options{Ledger: fl}})
	analyst, _ := s.newKey(store.RoleAnalyst)
	other, _ := s.newKey(store.RoleAnalyst)
	clip := gridClip(t, "bbaf2n.mpg")[:48<<10]
	post := func(query string, status int, out any) []byte {
		t.Helper()
		ct, body := multipartBody(t, "clip.mpg", clip, nil)
		return s.expect(s.do("POST", "/v1/verify"+query, analyst, ct, body), status, out)
	}

	var v ledger.Verification
	post("", 200, &v)
	if v.Status != ledger.Unknown || v.SHA256 == "" {
		t.Fatalf("synchronous verification: %+v", v)
	}
	fl.add(v.SHA256)

	var job VerifyJob
	post("?wait=0", 202, &job)
	if !strings.HasPrefix(job.ID, "vf_") || job.URL != "/v1/verify/"+job.ID || job.File.Name != "clip.mpg" || job.File.SHA256 != v.SHA256 {
		t.Fatalf("202: %+v", job)
	}
	s.expect(s.do("GET", job.URL, other, "", nil), 404, nil) // another key's
	s.expect(s.do("GET", "/v1/analyses/"+job.ID, analyst, "", nil), 404, nil)
	s.expect(s.do("GET", job.URL+"?wait=30", analyst, "", nil), 200, &job)
	if job.Status != store.Done || job.FinishedAt == nil {
		t.Fatalf("after waiting: %+v", job)
	}
	var got ledger.Verification
	if err := json.Unmarshal(job.Result, &got); err != nil || got.Status != ledger.Registered || got.Original == nil {
		t.Errorf("result %s (%v)", job.Result, err)
	}
	// Verified: the upload is no longer kept.
	waitFor(t, "the verified upload to be removed", func() bool {
		left, _ := filepath.Glob(filepath.Join(s.data, "blobs", "uploads", job.ID+"*"))
		return len(left) == 0
	})
	waitFor(t, "the local copies to be removed", func() bool {
		left, _ := os.ReadDir(filepath.Join(s.data, "cache"))
		return len(left) == 0
	})
}
