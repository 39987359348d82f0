package videofix

import (
	"testing"

	"gocv.io/x/gocv"
)

// Synthetic describes a clip WriteSynthetic draws. Zero fields take the
// defaults shown.
type Synthetic struct {
	FourCC        string  // "mp4v" (MJPG for a near-lossless clip)
	FPS           float64 // 25
	Width, Height int     // 96×96
	Frames        int     // 25
	// Background fills the picture once, before the first frame (BGR;
	// default black).
	Background gocv.Scalar
	// Draw, when set, changes the picture before frame i is written; what
	// it draws stays for the frames after, unless it repaints.
	Draw func(i int, img *gocv.Mat)
}

// WriteSynthetic writes a clip drawn by s to path, failing the test when
// the writer cannot open or write.
func WriteSynthetic(tb testing.TB, path string, s Synthetic) {
	tb.Helper()
	if s.FourCC == "" {
		s.FourCC = "mp4v"
	}
	if s.FPS <= 0 {
		s.FPS = 25
	}
	if s.Width <= 0 || s.Height <= 0 {
		s.Width, s.Height = 96, 96
	}
	if s.Frames <= 0 {
		s.Frames = 25
	}
	vw, err := gocv.VideoWriterFile(path, s.FourCC, s.FPS, s.Width, s.Height, true)
	if err != nil {
		tb.Fatal(err)
	}
	defer vw.Close()
	if !vw.IsOpened() {
		tb.Fatalf("the %s writer for %s did not open", s.FourCC, path)
	}
	img := gocv.NewMatWithSizeFromScalar(s.Background, s.Height, s.Width, gocv.MatTypeCV8UC3)
	defer img.Close()
	for i := range s.Frames {
		if s.Draw != nil {
			s.Draw(i, &img)
		}
		if err := vw.Write(img); err != nil {
			tb.Fatal(err)
		}
	}
}
