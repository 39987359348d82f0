package api

import (
	"mime/multipart"

	"github.com/gin-gonic/gin"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/trueframe/trueframe/media/video"
)

// upload is a file received into the upload directory, not yet a job.
type upload struct {
	path      string // temporary file; removed unless kept
	name      string // as the client named it
	sha256    string
	size      int64
	container string
}

// uploadError is an upload refused with a status and code.
type uploadError struct {
	status  int
	code    string
	message string
}

func (e *uploadError) Error() string { return e.message }

// receive streams one multipart file part to a temporary file, hashing it
// on the way, without ever holding it in memory. The first bytes must be a
// video container (checked from the bytes, not the name). Each read must
// make progress within the idle timeout, and the whole upload must end
// within the total one. On any error the temporary file is gone.
func (s *Server) receive(part io.Reader, name string, rc *http.ResponseController) (_ *upload, err error) {
	tmpDir := filepath.Join(s.uploadDir(), "tmp")
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return nil, err
	}
	up := &upload{path: f.Name(), name: name}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(up.path)
		}
	}()

	deadline := time.Now().Add(s.opts.UploadTimeout)
	r := &deadlineReader{r: part, rc: rc, idle: s.opts.UploadIdleTimeout, deadline: deadline}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, readError(err, s.opts.MaxUploadBytes)
	}
	head = head[:n]
	if n == 0 {
		return nil, &uploadError{http.StatusBadRequest, codeBadRequest, "the file is empty"}
	}
	if up.container = video.Container(head); up.container == "" {
		return nil, &uploadError{http.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"the file is not a video container trueframe reads (mp4, mov, mkv, webm, avi, mpeg-ts, ...): judged from its first bytes"}
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	// One byte past the limit is enough to know the file is too big.
	copied, err := io.Copy(w, io.LimitReader(r, s.opts.MaxUploadBytes-int64(n)+1))
	if err != nil {
		return nil, readError(err, s.opts.MaxUploadBytes)
	}
	up.size = int64(n) + copied
	if up.size > s.opts.MaxUploadBytes {
		return nil, tooLarge(s.opts.MaxUploadBytes)
	}
	up.sha256 = hexSum(h)
	// Durable before the job is acknowledged.
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return up, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func tooLarge(limit int64) *uploadError {
	return &uploadError{http.StatusRequestEntityTooLarge, codeTooLarge,
		fmt.Sprintf("the upload is larger than the limit of %d bytes", limit)}
}

// readError classifies a failed read of the request body.
func readError(err error, limit int64) error {
	var maxErr *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &maxErr):
		return tooLarge(limit)
	case errors.Is(err, errUploadTimeout) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &uploadError{http.StatusRequestTimeout, codeUploadTimeout, "the upload was too slow and was abandoned"}
	default:
		return &uploadError{http.StatusBadRequest, codeIncompleteUpload, "the upload stopped before its end: " + err.Error()}
	}
}

var errUploadTimeout = errors.New("upload took too long")

// deadlineReader extends the connection's read deadline before each read,
// so that a client must keep sending, and stops at a total deadline.
type deadlineReader struct {
	r        io.Reader
	rc       *http.ResponseController
	idle     time.Duration
	deadline time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	now := time.Now()
	if now.After(d.deadline) {
		return 0, errUploadTimeout
	}
	if d.rc != nil {
		next := now.Add(d.idle)
		if next.After(d.deadline) {
			next = d.deadline
		}
		d.rc.SetReadDeadline(next)
	}
	return d.r.Read(p)
}

// keep moves the upload to its final place, durably.
func (s *Server) keep(up *upload, id string) (string, error) {
	final := filepath.Join(s.uploadDir(), id)
	if err := os.Rename(up.path, final); err != nil {
		os.Remove(up.path)
		return "", err
	}
	if d, err := os.Open(s.uploadDir()); err == nil {
		d.Sync() // the rename itself must survive a crash
		d.Close()
	}
	return final, nil
}

// admitMultipart checks, before reading anything, that the request is a
// multipart body no larger than the upload limit plus overhead (the other
// fields); hint tells the client what to send instead.
func (s *Server) admitMultipart(c *gin.Context, overhead int64, hint string) bool {
	if c.ContentType() != "multipart/form-data" {
		fail(c, http.StatusUnsupportedMediaType, codeUnsupportedMedia, hint)
		return false
	}
	if c.Request.ContentLength > s.opts.MaxUploadBytes+overhead {
		fail(c, http.StatusRequestEntityTooLarge, codeTooLarge, tooLarge(s.opts.MaxUploadBytes).message)
		return false
	}
	return true
}

// openMultipart caps the body at the upload limit plus overhead and opens
// it as multipart; the controller sets the upload's read deadlines.
func (s *Server) openMultipart(c *gin.Context, overhead int64) (*multipart.Reader, *http.ResponseController, bool) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxUploadBytes+overhead)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		fail(c, http.StatusBadRequest, codeBadRequest, "malformed multipart body: "+err.Error())
		return nil, nil, false
	}
	return mr, http.NewResponseController(c.Writer), true
}
