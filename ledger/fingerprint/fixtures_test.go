package fingerprint

import (
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
	"github.com/trueframe/trueframe/internal/videofix"
	"github.com/trueframe/trueframe/media/video"
)

// realClip returns the path of a real clip in the shared data (folder
// portrait, grid or multiface); the test skips when the data is absent.
func realClip(tb testing.TB, folder, name string) string {
	tb.Helper()
	return filepath.Join(testutil.SharedDir(tb, "data", "videos", "real", folder), name)
}

func portrait(tb testing.TB, name string) string {
	tb.Helper()
	return realClip(tb, "portrait", name)
}

// saveFrame writes the frame of path nearest t as a PNG, to look at a
// fixture when a test fails.
func saveFrame(tb testing.TB, path string, t time.Duration, png string) {
	tb.Helper()
	d, err := video.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	for d.Next() {
		if f := d.Frame(); f.Time >= t {
			img := f.Image.Clone()
			defer img.Close()
			gocv.Rectangle(&img, videofix.FaceD13, color.RGBA{255, 0, 0, 0}, 2)
			gocv.IMWrite(png, img)
			return
		}
	}
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}
