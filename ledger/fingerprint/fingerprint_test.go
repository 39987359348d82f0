package fingerprint

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/media/video"
)

// writeSynthetic writes a clip of the given length and frame rate whose
// picture is a function of time: a disc moving along a path over the
// pattern of hash_test.go. Clips written at different rates show the same
// picture at the same time.
func writeSynthetic(tb testing.TB, path string, fps float64, length time.Duration, w, h int) {
	tb.Helper()
	videofix.WriteSynthetic(tb, path, videofix.Synthetic{FPS: fps, Width: w, Height: h, Frames: int(length.Seconds() * fps),
		Draw: func(i int, img *gocv.Mat) {
			s := float64(i) / fps / length.Seconds() // 0..1 over the clip
			m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, pattern(w, h, 0.2+0.6*s, 0.2+0.5*s*s, 0))
			if err != nil {
				tb.Fatal(err)
			}
			m.CopyTo(img)
			m.Close()
		}})
}

func compute(tb testing.TB, path string, opts *Options) *Fingerprint {
	tb.Helper()
	fp, err := Compute(context.Background(), path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return fp
}

func TestComputeSynthetic(t *testing.T) {
	dir := t.TempDir()
	p30 := filepath.Join(dir, "30.mp4")
	p25 := filepath.Join(dir, "25.mp4")
	writeSynthetic(t, p30, 30, 6*time.Second, 320, 240)
	writeSynthetic(t, p25, 25, 6*time.Second, 160, 120)

	fp := compute(t, p30, nil)
	if fp.Version != Version1 || fp.SampleRate != DefaultSampleRate || fp.Grid != DefaultGrid || fp.Width != 320 || fp.Height != 240 {
		t.Errorf("header %+v", summaryFP(fp))
	}
	if len(fp.Frames) != 24 {
		t.Errorf("%d samples for 6 s at 4 per second, want 24", len(fp.Frames))
	}
	if fp.Duration < 5990*time.Millisecond || fp.Duration > 6010*time.Millisecond {
		t.Errorf("duration %v", fp.Duration)
	}
	// Samples are taken by time: each is the frame nearest k/4 s, within
	// half a frame.
	for k, f := range fp.Frames {
		if d := f.T - time.Duration(k)*interval; d < -17*time.Millisecond || d > 17*time.Millisecond {
			t.Errorf("sample %d at %v, want %v ± half a frame", k, f.T, time.Duration(k)*interval)
		}
	}

	// Same file, same digest.
	d1, err := fp.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := compute(t, p30, nil).Digest()
	if d1 != d2 {
		t.Error("two runs on the same file give different digests")
	}

	// Another frame rate and size lines up sample for sample.
	fp25 := compute(t, p25, nil)
	m, err := Compare(fp, fp25, nil)
	if err != nil {
		t.Fatal(err)
	}
	if Classify(m) != SameContent || m.Offset != 0 || m.MatchedFraction < 0.95 {
		t.Errorf("25 fps half-size copy: %s, %+v", Classify(m), summary(m))
	}
	t.Logf("30 vs 25 fps: mean global distance %.2f", m.MeanDistance)

	// Options reach the fingerprint.
	fp2 := compute(t, p30, &Options{SampleRate: 2, Grid: 6})
	if len(fp2.Frames) != 12 || len(fp2.Frames[0].Cells) != 36 || fp2.SampleRate != 2 || fp2.Grid != 6 {
		t.Errorf("2 per second, grid 6: %d samples of %d cells", len(fp2.Frames), len(fp2.Frames[0].Cells))
	}
	if fp1 := compute(t, p30, &Options{Grid: 1}); len(fp1.Frames[0].Cells) != 1 {
		t.Errorf("grid 1: %d cells", len(fp1.Frames[0].Cells))
	}
	// A sample rate above the frame rate repeats frames.
	fp3 := compute(t, p25, &Options{SampleRate: MaxSampleRate})
	if len(fp3.Frames) < 170 || fp3.Frames[1].T > fp3.Frames[2].T {
		t.Errorf("30 per second from a 25 fps clip: %d samples", len(fp3.Frames))
	}
}

func summaryFP(fp *Fingerprint) Fingerprint {
	c := *fp
	c.Frames = nil
	return c
}

func TestComputeContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "clip.mp4")
	writeSynthetic(t, p, 30, 2*time.Second, 160, 120)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, p, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
	// Limits are passed to the decoder.
	opts := &Options{Video: &video.Options{Limits: video.Limits{MaxPixels: 100}}}
	if _, err := Compute(context.Background(), p, opts); !errors.Is(err, video.ErrTooLarge) {
		t.Errorf("pixel limit: error %v, want video.ErrTooLarge", err)
	}
	if _, err := Compute(context.Background(), p, &Options{SampleRate: -1}); err == nil {
		t.Error("negative sample rate accepted")
	}
}

// TestComputeBadInput checks that files that are not videos give
// media/video's typed errors, wrapped, and no crash.
func TestComputeBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	png := filepath.Join(dir, "image.png")
	img, err := gocv.NewMatFromBytes(48, 64, gocv.MatTypeCV8UC3, pattern(64, 48, 0.5, 0.5, 0))
	if err != nil {
		t.Fatal(err)
	}
	gocv.IMWrite(png, img)
	img.Close()
	clip := filepath.Join(dir, "clip.mp4")
	writeSynthetic(t, clip, 30, time.Second, 160, 120)
	whole, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i * 131 % 251)
	}
	cases := map[string]struct {
		path string
		want error
	}{
		"empty file":       {write("empty.mp4", nil), video.ErrNotVideo},
		"text":             {write("notes.mp4", []byte("not a video at all\n")), video.ErrNotVideo},
		"an image":         {png, video.ErrNotVideo},
		"random bytes":     {write("random.bin", garbage), video.ErrNotVideo},
		"a directory":      {dir, video.ErrNotVideo},
		"MP4 cut to 1 KiB": {write("cut.mp4", whole[:1024]), video.ErrTruncated},
		"MP4 header, then garbage": {write("ftyp.mp4", append(append([]byte{}, whole[:32]...), garbage...)),
			video.ErrTruncated},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Compute(context.Background(), c.path, nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			var de *video.DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %v is not a *video.DecodeError", err)
			}
		})
	}
	if _, err := Compute(context.Background(), filepath.Join(dir, "missing.mp4"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v, want fs.ErrNotExist", err)
	}
}
