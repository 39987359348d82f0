package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/store"
	"github.com/trueframe/trueframe/detectors/scan"
	"github.com/trueframe/trueframe/internal/isolate"
)

// A verification (POST /v1/verify) is a job like an analysis: the upload
// is stored in the blob store and queued, and a node with a provenance
// ledger fingerprints it in its worker pool and records the ledger's
// answer. The route waits for it (?wait=, by default and at most
// Options.MaxWait) and answers the verification itself, as it did when it
// fingerprinted on the API node; one that takes longer is answered 202
// with the job, to follow at /v1/verify/{id}.

// VerifyJob is a verification as GET /v1/verify/{id} (and a 202) shows it.
type VerifyJob struct {
	ID         string          `json:"id"`
	URL        string          `json:"url"`
	Status     store.State     `json:"status"`
	File       FileInfo        `json:"file"`
	Attempts   int             `json:"attempts"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Error      *ErrorDetail    `json:"error,omitempty"`  // when failed
	Result     json.RawMessage `json:"result,omitempty"` // the Verification, when done
}

var verifyIDPattern = regexp.MustCompile(`^vf_[0-9a-f]{24}$`)

func newVerifyID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "vf_" + hex.EncodeToString(b)
}

func verifyView(j store.Job) VerifyJob {
	v := VerifyJob{ID: j.ID, URL: "/v1/verify/" + j.ID, Status: j.State,
		File:     FileInfo{Name: j.FileName, SHA256: j.SHA256, SizeBytes: j.SizeBytes},
		Attempts: j.Attempts, CreatedAt: j.CreatedAt, StartedAt: timePtr(j.StartedAt)}
	switch j.State {
	case store.Done:
		v.FinishedAt, v.Result = timePtr(j.FinishedAt), j.Result
	case store.Failed:
		v.FinishedAt = timePtr(j.FinishedAt)
		v.Error = &ErrorDetail{Code: j.ErrorCode, Message: j.ErrorMessage}
	}
	return v
}

// POST /v1/verify: check a file against the registered originals.
func (s *Server) verifyFile(c *gin.Context) (*result, error) {
	key := callerKey(c)
	wait := s.opts.MaxWait // the answer used to be synchronous: wait by default
	if v, ok := c.GetQuery("wait"); ok {
		var err error
		if wait, err = s.parseWait(v); err != nil {
			return nil, err
		}
	}
	form := provenanceForm()
	form.check = func() error { return s.verifyQueueRoom(c, key.ID) }
	f, err := s.receiveForm(c, form)
	if err != nil {
		return nil, err
	}
	defer f.discard()
	up := f.file("file")
	id := newVerifyID()
	upload := uploadKey(id, up.container)
	if err := s.keep(c, up, upload); err != nil {
		return nil, err
	}
	f.rc.SetWriteDeadline(time.Now().Add(wait + 30*time.Second))
	job := store.Job{ID: id, KeyID: key.ID, Kind: store.KindVerify, FileName: up.name, FilePath: upload,
		SHA256: up.sha256, SizeBytes: up.size}
	// Not the request's context: a client leaving at this instant must not
	// interrupt the insert after its commit and make us delete the upload.
	if err := s.store.CreateJob(context.WithoutCancel(c), &job); err != nil {
		s.blobs.Delete(context.WithoutCancel(c), upload)
		return nil, fmt.Errorf("queueing the verification: %w", err)
	}
	f.release()
	c.Set("job_id", id)
	if wait > 0 {
		if j, ok := s.waitFor(c, id, wait); ok {
			if j.State == store.Failed {
				return nil, verifyFailure(j)
			}
			return ok200(json.RawMessage(j.Result)), nil
		}
	}
	c.Header("Location", "/v1/verify/"+id)
	return accepted(verifyView(job)), nil
}

// verifyFailure is the error answer of a verification that failed, as the
// route gave it when it fingerprinted in the request: the file could not
// be fingerprinted (422), or the ledger could not be asked (503).
func verifyFailure(j store.Job) error {
	switch j.ErrorCode {
	case "internal", "timeout", "worker_lost":
		return refuse(errLedgerUnavailable, j.ErrorMessage)
	}
	return scan.ErrorCodes.Error(isolate.KindFingerprint, j.ErrorCode, j.ErrorMessage)
}

// verifyQueueRoom refuses a verification when too many wait, in all or
// for the key.
func (s *Server) verifyQueueRoom(c *gin.Context, keyID string) error {
	if n, err := s.store.Waiting(c, store.KindVerify); err != nil {
		return fmt.Errorf("counting queued verifications: %w", err)
	} else if n >= s.opts.MaxWaiting {
		return refuseRetry(errQueueFull, fmt.Sprintf("%d verifications are waiting; try again later", n), 30*time.Second)
	}
	if n, err := s.store.WaitingFor(c, keyID, store.KindVerify); err != nil {
		return fmt.Errorf("counting the key's queued verifications: %w", err)
	} else if n >= s.opts.MaxQueuedPerKey {
		return refuseRetry(errQueueFull,
			fmt.Sprintf("this key has %d verifications waiting, its limit; try again when one has finished", n), 30*time.Second)
	}
	return nil
}

// GET /v1/verify/{id}
func (s *Server) getVerification(c *gin.Context) (*result, error) {
	j, err := s.visibleJob(c, verifyIDPattern, []string{store.KindVerify}, "verification")
	if err != nil {
		return nil, err
	}
	if j, err = s.awaitEnd(c, j); err != nil {
		return nil, err
	}
	return ok200(verifyView(j)), nil
}

// VerifyWith returns the job runner's verification hook (jobs.Options.
// Verify) for the ledger l, nil without one. A file that cannot be
// fingerprinted is the client's answer (*isolate.Error); what else
// went wrong with the ledger is logged, not shown: a node's RPC URL often
// carries a provider's API key.
func VerifyWith(l Ledger, log *slog.Logger) func(context.Context, string) (json.RawMessage, error) {
	if l == nil {
		return nil
	}
	return func(ctx context.Context, path string) (json.RawMessage, error) {
		v, err := l.Verify(ctx, path)
		var reported *isolate.Error
		switch {
		case err == nil:
			return json.Marshal(v)
		case errors.As(err, &reported), ctx.Err() != nil:
			return nil, err
		}
		log.Error("verification: the ledger failed", "err", err)
		return nil, errors.New("the provenance ledger did not answer")
	}
}
