// Package videofix builds video fixtures for tests from real clips: copies
// re-encoded, resized, trimmed, or with a face region replaced or blurred,
// written with gocv the way an editing tool would.
package videofix

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media/video"
)

// d13.mp4 is H.264 720x1280, 30 fps, 11.7 s: one man talking to the camera.
// FaceD13 is the inner face (brows to chin) in its frames over 1.5–4.5 s,
// checked on extracted frames; the head moves by some 20 px around it.
var FaceD13 = image.Rect(190, 400, 530, 830)

// Options says how transcode changes a clip. Zero values keep the
// source's property.
type Options struct {
	FPS         float64       // output frame rate (frames are resampled by time)
	Scale       float64       // output size factor
	From, To    time.Duration // keep source frames with From <= t < To (To 0: to the end)
	JPEGQuality int           // pass every frame through JPEG at this quality
	// FourCC is the codec of the output, "avc1" (H.264, the default) or
	// "mp4v" (MPEG-4 part 2: encodes several times faster).
	FourCC string
	// Edit changes a source frame (full size, BGR) in place before scaling.
	Edit func(t time.Duration, img *gocv.Mat)
}

// Transcode decodes src with media/video and writes dst (H.264 in MP4)
// through gocv's VideoWriter, the way a re-encoding, trimming or editing
// tool would. It returns the number of frames written.
func Transcode(tb testing.TB, src, dst string, o Options) int {
	tb.Helper()
	d, err := video.Open(src, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	cfg := d.Config()
	fps := cfg.FPS
	if o.FPS > 0 {
		fps = o.FPS
	}
	scale := 1.0
	if o.Scale > 0 {
		scale = o.Scale
	}
	w, h := int(float64(cfg.Width)*scale)&^1, int(float64(cfg.Height)*scale)&^1
	fourcc := o.FourCC
	if fourcc == "" {
		fourcc = "avc1"
	}
	vw, err := gocv.VideoWriterFile(dst, fourcc, fps, w, h, true)
	if err != nil {
		tb.Fatal(err)
	}
	if !vw.IsOpened() {
		vw.Close()
		tb.Fatalf("VideoWriter for %s did not open", dst)
	}
	defer vw.Close()
	srcStep := time.Duration(float64(time.Second) / cfg.FPS)
	outStep := float64(time.Second) / fps
	work, out := gocv.NewMat(), gocv.NewMat()
	defer work.Close()
	defer out.Close()
	n := 0
	for d.Next() {
		f := d.Frame()
		if f.Time < o.From || o.To > 0 && f.Time >= o.To {
			continue
		}
		t := f.Time - o.From
		// Sample and hold: write this frame for every output time it is
		// the nearest source frame to.
		if time.Duration(float64(n)*outStep) > t+srcStep/2 {
			continue
		}
		f.Image.CopyTo(&work)
		if o.Edit != nil {
			o.Edit(f.Time, &work)
		}
		gocv.Resize(work, &out, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
		if o.JPEGQuality > 0 {
			buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, out, []int{gocv.IMWriteJpegQuality, o.JPEGQuality})
			if err != nil {
				tb.Fatal(err)
			}
			dec, err := gocv.IMDecode(buf.GetBytes(), gocv.IMReadColor)
			buf.Close()
			if err != nil || dec.Empty() {
				tb.Fatalf("JPEG round trip: %v", err)
			}
			dec.CopyTo(&out)
			dec.Close()
		}
		for time.Duration(float64(n)*outStep) <= t+srcStep/2 {
			if err := vw.Write(out); err != nil {
				tb.Fatal(err)
			}
			n++
		}
	}
	if err := d.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// DonorFace returns a function that pastes the face of the donor clip's
// frame at the same time into rect: a crude face swap with another person.
// The donor frames are read up front.
func DonorFace(tb testing.TB, donor string, donorRect, rect image.Rectangle, from, to time.Duration) func(time.Duration, *gocv.Mat) {
	tb.Helper()
	d, err := video.Open(donor, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	var times []time.Duration
	var faces []gocv.Mat
	for d.Next() {
		f := d.Frame()
		if f.Time < from || f.Time >= to {
			continue
		}
		crop := f.Image.Region(donorRect)
		face := gocv.NewMat()
		gocv.Resize(crop, &face, rect.Size(), 0, 0, gocv.InterpolationLinear)
		crop.Close()
		times = append(times, f.Time)
		faces = append(faces, face)
	}
	tb.Cleanup(func() {
		for _, m := range faces {
			m.Close()
		}
	})
	if len(faces) == 0 {
		tb.Fatalf("no donor frames in %v–%v", from, to)
	}
	return func(t time.Duration, img *gocv.Mat) {
		if t < from || t >= to {
			return
		}
		i := 0
		for i+1 < len(times) && times[i+1] <= t {
			i++
		}
		dst := img.Region(rect)
		faces[i].CopyTo(&dst)
		dst.Close()
	}
}

// BlurFace returns an edit that blurs rect strongly between from and to.
func BlurFace(rect image.Rectangle, from, to time.Duration) func(time.Duration, *gocv.Mat) {
	return func(t time.Duration, img *gocv.Mat) {
		if t < from || t >= to {
			return
		}
		roi := img.Region(rect)
		gocv.GaussianBlur(roi, &roi, image.Pt(0, 0), 12, 12, gocv.BorderReflect)
		roi.Close()
	}
}
