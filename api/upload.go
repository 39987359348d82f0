package api

import (
	"context"
	"crypto/rand"
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trueframe/trueframe/api/blobs"
	"github.com/trueframe/trueframe/media/video"

	"github.com/trueframe/trueframe/api/store"
)

// upload is a file received into the upload directory, not yet a job.
type upload struct {
	path      string // temporary file; removed unless kept
	name      string // as the client named it
	sha256    string
	size      int64
	container string
}

// receive streams one multipart file part to a temporary file, hashing it
// on the way, without ever holding it in memory. The first bytes must be a
// video container (checked from the bytes, not the name). Each read must
// make progress within the idle timeout, and the whole upload must end
// within the total one. limit is the most bytes the file may have (what
// is left of the request's allowance). On any error the temporary file is
// gone.
func (s *Server) receive(part io.Reader, name string, rc *http.ResponseController, limit int64) (_ *upload, err error) {
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

	// Only the body's read errors are the client's; a failed write (a full
	// disk) is the service's, and its message names a path.
	r := &readErrors{r: s.uploadReader(part, rc)}
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, readError(err, s.opts.MaxUploadBytes)
	}
	head = head[:n]
	if n == 0 {
		return nil, badRequest("the file is empty")
	}
	if up.container = video.Container(head); up.container == "" {
		return nil, refuse(errUnsupportedMedia,
			"the file is not a video container trueframe reads (mp4, mov, mkv, webm, avi, mpeg-ts, ...): judged from its first bytes")
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	// One byte past the limit is enough to know the file is too big.
	copied, err := io.Copy(w, io.LimitReader(r, max(limit-int64(n)+1, 0)))
	if err != nil && r.err != nil {
		return nil, readError(err, s.opts.MaxUploadBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("storing the upload: %w", err)
	}
	up.size = int64(n) + copied
	if up.size > limit {
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

// readErrors remembers the last error its reader returned other than
// io.EOF, so that a copy's error can be told to be a read's.
type readErrors struct {
	r   io.Reader
	err error
}

func (r *readErrors) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func tooLarge(limit int64) error {
	return refuse(errTooLarge, fmt.Sprintf("the upload is larger than the limit of %d bytes", limit))
}

// readError classifies a failed read of the request body as one of the
// upload's refusals. Only the body's reads come here: elsewhere a network
// error is not the client's upload stopping.
func readError(err error, limit int64) error {
	var maxErr *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &maxErr):
		return tooLarge(limit)
	case errors.Is(err, errUploadTooSlow):
		return refuse(err, err.Error())
	case errors.Is(err, errUploadTimeout) || (errors.As(err, &netErr) && netErr.Timeout()):
		return refuse(errUploadTimeout, "the upload was too slow and was abandoned")
	case errors.As(err, &netErr):
		// A network error names the server's address: not for clients.
		return refuse(errIncompleteUpload, "the upload stopped before its end: the connection failed")
	default:
		return refuse(errIncompleteUpload, "the upload stopped before its end: "+err.Error())
	}
}

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

// keep stores the upload in the blob store under key, and removes its
// temporary file either way. The store hashes what it stores: a file that
// changed on the local disk since it was received is refused, not kept
// under the hash the client will be told.
func (s *Server) keep(ctx context.Context, up *upload, key string) error {
	defer func() {
		os.Remove(up.path)
		up.path = "" // no longer the form's to remove
	}()
	size, sum, err := s.blobs.PutFile(ctx, key, up.path, &blobs.PutOptions{ContentType: containerType(up.container)})
	if err != nil {
		return fmt.Errorf("storing the upload: %w", err)
	}
	if size != up.size || sum != up.sha256 {
		s.blobs.Delete(context.WithoutCancel(ctx), key)
		return fmt.Errorf("storing the upload: %s changed from %d bytes (sha256 %s) to %d (%s) before it was stored",
			up.path, up.size, up.sha256, size, sum)
	}
	return nil
}

// uploadForm says what a multipart upload route accepts. Every upload
// route reads its body with receiveForm.
type uploadForm struct {
	hint     string         // how to send the request, for one that is not multipart
	overhead int64          // bytes allowed besides the files: headers and fields
	files    map[string]int // file fields, with the most files each
	fields   map[string]int // text fields, with the most bytes each
	required string         // a file field that must have a file; "" for none
	// fieldsInQuery: a text field may also be given in the query; the
	// body's value wins.
	fieldsInQuery bool
	// strict refuses unknown fields (400, naming the accepted ones); a
	// lenient form skips them.
	strict bool
	// analysis: the upload becomes an analysis, and counts against the
	// analysis queue while it is received.
	analysis bool
	// check runs after the upload is admitted, before the body is read: a
	// full queue refuses it without reading gigabytes.
	check func() error
}

// form is a received multipart upload: files in the upload directory,
// until kept or discarded, and the text fields.
type form struct {
	files  map[string][]*upload
	fields map[string]string
	rc     *http.ResponseController
	// release ends the upload's count against the key's uploads in
	// progress (and the analysis queue); it may be called more than once.
	release func()
}

// file returns the first file of a field, or nil.
func (f *form) file(field string) *upload {
	if ups := f.files[field]; len(ups) > 0 {
		return ups[0]
	}
	return nil
}

// discard removes the files not kept (those whose path is not "") and
// releases the upload's count.
func (f *form) discard() {
	for _, ups := range f.files {
		for _, up := range ups {
			if up.path != "" {
				os.Remove(up.path)
			}
		}
	}
	f.release()
}

// receiveForm admits a multipart upload and receives it: every file
// streamed to the upload directory (see receive), together no larger than
// the upload limit, and the text fields. On error nothing is left behind;
// on success the caller must call discard (after keeping the files it
// keeps).
func (s *Server) receiveForm(c *gin.Context, spec uploadForm) (*form, error) {
	release, err := s.admitMultipart(c, spec)
	if err != nil {
		return nil, err
	}
	f := &form{files: map[string][]*upload{}, fields: map[string]string{}, release: release}
	if spec.check != nil {
		if err := spec.check(); err != nil {
			release()
			return nil, err
		}
	}
	if err := s.readForm(c, spec, f); err != nil {
		f.discard()
		return nil, err
	}
	return f, nil
}

func (s *Server) readForm(c *gin.Context, spec uploadForm, f *form) error {
	if spec.fieldsInQuery {
		for name := range spec.fields {
			if v := c.Query(name); v != "" {
				f.fields[name] = strings.TrimSpace(v)
			}
		}
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxUploadBytes+spec.overhead)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return badRequest("malformed multipart body: %v", err)
	}
	f.rc = http.NewResponseController(c.Writer)
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return readError(err, s.opts.MaxUploadBytes)
		}
		name := part.FormName()
		if most, ok := spec.files[name]; ok {
			if len(f.files[name]) >= most {
				return badRequest("at most %d file(s) in the field %q", most, name)
			}
			up, err := s.receive(part, cleanName(part.FileName()), f.rc, s.opts.MaxUploadBytes-total)
			if err != nil {
				return err
			}
			f.files[name] = append(f.files[name], up)
			total += up.size
			continue
		}
		if most, ok := spec.fields[name]; ok {
			b, err := io.ReadAll(io.LimitReader(part, int64(most)+1))
			if err != nil {
				return readError(err, s.opts.MaxUploadBytes)
			}
			if len(b) > most {
				return badRequest("the field %s must be at most %d bytes", name, most)
			}
			f.fields[name] = strings.TrimSpace(string(b))
			continue
		}
		if spec.strict {
			return badRequest("unknown field %q: the fields are %s", truncate(name, 64), strings.Join(spec.names(), ", "))
		}
		// Unknown fields are skipped, not stored.
		if _, err := io.Copy(io.Discard, io.LimitReader(part, 1<<20)); err != nil {
			return readError(err, s.opts.MaxUploadBytes)
		}
	}
	if spec.required != "" && len(f.files[spec.required]) == 0 {
		return badRequest("no file: send the video in the multipart field %q", spec.required)
	}
	return nil
}

