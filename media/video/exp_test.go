package video

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

func TestExp(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, fourcc string }{{"a.mp4", "mp4v"}, {"b.avi", "MJPG"}, {"c.mp4", "avc1"}, {"d.avi", "XVID"}, {"e.mkv", "MJPG"}, {"f.mov", "mp4v"}} {
		p := filepath.Join(dir, c.name)
		w, err := gocv.VideoWriterFile(p, c.fourcc, 25, 160, 120, true)
		if err != nil {
			t.Log(err)
			continue
		}
		fmt.Println(c, "opened", w.IsOpened())
		m := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8UC3)
		for i := 0; i < 30; i++ {
			m.SetTo(gocv.NewScalar(0, 0, 0, 0))
			gocv.Circle(&m, image.Pt(10+i*4, 60), 10, color.RGBA{255, 0, 0, 0}, -1)
			w.Write(m)
		}
		w.Close()
		m.Close()
		st, _ := os.Stat(p)
		if st == nil {
			continue
		}
		b, _ := os.ReadFile(p)
		fmt.Printf("size %d head %q\n", st.Size(), b[:16])
		vc, err := gocv.VideoCaptureFileWithAPI(p, gocv.VideoCaptureFFmpeg)
		if err != nil {
			fmt.Println("open err", err)
			vc.Close()
			continue
		}
		fmt.Println(vc.Get(gocv.VideoCaptureFrameWidth), vc.Get(gocv.VideoCaptureFrameHeight), vc.Get(gocv.VideoCaptureFPS), vc.Get(gocv.VideoCaptureFrameCount), vc.CodecString(), vc.Get(gocv.VideoCapturePosMsec))
		f := gocv.NewMat()
		n := 0
		for vc.Read(&f) {
			if n < 3 || n > 27 {
				fmt.Println(" frame", n, vc.Get(gocv.VideoCapturePosMsec), vc.Get(gocv.VideoCapturePosFrames), f.Type(), f.Cols())
			}
			n++
		}
		fmt.Println(" count", n)
		f.Close()
		vc.Close()
	}
}
