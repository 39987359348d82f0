package blobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/trueframe/trueframe/internal/testutil"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// backends are the stores every test runs against: a directory, and a
// real S3 server (skipped without one; see testutil.S3).
var backends = map[string]func(t testing.TB) string{
	"file": func(t testing.TB) string { return t.TempDir() },
	"s3":   testutil.S3,
}

// eachBackend runs test against a fresh store of each backend.
func eachBackend(t *testing.T, test func(t *testing.T, s *Store)) {
	for name, url := range backends {
		t.Run(name, func(t *testing.T) {
			test(t, openTest(t, url(t)))
		})
	}
}

// openTest opens a store that is closed, and emptied, after the test.
func openTest(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The test's prefix of a shared bucket is left empty.
		ctx := context.Background()
		objs, _ := s.List(ctx, "")
		for _, o := range objs {
			s.Delete(ctx, o.Key)
		}
		s.Close()
	})
	return s
}

func put(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	if _, _, err := s.Put(t.Context(), key, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		data := []byte(strings.Repeat("trueframe ", 1000))
		size, sum, err := s.Put(ctx, "uploads/an_1.mp4", bytes.NewReader(data), &PutOptions{ContentType: "video/mp4"})
		if err != nil {
			t.Fatal(err)
		}
		if size != int64(len(data)) || sum != hexSHA(data) {
			t.Errorf("Put = %d, %s; want %d, %s", size, sum, len(data), hexSHA(data))
		}
		a, err := s.Attributes(ctx, "uploads/an_1.mp4")
		if err != nil || a.Size != int64(len(data)) || a.ContentType != "video/mp4" || time.Since(a.ModTime) > time.Hour {
			t.Errorf("Attributes = %+v, %v", a, err)
		}
		if ok, err := s.Exists(ctx, "uploads/an_1.mp4"); !ok || err != nil {
			t.Errorf("Exists = %v, %v", ok, err)
		}
		r, err := s.NewReader(ctx, "uploads/an_1.mp4")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes, %v", len(got), err)
		}

		// A second Put replaces the blob.
		if _, _, err := s.Put(ctx, "uploads/an_1.mp4", strings.NewReader("short"), &PutOptions{ContentType: "video/webm"}); err != nil {
			t.Fatal(err)
		}
		if b := readAll(t, s, "uploads/an_1.mp4"); string(b) != "short" {
			t.Errorf("after overwrite: %q", b)
		}
		if a, _ := s.Attributes(ctx, "uploads/an_1.mp4"); a.ContentType != "video/webm" {
			t.Errorf("content type after overwrite %q", a.ContentType)
		}
		// The default type is binary.
		put(t, s, "blob", []byte("\x00\x01text"))
		if a, _ := s.Attributes(ctx, "blob"); a.ContentType != "application/octet-stream" {
			t.Errorf("default content type %q", a.ContentType)
		}

		// An empty blob is a blob.
		put(t, s, "empty", nil)
		if a, err := s.Attributes(ctx, "empty"); err != nil || a.Size != 0 {
			t.Errorf("empty blob: %+v, %v", a, err)
		}
		if b := readAll(t, s, "empty"); len(b) != 0 {
			t.Errorf("empty blob reads %q", b)
		}
	})
}

