package fakes

import (
	"context"
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/detectors"
	"github.com/trueframe/trueframe/media"
)

// FrameGap is the time between the frames RunTrack feeds.
const FrameGap = 200 * time.Millisecond

// FrameFunc returns frame i of a synthetic clip and its landmarks; the
// caller closes the Mat.
type FrameFunc func(tb testing.TB, i int) (gocv.Mat, []media.Point)

// RunTrack feeds n frames, FrameGap apart, to a new track of d and returns
// its Result.
func RunTrack(tb testing.TB, d detectors.Detector, track, n int, frame FrameFunc) detectors.Result {
	tb.Helper()
	ctx := context.Background()
	td := d.NewTrack(track)
	for i := 0; i < n; i++ {
		img, lms := frame(tb, i)
		err := td.Observe(ctx, &detectors.FaceFrame{
			Track: track, Frame: 5 * i, Time: time.Duration(i) * FrameGap, Image: img, Landmarks: lms,
			Box: media.BoundingRect(lms), RightEyeOpenness: math.NaN(), LeftEyeOpenness: math.NaN(),
		})
		img.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}
	res, err := td.Result(ctx, detectors.TrackInfo{Track: track, FPS: 25, Frames: n})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// Face returns a synthetic face and its landmarks, closed at cleanup.
func Face(tb testing.TB, opts *FaceOptions) (gocv.Mat, []media.Point) {
	tb.Helper()
	img, lms, err := SyntheticFace(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { img.Close() })
	return img, lms
}

// Noisy returns frames that are img with fresh sensor noise each time.
func Noisy(img gocv.Mat, lms []media.Point) FrameFunc {
	return func(tb testing.TB, i int) (gocv.Mat, []media.Point) {
		tb.Helper()
		out, err := AddNoise(img, 2, int64(i+1))
		if err != nil {
			tb.Fatal(err)
		}
		return out, lms
	}
}
