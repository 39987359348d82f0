package fingerprint

import (
	"context"
	"testing"

	"github.com/trueframe/trueframe/media/track"
	"github.com/trueframe/trueframe/media/video"
)

// BenchmarkFingerprint720p fingerprints a 720x1280 H.264 clip (d13.mp4,
// 11.7 s at 30 fps) and reports seconds of video per second of compute.
func BenchmarkFingerprint720p(b *testing.B) {
	p := portrait(b, "d13.mp4")
	ctx := context.Background()
	var dur float64
	for b.Loop() {
		fp, err := Compute(ctx, p, nil)
		if err != nil {
			b.Fatal(err)
		}
		dur += fp.Duration.Seconds()
	}
	b.ReportMetric(dur/b.Elapsed().Seconds(), "x_realtime")
	b.ReportMetric(60*b.Elapsed().Seconds()/dur, "s/video_minute")
}

// BenchmarkDecodeOnly720p is the floor under BenchmarkFingerprint720p:
// decoding the same clip converting only one frame in 1000.
func BenchmarkDecodeOnly720p(b *testing.B) {
	p := portrait(b, "d13.mp4")
	var dur float64
	for b.Loop() {
		d, err := video.Open(p, &video.Options{Limits: video.DefaultLimits(), Stride: 1000})
		if err != nil {
			b.Fatal(err)
		}
		for d.Next() {
		}
		if err := d.Err(); err != nil {
			b.Fatal(err)
		}
		dur += float64(d.Decoded()) / d.Config().FPS
		d.Close()
	}
	b.ReportMetric(dur/b.Elapsed().Seconds(), "x_realtime")
}

// BenchmarkFingerprintFaces720p is BenchmarkFingerprint720p with faces
// (version 2, the registrations' default).
func BenchmarkFingerprintFaces720p(b *testing.B) {
	p := portrait(b, "d13.mp4")
	m := measureModels(b)
	ctx := context.Background()
	var dur float64
	for b.Loop() {
		fp, err := Compute(ctx, p, &Options{Faces: m})
		if err != nil {
			b.Fatal(err)
		}
		dur += fp.Duration.Seconds()
	}
	b.ReportMetric(dur/b.Elapsed().Seconds(), "x_realtime")
	b.ReportMetric(60*b.Elapsed().Seconds()/dur, "s/video_minute")
}

// BenchmarkFaceDescription times, per face, the version 2 description
// (aligned crop and descriptor) and what version 3 adds (detailOf), on
// the first face of the 720x1280 clip.
func BenchmarkFaceDescription(b *testing.B) {
	p := portrait(b, "d13.mp4")
	m := measureModels(b)
	d, err := video.Open(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if !d.Next() {
		b.Fatal(d.Err())
	}
	img := d.Frame().Image
	tr := track.New(m.Finder, m.Fitter, nil)
	obs, err := tr.Update(img)
	if err != nil || len(obs) == 0 {
		b.Fatalf("no face: %v", err)
	}
	lms := obs[0].Face
	b.Run("v2", func(b *testing.B) {
		for b.Loop() {
			a, err := alignFace(img, lms)
			if err != nil {
				b.Fatal(err)
			}
			descriptorOf(a)
		}
	})
	b.Run("v3 detail", func(b *testing.B) {
		for b.Loop() {
			if _, err := detailOf(img, lms); err != nil {
				b.Fatal(err)
			}
		}
	})
}