// names lists the form's fields, sorted.
func (spec uploadForm) names() []string {
	var names []string
	for n := range spec.files {
		names = append(names, n+" (file)")
	}
	for n := range spec.fields {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// admitMultipart checks, before reading anything, that the request is a
// multipart body no larger than the upload limit plus overhead (the other
// fields), and that the caller's key may start another upload. On success
// the upload counts as in progress for the key until release is called
// (it may be called more than once).
func (s *Server) admitMultipart(c *gin.Context, spec uploadForm) (release func(), err error) {
	if c.ContentType() != "multipart/form-data" {
		return nil, refuse(errUnsupportedMedia, spec.hint)
	}
	if c.Request.ContentLength > s.opts.MaxUploadBytes+spec.overhead {
		return nil, tooLarge(s.opts.MaxUploadBytes)
	}
	keyID := callerKey(c).ID
	id := "up_" + rand.Text()
	n, err := s.store.BeginUpload(c, id, keyID, spec.analysis, s.opts.MaxUploadsPerKey)
	if errors.Is(err, store.ErrTooManyUploads) {
		return nil, refuseRetry(errTooManyUploads,
			fmt.Sprintf("this key has %d uploads in progress, its limit; send the next when one has ended", n), 10*time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("recording the upload: %w", err)
	}
	// The upload's row counts while this node touches it; release ends
	// the touching, then the row. (Not c: gin reuses it after the handler.)
	bg := context.WithoutCancel(c.Request.Context())
	touching, stop := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(store.UploadStale / 4)
		defer tick.Stop()
		for {
			select {
			case <-touching.Done():
				return
			case <-tick.C:
				if err := s.store.TouchUpload(touching, id); err != nil && touching.Err() == nil {
					s.log.Warn("touching an upload in progress", "err", err)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			stop()
			<-done
			if err := s.store.EndUpload(bg, id); err != nil {
				s.log.Warn("ending an upload", "err", err)
			}
		})
	}, nil
}
