package face

import (
	"fmt"
	"image"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/testutil"
)

// frame720p is sample3.jpg cropped to 16:9 and scaled to 1280x720: three
// faces of about 150 px, like a close group in a video frame.
func frame720p(b *testing.B) gocv.Mat {
	src := readImage(b, filepath.Join(testutil.SharedDir(b, "data", "images", "faces"), "sample3.jpg"))
	h := src.Cols() * 9 / 16
	crop := src.Region(image.Rect(0, (src.Rows()-h)/2, src.Cols(), (src.Rows()-h)/2+h))
	defer crop.Close()
	frame := gocv.NewMat()
	b.Cleanup(func() { frame.Close() })
	gocv.Resize(crop, &frame, image.Pt(1280, 720), 0, 0, gocv.InterpolationArea)
	return frame
}

func benchDetect(b *testing.B, img gocv.Mat, opts Options, wantFaces int) {
	d := newTestDetector(b, opts)
	dets, err := d.Detect(img) // warm up, and check the bench measures real work
	if err != nil {
		b.Fatal(err)
	}
	if len(dets) < wantFaces {
		b.Fatalf("%d faces, want %d", len(dets), wantFaces)
	}
	tl := d.(*tiled)
	runs := len(planTiles(img.Cols(), img.Rows(), tl.net.inputSize(), tl.net.minFace(), tl.net.maxFace(), float64(tl.opts.MinFaceSize), tl.opts.MaxTiles))
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Detect(img); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
	b.ReportMetric(float64(runs), "runs/image")
}

// BenchmarkDetect720p measures one 1280x720 frame. With the default
// MinFaceSize of 40 px the frame takes a whole-image run, a zoomed-out run
// and a level of tiles; MinFaceSize 100 leaves only the whole-image runs.
func BenchmarkDetect720p(b *testing.B) {
	frame := frame720p(b)
	for _, model := range []string{BlazeFace, UltraFace} {
		for _, minFace := range []int{40, 100} {
			b.Run(fmt.Sprintf("%s/minface=%d", model, minFace), func(b *testing.B) {
				benchDetect(b, frame, Options{Model: model, MinFaceSize: minFace}, 3)
			})
		}
	}
}

// BenchmarkDetectLargePhoto measures the tiled path: a 1920x1398 group
// photo, and the 2400x1600 collage of 60-90 px faces.
func BenchmarkDetectLargePhoto(b *testing.B) {
	imgDir := testutil.SharedDir(b, "data", "images")
	photo := readImage(b, filepath.Join(imgDir, "faces", "sample5.jpg"))
	collage, _ := smallFacesImage(b, imgDir, loadFacesTruth(b))
	for _, model := range []string{BlazeFace, UltraFace} {
		b.Run(model+"/photo", func(b *testing.B) { benchDetect(b, photo, Options{Model: model}, 5) })
		b.Run(model+"/collage", func(b *testing.B) { benchDetect(b, collage, Options{Model: model}, 9) })
	}
}
