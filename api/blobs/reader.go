package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"
)

// Reader reads one blob. It is an io.ReadSeekCloser and an io.ReaderAt,
// for http.ServeContent and its Range requests.
//
// *blob.Reader seeks too, but it starts reading the whole blob when it is
// opened and starts again at each seek: on S3, a Range request would begin
// a download of the whole video only to abandon it. This Reader asks for
// bytes only when they are read, from where the last Seek left it, so a
// range costs one ranged request; and ReadAt reads a few bytes (a sniff of
// the head) without disturbing that.
//
// A Reader is not safe for concurrent use. Callers must call Close.
type Reader struct {
	ctx   context.Context // for every request the Reader makes
	s     *Store
	key   string
	attrs Attributes
	off   int64
	r     *blob.Reader // reading at off; nil until the next Read
}

// NewReader opens the blob at key for reading, or returns ErrNotFound.
// Opening costs one request for the attributes; ctx is used for every
// later read too.
func (s *Store) NewReader(ctx context.Context, key string) (*Reader, error) {
	a, err := s.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &Reader{ctx: ctx, s: s, key: key, attrs: a}, nil
}

// Size returns the blob's size in bytes.
func (r *Reader) Size() int64 { return r.attrs.Size }

// ModTime returns when the blob was written.
func (r *Reader) ModTime() time.Time { return r.attrs.ModTime }

// ContentType returns the content type stored with the blob.
func (r *Reader) ContentType() string { return r.attrs.ContentType }

// Read reads from the current offset.
func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= r.attrs.Size {
		return 0, io.EOF
	}
	if r.r == nil {
		br, err := r.s.bucket.NewRangeReader(r.ctx, r.key, r.off, -1, nil)
		if err != nil {
			return 0, r.s.wrap("reading", r.key, err)
		}
		r.r = br
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	if err != nil && err != io.EOF {
		err = r.s.wrap("reading", r.key, err)
	}
	return n, err
}

// Seek sets the offset of the next Read. It makes no request.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	abs := offset
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		abs += r.off
	case io.SeekEnd:
		abs += r.attrs.Size
	default:
		return r.off, fmt.Errorf("blobs: seek: invalid whence %d", whence)
	}
	if abs < 0 {
		return r.off, errors.New("blobs: seek before the start")
	}
	if abs != r.off && r.r != nil {
		r.r.Close()
		r.r = nil
	}
	r.off = abs
	return abs, nil
}

// ReadAt reads len(p) bytes at off with a request of its own; the offset
// of Read is unchanged.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("blobs: read at a negative offset")
	}
	if off >= r.attrs.Size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.attrs.Size-off)
	br, err := r.s.bucket.NewRangeReader(r.ctx, r.key, off, want, nil)
	if err != nil {
		return 0, r.s.wrap("reading", r.key, err)
	}
	defer br.Close()
	n, err := io.ReadFull(br, p[:want])
	if err != nil {
		return n, r.s.wrap("reading", r.key, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close ends the read in progress, if any.
func (r *Reader) Close() error {
	if r.r == nil {
		return nil
	}
	err := r.r.Close()
	r.r = nil
	return err
}
