package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/isolate"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/ledger/fingerprint"
	"github.com/trueframe/trueframe/media/video"
)

// The test binary doubles as a fingerprinting worker: with
// TRUEFRAME_LEDGER_TEST_WORKER set it serves isolate.KindFingerprint
// requests (version 1: no face models) instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv("TRUEFRAME_LEDGER_TEST_WORKER") == "1" {
		h := &FingerprintHandler{Open: func() (*fingerprint.FaceModels, error) { return nil, nil }}
		err := isolate.Serve(context.Background(), os.Stdin, isolate.Mux{isolate.KindFingerprint: h.Handle}, testCodes)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testCodes stands for the service's code table (scan.ErrorCodes, which
// the ledger does not import).
var testCodes = isolate.Codes{{Code: "not_video", Err: video.ErrNotVideo}, {Code: "not_found", Err: os.ErrNotExist}}

// A fingerprint computed in a worker is the one computed here, for a
// registration and for a check; a refusal comes back as a fingerprint's
// failure that unwraps to the sentinel, not as a scan's.
func TestIsolatedFingerprinter(t *testing.T) {
	iso := Isolated{Run: func(ctx context.Context, kind isolate.Kind, req any, progress func(float64)) (json.RawMessage, error) {
		opts := isolate.Options{Executable: os.Args[0], Env: []string{"TRUEFRAME_LEDGER_TEST_WORKER=1"}, Codes: testCodes}
		return isolate.Run(ctx, opts, kind, req, progress)
	}}
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.avi")
	videofix.WriteSynthetic(t, clip, videofix.Synthetic{Frames: 50, Draw: func(i int, img *gocv.Mat) {
		gocv.Rectangle(img, image.Rect(i, 20, i+30, 60), color.RGBA{R: 200, G: 120, B: 40}, -1)
	}})
	g := fingerprint.Geometry{X: 0.1, Y: 0.1, W: 0.8, H: 0.8}
	same := func(what string, got, want *fingerprint.Fingerprint, gotErr, wantErr error) {
		t.Helper()
		if gotErr != nil || wantErr != nil {
			t.Fatalf("%s: %v / %v", what, gotErr, wantErr)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if !bytes.Equal(a, b) || len(want.Frames) == 0 {
			t.Errorf("%s: the worker's fingerprint differs:\n%s\n%s", what, a, b)
		}
	}
	got, gotErr := iso.Fingerprint(t.Context(), clip)
	want, wantErr := InProcess{}.Fingerprint(t.Context(), clip)
	same("registration", got, want, gotErr, wantErr)
	got, gotErr = iso.FingerprintToCheck(t.Context(), clip, g)
	want, wantErr = InProcess{}.FingerprintToCheck(t.Context(), clip, g)
	same("check", got, want, gotErr, wantErr)

	text := filepath.Join(dir, "notes.mp4")
	os.WriteFile(text, []byte("this is a text file with a video extension\n"), 0o644)
	for name, tc := range map[string]struct {
		path string
		code string
		want error
	}{
		"not a video": {text, "not_video", video.ErrNotVideo},
		"missing":     {filepath.Join(dir, "nope.mp4"), "not_found", os.ErrNotExist},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := iso.FingerprintToCheck(t.Context(), tc.path, g)
			var reported *isolate.Error
			if !errors.As(err, &reported) || reported.Kind != isolate.KindFingerprint || reported.Code != tc.code || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v (%#v), want a fingerprint's %s wrapping %v", err, err, tc.code, tc.want)
			}
		})
	}
}