func readAll(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	r, err := s.NewReader(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		data := make([]byte, 100_000)
		for i := range data {
			data[i] = byte(i * 7)
		}
		put(t, s, "v.bin", data)
		serve := func(rangeHeader string) *httptest.ResponseRecorder {
			r, err := s.NewReader(t.Context(), "v.bin")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			req := httptest.NewRequest("GET", "/v.bin", nil)
			if rangeHeader != "" {
				req.Header.Set("Range", rangeHeader)
			}
			w := httptest.NewRecorder()
			http.ServeContent(w, req, "v.bin", r.ModTime(), r)
			return w
		}
		for name, tc := range map[string]struct {
			header string
			status int
			body   []byte
		}{
			"whole":       {"", 200, data},
			"start":       {"bytes=0-9", 206, data[:10]},
			"middle":      {"bytes=50000-50099", 206, data[50000:50100]},
			"open end":    {"bytes=99990-", 206, data[99990:]},
			"suffix":      {"bytes=-5", 206, data[len(data)-5:]},
			"past end":    {"bytes=100000-", 416, nil},
			"last byte":   {"bytes=99999-99999", 206, data[99999:]},
			"end clamped": {"bytes=99998-200000", 206, data[99998:]},
		} {
			t.Run(name, func(t *testing.T) {
				w := serve(tc.header)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d", w.Code, tc.status)
				}
				if tc.body != nil && !bytes.Equal(w.Body.Bytes(), tc.body) {
					t.Errorf("body: %d bytes, want %d", w.Body.Len(), len(tc.body))
				}
			})
		}
		// Several ranges come back as a multipart body with both parts.
		w := serve("bytes=0-3,10-13")
		if w.Code != 206 || !strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/byteranges") ||
			!bytes.Contains(w.Body.Bytes(), data[0:4]) || !bytes.Contains(w.Body.Bytes(), data[10:14]) {
			t.Errorf("multirange: %d %q", w.Code, w.Header().Get("Content-Type"))
		}

		// ReadAt reads on the side, Seek moves the stream.
		r, err := s.NewReader(t.Context(), "v.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		head := make([]byte, 4)
		if n, err := r.ReadAt(head, 1000); n != 4 || err != nil || !bytes.Equal(head, data[1000:1004]) {
			t.Errorf("ReadAt = %d, %v, %x", n, err, head)
		}
		tail := make([]byte, 10)
		if n, err := r.ReadAt(tail, int64(len(data)-4)); n != 4 || err != io.EOF {
			t.Errorf("ReadAt past the end = %d, %v", n, err)
		}
		if n, _ := io.ReadFull(r, head); n != 4 || !bytes.Equal(head, data[:4]) {
			t.Errorf("Read after ReadAt: %x", head)
		}
		if off, err := r.Seek(-6, io.SeekEnd); off != int64(len(data)-6) || err != nil {
			t.Errorf("Seek = %d, %v", off, err)
		}
		if rest, _ := io.ReadAll(r); !bytes.Equal(rest, data[len(data)-6:]) {
			t.Errorf("after Seek: %x", rest)
		}
		if _, err := r.Seek(-1, io.SeekStart); err == nil {
			t.Error("Seek before the start: no error")
		}
	})
}

func TestNotFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		dst := filepath.Join(t.TempDir(), "dst")
		for name, op := range map[string]func() error{
			"Attributes": func() error { _, err := s.Attributes(ctx, "nope/x"); return err },
			"NewReader":  func() error { _, err := s.NewReader(ctx, "nope/x"); return err },
			"Fetch":      func() error { _, _, err := s.Fetch(ctx, "nope/x", dst); return err },
			"Delete":     func() error { return s.Delete(ctx, "nope/x") },
		} {
			if err := op(); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
		if ok, err := s.Exists(ctx, "nope/x"); ok || err != nil {
			t.Errorf("Exists = %v, %v", ok, err)
		}
		if objs, err := s.List(ctx, "nope/"); len(objs) != 0 || err != nil {
			t.Errorf("List = %v, %v", objs, err)
		}
		if n, err := s.DeleteAll(ctx, "nope/"); n != 0 || err != nil {
			t.Errorf("DeleteAll = %d, %v", n, err)
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Errorf("a failed Fetch made %s", dst)
		}
	})
}

func TestPutDirListDeleteAll(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "heatmap.png"), []byte("\x89PNG..."), 0o644)
		os.WriteFile(filepath.Join(dir, "sub", "notes.txt"), []byte("hello"), 0o644)
		os.Symlink("/etc/passwd", filepath.Join(dir, "link")) // not a regular file: skipped
		if n, err := s.PutDir(ctx, "evidence/an_1/", dir); n != 2 || err != nil {
			t.Fatalf("PutDir = %d, %v", n, err)
		}
		put(t, s, "evidence/an_10/other.png", []byte("x"))
		put(t, s, "uploads/an_1.mp4", []byte("video"))

		objs, err := s.List(ctx, "evidence/an_1/")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		if strings.Join(keys, " ") != "evidence/an_1/heatmap.png evidence/an_1/sub/notes.txt" || objs[1].Size != 5 {
			t.Errorf("List = %+v", objs)
		}
		if a, _ := s.Attributes(ctx, "evidence/an_1/heatmap.png"); a.ContentType != "image/png" {
			t.Errorf("evidence type %q", a.ContentType)
		}
		if all, _ := s.List(ctx, ""); len(all) != 4 {
			t.Errorf("List(\"\") = %+v", all)
		}

		// DeleteAll takes the prefix's blobs and nothing else; a prefix is a
		// directory, so an_1/ does not take an_10/.
		if n, err := s.DeleteAll(ctx, "evidence/an_1/"); n != 2 || err != nil {
			t.Errorf("DeleteAll = %d, %v", n, err)
		}
		if objs, _ := s.List(ctx, "evidence/an_1/"); len(objs) != 0 {
			t.Errorf("left after DeleteAll: %+v", objs)
		}
		for _, k := range []string{"evidence/an_10/other.png", "uploads/an_1.mp4"} {
			if ok, _ := s.Exists(ctx, k); !ok {
				t.Errorf("DeleteAll took %s", k)
			}
		}
		// A file store keeps no empty directory for the deleted prefix.
		if s.dir != "" {
			if _, err := os.Stat(filepath.Join(s.dir, "evidence", "an_1")); !os.IsNotExist(err) {
				t.Errorf("evidence/an_1 directory still there: %v", err)
			}
		}
		if _, err := s.DeleteAll(ctx, ""); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DeleteAll(\"\") = %v, want ErrInvalidKey", err)
		}
	})
}

