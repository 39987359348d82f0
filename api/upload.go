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
	"sync"
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

	r := s.uploadReader(part, rc)
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
	case errors.Is(err, errUploadTooSlow):
		return &uploadError{http.StatusRequestTimeout, codeUploadTooSlow, err.Error()}
	case errors.Is(err, errUploadTimeout) || (errors.As(err, &netErr) && netErr.Timeout()):
		return &uploadError{http.StatusRequestTimeout, codeUploadTimeout, "the upload was too slow and was abandoned"}
	case errors.As(err, &netErr):
		// A network error names the server's address: not for clients.
		return &uploadError{http.StatusBadRequest, codeIncompleteUpload, "the upload stopped before its end: the connection failed"}
	default:
		return &uploadError{http.StatusBadRequest, codeIncompleteUpload, "the upload stopped before its end: " + err.Error()}
	}
}

var (
	errUploadTimeout = errors.New("upload took too long")
	errUploadTooSlow = errors.New("upload too slow")
)

// uploadReader wraps an upload's body with the upload's deadlines and
// minimum rate.
func (s *Server) uploadReader(r io.Reader, rc *http.ResponseController) *deadlineReader {
	now := time.Now()
	return &deadlineReader{r: r, rc: rc, idle: s.opts.UploadIdleTimeout, deadline: now.Add(s.opts.UploadTimeout),
		window: s.opts.UploadRateWindow, minBytes: int64(float64(s.opts.MinUploadRate) * s.opts.UploadRateWindow.Seconds()),
		winStart: now, now: time.Now}
}

// deadlineReader extends the connection's read deadline before each read,
// so that a client must keep sending, stops at a total deadline, and
// requires a minimum rate: at least minBytes in every window, counted
// from the start, so that a client trickling a byte now and then (always
// within the idle timeout) cannot hold an upload open until the total
// deadline.
type deadlineReader struct {
	r        io.Reader
	rc       *http.ResponseController
	idle     time.Duration
	deadline time.Time

	window   time.Duration
	minBytes int64     // 0: no minimum rate
	winStart time.Time // the current window's start
	winBytes int64     // bytes read in it
	now      func() time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	now := d.now()
	if now.After(d.deadline) {
		return 0, errUploadTimeout
	}
	if err := d.roll(now); err != nil {
		return 0, err
	}
	if d.rc != nil {
		next := earliest(now.Add(d.idle), d.deadline)
		if d.minBytes > 0 && d.winBytes < d.minBytes {
			// A window short of its bytes ends the upload when it ends,
			// even while a read waits: roll reports it below.
			next = earliest(next, d.winStart.Add(d.window))
		}
		d.rc.SetReadDeadline(next)
	}
	n, err := d.r.Read(p)
	// The bytes just read count in the window they arrived in.
	if rerr := d.roll(d.now()); rerr != nil {
		return 0, rerr
	}
	d.winBytes += int64(n)
	return n, err
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// roll closes the windows that ended by now: one short of minBytes is the
// error errUploadTooSlow.
func (d *deadlineReader) roll(now time.Time) error {
	if d.minBytes <= 0 {
		return nil
	}
	for end := d.winStart.Add(d.window); now.After(end); end = d.winStart.Add(d.window) {
		if d.winBytes < d.minBytes {
			return fmt.Errorf("%w: the upload was slower than the minimum of %d bytes per second (%d bytes in %s)",
				errUploadTooSlow, int64(float64(d.minBytes)/d.window.Seconds()), d.winBytes, d.window)
		}
		d.winStart, d.winBytes = end, 0
	}
	return nil
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
// fields), and that the caller's key may start another upload; hint tells
// the client what to send instead. On success the upload counts as in
// progress for the key until release is called (it may be called more
// than once).
func (s *Server) admitMultipart(c *gin.Context, overhead int64, hint string, analysis bool) (release func(), ok bool) {
	if c.ContentType() != "multipart/form-data" {
		fail(c, http.StatusUnsupportedMediaType, codeUnsupportedMedia, hint)
		return nil, false
	}
	if c.Request.ContentLength > s.opts.MaxUploadBytes+overhead {
		fail(c, http.StatusRequestEntityTooLarge, codeTooLarge, tooLarge(s.opts.MaxUploadBytes).message)
		return nil, false
	}
	id := callerKey(c).ID
	s.keyUploadsMu.Lock()
	defer s.keyUploadsMu.Unlock()
	k := s.keyUploads[id]
	if k == nil {
		k = &keyUploads{}
		s.keyUploads[id] = k
	}
	if k.all >= s.opts.MaxUploadsPerKey {
		failRetry(c, http.StatusTooManyRequests, codeTooManyUploads,
			fmt.Sprintf("this key has %d uploads in progress, its limit; send the next when one has ended", k.all), 10*time.Second)
		return nil, false
	}
	k.all++
	if analysis {
		k.analyses++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.keyUploadsMu.Lock()
			defer s.keyUploadsMu.Unlock()
			k.all--
			if analysis {
				k.analyses--
			}
			if k.all == 0 {
				delete(s.keyUploads, id)
			}
		})
	}, true
}

// keyUploads counts one key's uploads in progress.
type keyUploads struct {
	all      int // every kind of upload
	analyses int // analyses: they become jobs, which count against MaxQueuedPerKey
}

// analysesUploading returns how many analyses the key is uploading.
func (s *Server) analysesUploading(keyID string) int {
	s.keyUploadsMu.Lock()
	defer s.keyUploadsMu.Unlock()
	if k := s.keyUploads[keyID]; k != nil {
		return k.analyses
	}
	return 0
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
