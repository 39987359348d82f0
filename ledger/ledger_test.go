package ledger

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/ledger/devchain"
)

// openRegistry opens the embedded chain and a registry in dir.
func openRegistry(t *testing.T, dir string, opts Options) *Registry {
	t.Helper()
	ctx := t.Context()
	c, err := devchain.Open(ctx, filepath.Join(dir, "chain"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, c.Client(), dir, opts)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		c.Close()
	})
	return r
}

func portrait(t *testing.T, name string) string {
	return filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "portrait"), name)
}

// TestVerifyRealMedia registers a real clip and verifies the clip itself,
// a re-encoded half-size copy, a copy with the face replaced for two
// seconds, and a different clip.
func TestVerifyRealMedia(t *testing.T) {
	src := portrait(t, "d13.mp4")
	other := portrait(t, "d9.mp4")
	fixtures := t.TempDir()
	reencoded := filepath.Join(fixtures, "reencoded.mp4")
	videofix.Transcode(t, src, reencoded, videofix.Options{Scale: 0.5, FPS: 25, JPEGQuality: 30})
	altered := filepath.Join(fixtures, "altered.mp4")
	swap := videofix.DonorFace(t, other, image.Rect(150, 160, 370, 405), videofix.FaceD13, 2*time.Second, 4*time.Second)
	videofix.Transcode(t, src, altered, videofix.Options{Edit: swap, FourCC: "mp4v"})

	dir := t.TempDir()
	r := openRegistry(t, dir, Options{})
	ctx := t.Context()
	rec, err := r.Register(ctx, src, "https://archive.example/d13")
	if err != nil {
		t.Fatal(err)
	}
	if rec.TxHash == "" || rec.Block == 0 || rec.Registrar == "" || rec.ChainID == 0 || rec.Batch != nil {
		t.Fatalf("record = %+v", rec)
	}
	if _, err := r.Register(ctx, src, "again"); !errors.Is(err, ErrAlreadyRegistered) {
		t.Errorf("second registration: err = %v, want ErrAlreadyRegistered", err)
	}

	check := func(path string, want VerifyStatus) Verification {
		t.Helper()
		v, err := r.Verify(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		if v.Status != want {
			t.Fatalf("%s: status %s (%s), want %s; match %+v", filepath.Base(path), v.Status, v.Explanation, want, v.Match)
		}
		if want != Unknown && (v.Original == nil || v.Original.SHA256 != rec.SHA256 || v.Original.TxHash != rec.TxHash) {
			t.Fatalf("%s: original %+v, want the registered one", filepath.Base(path), v.Original)
		}
		t.Logf("%s: %s — %s", filepath.Base(path), v.Status, v.Explanation)
		return v
	}
	check(src, Registered)
	m := check(reencoded, MatchesOriginal).Match
	if m == nil || m.MatchedFraction < 0.9 {
		t.Errorf("re-encoded copy: match %+v", m)
	}
	alt := check(altered, AlteredOriginal).Match
	if len(alt.Altered) == 0 && len(alt.Unmatched) == 0 {
		t.Fatalf("altered copy: no altered or unmatched span: %+v", alt)
	}
	// The changed seconds are reported where the face was replaced (2–4 s).
	for _, s := range append(alt.Unmatched, alteredRanges(alt.Altered)...) {
		if s.StartS < 1.5 || s.EndS > 4.5 {
			t.Errorf("changed span %.2f–%.2f s lies outside the edit at 2–4 s", s.StartS, s.EndS)
		}
	}
	check(other, Unknown)

	// The index is a cache: delete it, reindex, and verification still works.
	r.Close()
	for _, f := range []string{"index.db", "index.db-wal", "index.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	r, err = Open(ctx, r.chain, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	check(src, Registered)
	check(reencoded, MatchesOriginal)

	// Revocation shows in verification of the file and of its copies.
	if _, err := r.Revoke(ctx, mustHash(t, rec.SHA256), "licence withdrawn"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Revoke(ctx, mustHash(t, rec.SHA256), "twice"); !errors.Is(err, ErrAlreadyRevoked) {
		t.Errorf("second revoke: err = %v", err)
	}
	if v := check(src, Revoked); v.Original.RevokeReason != "licence withdrawn" {
		t.Errorf("revoked record: %+v", v.Original)
	}
	check(reencoded, Revoked)
}

func alteredRanges(a []Altered) []TimeRange {
	var out []TimeRange
	for _, x := range a {
		out = append(out, x.TimeRange)
	}
	return out
}

func mustHash(t *testing.T, s string) [32]byte {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBatchedRegistrations anchors several registrations as one Merkle
// root and checks every inclusion proof, on and off chain; a batched
// original can be revoked with its proof.
func TestBatchedRegistrations(t *testing.T) {
	clips, err := filepath.Glob(filepath.Join(testutil.SharedDir(t, "data", "videos", "real", "grid"), "*.mpg"))
	if err != nil || len(clips) < 5 {
		t.Fatalf("GRID clips: %v", err)
	}
	clips = clips[:5]
	dir := t.TempDir()
	r := openRegistry(t, dir, Options{BatchSize: 5, BatchDelay: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	defer wg.Wait()
	defer cancel()

	recs := make([]Record, len(clips))
	errs := make([]error, len(clips))
	var reg sync.WaitGroup
	for i, c := range clips {
		reg.Go(func() { recs[i], errs[i] = r.RegisterBatched(ctx, c, "grid/"+filepath.Base(c)) })
	}
	reg.Wait()
	root := ""
	for i, rec := range recs {
		if errs[i] != nil {
			t.Fatalf("%s: %v", clips[i], errs[i])
		}
		if rec.Batch == nil || !rec.Batch.Verified || rec.Batch.Count != len(clips) {
			t.Fatalf("%s: batch %+v", clips[i], rec.Batch)
		}
		if root == "" {
			root = rec.Batch.Root
		} else if rec.Batch.Root != root {
			t.Errorf("two batches (%s, %s) for one full queue", root, rec.Batch.Root)
		}
	}
	v, err := r.Verify(t.Context(), clips[2])
	if err != nil || v.Status != Registered || v.Original.Batch == nil || !v.Original.Batch.Verified {
		t.Fatalf("verify batched: %+v, %v", v, err)
	}
	st, err := r.Status(t.Context())
	if err != nil || st.Originals != len(clips) || st.Batches != 1 || st.Queued != 0 {
		t.Errorf("status = %+v, %v", st, err)
	}
	if _, err := r.Revoke(t.Context(), mustHash(t, recs[1].SHA256), "withdrawn"); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Verify(t.Context(), clips[1]); v.Status != Revoked {
		t.Errorf("revoked batched original verifies %s", v.Status)
	}
	if v, _ := r.Verify(t.Context(), clips[0]); v.Status != Registered {
		t.Errorf("its batch neighbour verifies %s", v.Status)
	}
}

// Run returns once its context ends, even with a batch due: the batcher
// must not spin on a Flush that fails because the service is stopping.
func TestRunStopsWithBatchDue(t *testing.T) {
	r := openRegistry(t, t.TempDir(), Options{BatchSize: 1})
	var sha, fp [32]byte
	sha[0], fp[0] = 1, 2
	if err := r.EnqueueHashes(sha, fp, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