func TestFetch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		put(t, s, "uploads/an_2.mkv", data)
		dst := filepath.Join(t.TempDir(), "cache", "an_2.mkv")
		size, sum, err := s.Fetch(t.Context(), "uploads/an_2.mkv", dst)
		if err != nil || size != int64(len(data)) || sum != hexSHA(data) {
			t.Fatalf("Fetch = %d, %s, %v", size, sum, err)
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
			t.Errorf("fetched %d bytes", len(got))
		}
		// Fetching again replaces the copy; a failed fetch leaves it.
		put(t, s, "uploads/an_2.mkv", []byte("new"))
		if _, _, err := s.Fetch(t.Context(), "uploads/an_2.mkv", dst); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Fetch(t.Context(), "uploads/gone.mkv", dst); !errors.Is(err, ErrNotFound) {
			t.Errorf("Fetch of a missing blob: %v", err)
		}
		if got, _ := os.ReadFile(dst); string(got) != "new" {
			t.Errorf("after fetches: %q", got)
		}
		assertOnly(t, filepath.Dir(dst), "an_2.mkv")
	})
}

// TestFetchAtomic: a copy cut short, by an error or by a body shorter than
// the blob, never appears at the destination, and leaves no temporary file.
func TestFetchAtomic(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "an_3.mp4")
	os.WriteFile(dst, []byte("previous"), 0o600)
	for name, tc := range map[string]struct {
		r    io.Reader
		size int64
	}{
		"read error":  {io.MultiReader(bytes.NewReader(make([]byte, 64<<10)), errReader{}), 1 << 20},
		"short body":  {bytes.NewReader(make([]byte, 64<<10)), 1 << 20},
		"longer body": {bytes.NewReader(make([]byte, 64<<10)), 1 << 10},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := writeAtomic(dst, tc.r, tc.size); err == nil {
				t.Fatal("no error")
			}
			if got, _ := os.ReadFile(dst); string(got) != "previous" {
				t.Errorf("destination changed to %d bytes", len(got))
			}
			assertOnly(t, dir, "an_3.mp4")
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// assertOnly checks that dir holds exactly the named files.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestPutFailureStoresNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		r := io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), errReader{})
		if _, _, err := s.Put(t.Context(), "uploads/an_4.mp4", r, nil); err == nil {
			t.Fatal("Put of a failing reader: no error")
		}
		if ok, err := s.Exists(t.Context(), "uploads/an_4.mp4"); ok || err != nil {
			t.Errorf("after a failed Put: exists %v, %v", ok, err)
		}
		if s.dir != "" {
			assertOnly(t, filepath.Join(s.dir, "uploads")) // no temporary file left either
		}
	})
}

