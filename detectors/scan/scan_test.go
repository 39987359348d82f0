package scan

import (
	"context"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors/fusion"
	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/media/video"
)

// The test binary doubles as the analysis worker: Isolated starts it again
// with TRUEFRAME_SCAN_TEST_WORKER set, as trueframe starts itself.
func TestMain(m *testing.M) {
	if os.Getenv("TRUEFRAME_SCAN_TEST_WORKER") == "1" {
		err := ServeWorker(context.Background(), os.Stdin, func(req Request) (*Analyzer, error) {
			if err := initORT(); err != nil {
				return nil, err
			}
			return New(Options{ModelDir: os.Getenv("TRUEFRAME_TEST_MODELS"), Limits: req.Limits, EvidenceDir: req.EvidenceDir})
		})
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func newAnalyzer(t *testing.T, opts Options) *Analyzer {
	t.Helper()
	testutil.InitORT(t)
	opts.ModelDir = filepath.Join(testutil.DepsDir(t), "models")
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func isolated(t *testing.T, maxMemory int64, limits *video.Limits) *Isolated {
	t.Helper()
	deps := testutil.DepsDir(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Isolated{
		Worker: isolate.Options{Executable: exe, MaxMemory: maxMemory, Codes: ErrorCodes, Env: []string{
			"TRUEFRAME_SCAN_TEST_WORKER=1",
			"TRUEFRAME_TEST_MODELS=" + filepath.Join(deps, "models"),
			"TRUEFRAME_TEST_ORT=" + filepath.Join(deps, "lib", "libonnxruntime.so.1.30.0"),
		}},
		Base: Request{Limits: limits, EvidenceDir: t.TempDir()},
	}
}

func realClips(t *testing.T) []string {
	t.Helper()
	root := testutil.SharedDir(t, "data", "videos", "real")
	var clips []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".mp4") || strings.HasSuffix(p, ".mpg")) {
			clips = append(clips, p)
		}
		return nil
	})
	if len(clips) == 0 {
		t.Skip("no real clips in", root)
	}
	return clips
}

// No real clip may be called likely_manipulated; each must be analysed with
// faces found and a complete report.
func TestRealClipsAreNotCalledManipulated(t *testing.T) {
	a := newAnalyzer(t, Options{EvidenceDir: t.TempDir()})
	for _, clip := range realClips(t) {
		t.Run(filepath.Base(clip), func(t *testing.T) {
			rep, err := a.Analyze(t.Context(), clip, nil)
			if err != nil {
				t.Fatal(err)
			}
			line := ""
			for name, d := range rep.Detectors {
				line += " " + name + "=" + fmtf(d.Score) + "/" + fmtf(d.Confidence)
			}
			t.Logf("score %.3f %s faces %d frames %d%s", rep.Score, rep.Verdict, len(rep.Faces), rep.Video.Frames, line)
			if rep.Verdict == fusion.LikelyManipulated {
				t.Errorf("real clip called likely_manipulated (score %.3f)", rep.Score)
			}
			if len(rep.Faces) == 0 {
				t.Errorf("no face found in a real face clip")
			}
			if len(rep.SHA256) != 64 || rep.DurationS <= 0 || rep.Video.Frames == 0 || len(rep.Timeline) == 0 {
				t.Errorf("incomplete report: sha %q duration %v frames %d timeline %d", rep.SHA256, rep.DurationS, rep.Video.Frames, len(rep.Timeline))
			}
			for _, name := range []string{"blink", "skin_tone", "edges"} {
				if _, ok := rep.Detectors[name]; !ok {
					t.Errorf("detector %s missing from the report", name)
				}
			}
		})
	}
}

func fmtf(v float64) string {
	return strings.TrimRight(strings.TrimRight(sprintf("%.2f", v), "0"), ".")
}

// writeHugeClip writes a short MJPG clip of very large frames: decoding it
// needs far more memory than the small cap the crash test gives the worker.
func writeHugeClip(t *testing.T, w, h, frames int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "huge.avi")
	videofix.WriteSynthetic(t, p, videofix.Synthetic{FourCC: "MJPG", FPS: 5, Width: w, Height: h, Frames: frames,
		Background: gocv.NewScalar(90, 120, 150, 0), Draw: func(i int, img *gocv.Mat) {
			gocv.Circle(img, image.Pt((i*97)%w, (i*61)%h), h/10, color.RGBA{R: 200, G: 50, B: 50, A: 255}, -1)
		}})
	return p
}

// A file that kills the worker ends that analysis with a clear error, and
// the caller goes on to analyse the next file.
func TestWorkerCrashIsIsolated(t *testing.T) {
	huge := writeHugeClip(t, 16000, 12000, 4)
	noLimits := &video.Limits{}
	iso := isolated(t, 3<<30, noLimits)
	_, err := iso.Analyze(t.Context(), huge, nil)
	var ce *isolate.CrashError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want the worker to crash", err)
	}
	t.Logf("reported: %v", err)
	if !ce.OutOfMemory {
		t.Errorf("crash not recognised as out of memory: %+v", ce)
	}

	// The caller survived: the same Isolated analyses a good file.
	good := realClips(t)[0]
	iso = isolated(t, 0, nil)
	rep, err := iso.Analyze(t.Context(), good, nil)
	if err != nil {
		t.Fatalf("after a crash, a good file failed: %v", err)
	}
	if rep.Video.Frames == 0 {
		t.Fatal("empty report after a crash")
	}
}

// Failures the worker reports come back as the same sentinel errors.
func TestIsolatedErrorsKeepTheirKind(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.mp4")
	os.WriteFile(text, []byte("this is a text file with a video extension\n"), 0o644)
	iso := isolated(t, 0, &video.Limits{MaxFileBytes: 10})
	for name, tc := range map[string]struct {
		path string
		want error
	}{
		"over the size limit": {text, video.ErrTooLarge},
		"missing":             {filepath.Join(dir, "nope.mp4"), os.ErrNotExist},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := iso.Analyze(t.Context(), tc.path, nil)
			var reported *isolate.Error
			if !errors.As(err, &reported) || reported.Kind != isolate.KindScan || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v (%T), want a scan's isolate.Error wrapping %v", err, err, tc.want)
			}
		})
	}
	iso = isolated(t, 0, nil)
	_, err := iso.Analyze(t.Context(), text, nil)
	if !errors.Is(err, video.ErrNotVideo) {
		t.Fatalf("text file: err = %v, want ErrNotVideo", err)
	}
}

func TestAnalyzeCancel(t *testing.T) {
	a := newAnalyzer(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := a.Analyze(ctx, realClips(t)[0], nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
