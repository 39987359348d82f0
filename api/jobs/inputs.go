package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
)

// Files gives a worker node the files of its analyses. A job's upload and
// evidence live in the blob store (FilePath is the upload's key,
// EvidenceDir the evidence prefix), where any node can reach them; the
// analysis itself reads and writes local files. Files fetches the one and
// stores the other.
//
// A nil *Files leaves jobs as they are: their paths are local ones.
type Files struct {
	Blobs *blobs.Store
	// CacheDir holds the local copies and evidence directories of the
	// analyses in progress. It is the process's own: the first Local
	// removes what an earlier process left there (killed mid-analysis).
	// Empty: os.TempDir(), which is shared, so never swept.
	CacheDir string

	swept sync.Once
}

// workPrefix starts the name of an attempt's directory in the cache.
const workPrefix = "analysis-"

// Local prepares job for an analysis on this node. It returns a copy of
// job whose FilePath is a local copy of the upload, fetched from the store
// and checked against the job's SHA-256, and whose EvidenceDir is a fresh
// empty local directory; cleanup removes both. On error it returns job
// itself and a no-op cleanup, so that the failure is reported about the
// job; a missing upload is an *isolate.Error (not_found), as if the worker
// had found it missing, which no retry would mend.
func (f *Files) Local(ctx context.Context, job store.Job) (local store.Job, cleanup func(), err error) {
	if f == nil {
		return job, func() {}, nil
	}
	root := f.CacheDir
	if root == "" {
		root = os.TempDir()
	} else {
		f.swept.Do(func() { sweepPrefix(root, workPrefix) })
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return job, func() {}, err
	}
	// One directory per attempt: two attempts of a job on one node (one
	// abandoned, one new) never share a file.
	work, err := os.MkdirTemp(root, workPrefix+job.ID+"-*")
	if err != nil {
		return job, func() {}, err
	}
	cleanup = func() { os.RemoveAll(work) }
	local = job
	local.FilePath = filepath.Join(work, job.ID+path.Ext(job.FilePath))
	local.EvidenceDir = filepath.Join(work, "evidence")
	if err := os.Mkdir(local.EvidenceDir, 0o700); err != nil {
		cleanup()
		return job, func() {}, err
	}
	_, sum, err := f.Blobs.Fetch(ctx, job.FilePath, local.FilePath)
	switch {
	case errors.Is(err, blobs.ErrNotFound):
		kind := isolate.KindScan
		if job.Kind == store.KindVerify {
			kind = isolate.KindFingerprint
		}
		err = scan.ErrorCodes.Error(kind, "not_found", "the uploaded file is no longer stored")
	case err != nil:
		err = fmt.Errorf("fetching the upload: %w", err)
	case job.SHA256 != "" && sum != job.SHA256:
		err = fmt.Errorf("the stored upload's SHA-256 is %s, not the %s it had when it was received", sum, job.SHA256)
	}
	if err != nil {
		cleanup()
		return job, func() {}, err
	}
	return local, cleanup, nil
}

// SaveEvidence stores the evidence an analysis wrote to localDir under
// job's evidence prefix, in place of what an earlier attempt may have
// stored there, then removes localDir. With a nil *Files it does nothing:
// the evidence already is where the job says.
func (f *Files) SaveEvidence(ctx context.Context, job store.Job, localDir string) error {
	if f == nil {
		return nil
	}
	if _, err := f.Blobs.DeleteAll(ctx, job.EvidenceDir); err != nil {
		return fmt.Errorf("replacing the evidence: %w", err)
	}
	if _, err := os.Stat(localDir); os.IsNotExist(err) {
		return nil // an analysis that wrote none
	}
	if _, err := f.Blobs.PutDir(ctx, job.EvidenceDir, localDir); err != nil {
		return fmt.Errorf("storing the evidence: %w", err)
	}
	return os.RemoveAll(localDir)
}

// sweepPrefix removes the attempt directories under root whose names
// start with prefix: each kind of attempt sweeps its own, so that one
// never removes the directory of another kind's attempt in progress.
func sweepPrefix(root, prefix string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

// DropEvidence removes a job's stored evidence (the job was deleted while
// it was being stored), logging nothing: a failure leaves blobs that the
// API nodes' orphan sweep removes.
func (f *Files) DropEvidence(ctx context.Context, prefix string) {
	if f == nil || f.Blobs == nil || prefix == "" {
		return
	}
	f.Blobs.DeleteAll(ctx, prefix)
}

// DropUpload removes a job's upload from the blob store once the job no
// longer needs it (a verification that ended); a failure leaves a blob
// that the API nodes' orphan sweep removes once the job is deleted.
func (f *Files) DropUpload(ctx context.Context, key string) {
	if f == nil || f.Blobs == nil || key == "" {
		return
	}
	f.Blobs.Delete(ctx, key)
}