func TestKeys(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := t.Context()
	bad := []string{"", "/abs", "../up", "a/../b", "a/./b", "a//b", "dir/", "a\\b", "ctl\x01", "x.attrs",
		"bad\xffutf8", strings.Repeat("k", maxKeyLen+1), ".", ".."}
	for _, key := range bad {
		for name, op := range map[string]func() error{
			"Put":        func() error { _, _, err := s.Put(ctx, key, strings.NewReader("x"), nil); return err },
			"Attributes": func() error { _, err := s.Attributes(ctx, key); return err },
			"NewReader":  func() error { _, err := s.NewReader(ctx, key); return err },
			"Exists":     func() error { _, err := s.Exists(ctx, key); return err },
			"Delete":     func() error { return s.Delete(ctx, key) },
			"Fetch":      func() error { _, _, err := s.Fetch(ctx, key, filepath.Join(t.TempDir(), "f")); return err },
		} {
			if err := op(); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want ErrInvalidKey", name, key, err)
			}
		}
	}
	for _, prefix := range []string{"noslash", "/abs/", "../", "a/../", "a//", "/"} {
		if _, err := s.List(ctx, prefix); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("List(%q) = %v", prefix, err)
		}
		if _, err := s.DeleteAll(ctx, prefix); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DeleteAll(%q) = %v", prefix, err)
		}
		if _, err := s.PutDir(ctx, prefix, t.TempDir()); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("PutDir(%q) = %v", prefix, err)
		}
	}
	for _, good := range []string{"uploads/an_0123.mp4", "evidence/an_1/face_track_0.jpg", "a", "ünïcode/ključ", "x..y", "...", ".hidden/a"} {
		if _, _, err := s.Put(ctx, good, strings.NewReader("x"), nil); err != nil {
			t.Errorf("Put(%q): %v", good, err)
		}
	}
	// Nothing escaped the store's directory.
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.dir), "up")); !os.IsNotExist(err) {
		t.Errorf("a key climbed out: %v", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()

	// A plain path is a directory store, created private.
	dir := filepath.Join(root, "plain", "blobs")
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "uploads/an_1.mp4", []byte("v"))
	s.Close()
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("store directory: %v, %v", st.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "uploads", "an_1.mp4")); string(b) != "v" {
		t.Errorf("blob on disk: %q, %v", b, err)
	}

	// The same directory by URL, and a prefix inside it.
	s, err = Open(ctx, "file://"+filepath.ToSlash(dir)+"?prefix=tenant/a/")
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "uploads/an_2.mp4", []byte("w"))
	if objs, _ := s.List(ctx, ""); len(objs) != 1 || objs[0].Key != "uploads/an_2.mp4" {
		t.Errorf("prefixed listing: %+v", objs)
	}
	if _, err := s.Attributes(ctx, "uploads/an_1.mp4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a prefixed store sees outside its prefix: %v", err)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "tenant", "a", "uploads", "an_2.mp4")); err != nil {
		t.Error(err)
	}

	for name, url := range map[string]string{
		"empty":        "",
		"scheme":       "gs://bucket",
		"bad prefix":   "file://" + filepath.ToSlash(dir) + "?prefix=../",
		"param":        "file://" + filepath.ToSlash(dir) + "?nonsense=1",
		"prefix slash": "file://" + filepath.ToSlash(dir) + "?prefix=noslash",
	} {
		if s, err := Open(ctx, url); err == nil {
			s.Close()
			t.Errorf("%s: Open(%q) succeeded", name, url)
		}
	}
}

// TestOpenMissingBucket: a store that cannot be used fails at Open, not at
// the first upload.
func TestOpenMissingBucket(t *testing.T) {
	u := testutil.S3(t)
	bad := strings.Replace(u, "s3://", "s3://no-such-bucket-"+strconv.FormatInt(rand.Int64(), 36), 1)
	if s, err := Open(t.Context(), bad); err == nil {
		s.Close()
		t.Errorf("Open(%s) succeeded", bad)
	}
}

// TestPutStreams: a large Put holds a bounded amount in memory, whatever
// the size: the live heap is sampled (after a collection) while the body
// is read, and must stay well under the body's size.
func TestPutStreams(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		const size = 128 << 20
		gen := &generator{left: size, h: sha256.New(), every: 4 << 20}
		gen.baseline = liveHeap()
		n, sum, err := s.Put(t.Context(), "uploads/big.bin", gen, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n != size || sum != hex.EncodeToString(gen.h.Sum(nil)) {
			t.Errorf("Put = %d, %s", n, sum)
		}
		grew := gen.peak - gen.baseline
		t.Logf("live heap grew by at most %.1f MiB for a %d MiB body", float64(grew)/(1<<20), size>>20)
		// On S3: the SDK's first read of up to 16 MiB, partUploads+1 parts of
		// partSize and a copy buffer, 41 to 60 MiB measured whatever the
		// size; a buffer of the whole body would be 128 MiB and more.
		if limit := int64(size * 3 / 4); grew > limit {
			t.Errorf("live heap grew by %d bytes during the Put (limit %d): the body is buffered", grew, limit)
		}
		// And the stored bytes are the generated ones.
		_, fetched, err := s.Fetch(t.Context(), "uploads/big.bin", filepath.Join(t.TempDir(), "big"))
		if err != nil || fetched != sum {
			t.Errorf("fetched %s, %v; put %s", fetched, err, sum)
		}
	})
}

// generator yields left pseudo-random bytes, hashing them, and samples the
// live heap every so many bytes.
type generator struct {
	left, every, next int64
	h                 hash.Hash
	rng               *rand.ChaCha8
	baseline, peak    int64
}

func (g *generator) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if g.rng == nil {
		g.rng = rand.NewChaCha8([32]byte{1})
	}
	if g.next <= 0 {
		g.peak = max(g.peak, liveHeap())
		g.next = g.every
	}
	n := int(min(int64(len(p)), g.left))
	g.rng.Read(p[:n])
	g.h.Write(p[:n])
	g.left -= int64(n)
	g.next -= int64(n)
	return n, nil
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
