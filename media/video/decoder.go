package video

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// Limits bounds the resources one file may take. A zero field means no limit.
type Limits struct {
	MaxFileBytes int64         // file size, checked before opening
	MaxPixels    int           // width*height of a frame
	MaxDuration  time.Duration // header duration and counted duration
	// MaxFrames caps the frames decoded, whether yielded or skipped by the
	// stride: a file's frame count, not its duration, is what decoding
	// costs.
	MaxFrames int
}

// DefaultLimits returns the limits used when Open is given nil Options:
// 2 GiB, 3840x2160 pixels (4K UHD), 30 minutes and 216,000 frames (30
// minutes at 120 fps).
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes: 2 << 30,
		MaxPixels:    3840 * 2160,
		MaxDuration:  30 * time.Minute,
		MaxFrames:    30 * 60 * 120,
	}
}

// Options configures Open and Probe. A nil *Options means DefaultLimits and
// Stride 1. In a non-nil Options every zero field of Limits means no limit:
// start from DefaultLimits when decoding untrusted files.
type Options struct {
	Limits Limits
	// Stride makes the decoder yield every Stride-th frame (indices 0,
	// Stride, 2*Stride, ...). All frames are still decoded, so counts and
	// timestamps stay exact. 0 means 1; negative is an error.
	Stride int
}

// FallbackFPS is the frame rate assumed when the container states none.
const FallbackFPS = 25

// maxFPS is the highest frame rate accepted, stated or measured: no camera
// films faster, and a file claiming more would make a few seconds of video
// cost hundreds of thousands of frames of work (ErrBadFrameRate).
const maxFPS = 1000

// minMeasured is how many frame intervals timed by the container a
// measured frame rate needs.
const minMeasured = 16

// Config describes a video as its container states it, before decoding.
type Config struct {
	Width, Height int     // size of the decoded frames (BGR)
	FPS           float64 // frames per second; FallbackFPS when FPSGuessed
	FPSGuessed    bool    // the container states no rate
	// FrameCount is the container's frame count (0 if unknown). It is
	// unreliable: a cut file keeps its original count, and some containers
	// only estimate it. Decoder.Decoded and Summary.Frames count instead.
	FrameCount int
	Duration   time.Duration // from the container; 0 if unknown
	Codec      string        // fourcc as reported by OpenCV, e.g. "avc1"
	Container  string        // from the file signature: "mp4", "avi", "mpeg-ps", ...
}

// Frame is one decoded frame.
type Frame struct {
	Index int           // position in the stream, counting every decoded frame from 0
	Time  time.Duration // presentation time from the start of the stream
	// Image is 8-bit BGR. It belongs to the Decoder and is valid only until
	// the next call to Next or Close; Clone it to keep it.
	Image gocv.Mat
}

// maxGap is the largest step between consecutive container timestamps that
// is believed; a larger jump (a wrapped or reset clock) falls back to the
// frame interval.
const maxGap = 10 * time.Second

// Decoder yields the frames of one video file in order, decoding through
// OpenCV's FFmpeg backend. Callers must call Close. A Decoder is not safe
// for concurrent use.
//
//	d, err := video.Open(path, nil)
//	if err != nil { ... }
//	defer d.Close()
//	for d.Next() {
//		f := d.Frame()
//		...
//	}
//	if err := d.Err(); err != nil { ... }
//	if d.Truncated() { ... } // the frames seen are all there are
type Decoder struct {
	path   string
	limits Limits
	stride int
	cfg    Config
	cap    *gocv.VideoCapture
	img    gocv.Mat

	expected   int  // frames the container promises; 0 if unknown
	cut        bool // the file structure says the file was cut
	pending    bool // img holds the first frame, read by Open
	done       bool
	decoded    int
	step       time.Duration // 1/FPS
	last       time.Duration // time of the last decoded frame
	ptsInvalid int           // frames timed by the fallback rule
	// The first and last frames timed by the container, for the measured
	// rate; ptsFirstIdx is -1 until there is one.
	ptsFirstIdx, ptsLastIdx int
	ptsFirst, ptsLast       time.Duration
	cur                     Frame
	err                     error
	closed                  bool
}

// Open opens the video file at path, checks it against the limits and
// decodes its first frame. Errors about the file's content are
// *DecodeError wrapping one of this package's sentinels; a file that cannot
// be read at all gives the *fs.PathError from os.Open, and a negative Stride
// a plain error.
func Open(path string, opts *Options) (*Decoder, error) {
	usePortableCode()
	limits, stride := DefaultLimits(), 1
	if opts != nil {
		limits, stride = opts.Limits, opts.Stride
		if stride < 0 {
			return nil, fmt.Errorf("video: invalid stride %d", stride)
		}
		if stride == 0 {
			stride = 1
		}
	}
	fail := func(err error) (*Decoder, error) {
		return nil, &DecodeError{Path: path, Frame: -1, Err: err}
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		// FFmpeg would block on a FIFO or read a device forever.
		return fail(fmt.Errorf("%w: not a regular file (%v)", ErrNotVideo, st.Mode().Type()))
	}
	size := st.Size()
	if limits.MaxFileBytes > 0 && size > limits.MaxFileBytes {
		return fail(fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrTooLarge, size, limits.MaxFileBytes))
	}
	if size == 0 {
		return fail(fmt.Errorf("%w: empty file", ErrNotVideo))
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	container := sniff(head[:n])
	if container == "" {
		return fail(fmt.Errorf("%w: unrecognised signature % x", ErrNotVideo, head[:min(n, 8)]))
	}

	d := &Decoder{path: path, limits: limits, stride: stride, ptsFirstIdx: -1}
	d.cfg.Container = container

	// Look at the container structure first: FFmpeg cannot say why it
	// refused a file, and a file known to be hopeless need not reach it.
	var bmff *bmffInfo
	var bmffErr error
	var avi *aviInfo
	switch container {
	case containerMP4, containerMOV:
		info, err := readBMFF(f, size)
		bmff, bmffErr = &info, err
		if err == nil && !info.Moov {
			return fail(fmt.Errorf("%w: %s has no moov box (index missing; file cut before its end?)", ErrTruncated, container))
		}
		if err == nil && len(info.Tracks) > 0 && info.video() == nil {
			return fail(fmt.Errorf("%w: %s tracks are %s", ErrNoVideoStream, container, handlers(info.Tracks)))
		}
		d.cut = info.Cut
		if v := info.video(); v != nil {
			d.expected = int(min(v.Samples, math.MaxInt32))
		}
	case containerAVI:
		info := readAVI(f, size)
		avi = &info
		d.cut = info.Cut
	}

	vc, err := gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil {
		vc.Close()
		return fail(refusal(container, bmff, bmffErr, avi))
	}
	d.cap = vc
	d.img = gocv.NewMat()
	if err := d.readConfig(bmff); err != nil {
		d.Close()
		return fail(err)
	}

	// Decode the first frame now so that a file with nothing decodable
	// fails here, and so Config gives the true frame size.
	if !d.cap.Read(&d.img) {
		d.Close()
		// The backend found a decoder when it opened the file (it refuses
		// a stream without one), so the data is what is wrong.
		return fail(fmt.Errorf("%w: no frame could be decoded", ErrTruncated))
	}
	if err := d.checkFrame(0); err != nil {
		d.Close()
		return nil, err
	}
	d.cfg.Width, d.cfg.Height = d.img.Cols(), d.img.Rows()
	d.pending = true
	return d, nil
}

// readConfig fills d.cfg from the capture's properties and checks the
// header limits.
func (d *Decoder) readConfig(bmff *bmffInfo) error {
	get := func(p gocv.VideoCaptureProperties) float64 {
		v := d.cap.Get(p)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > math.MaxInt32 {
			return 0
		}
		return v
	}
	c := &d.cfg
	c.Width = int(get(gocv.VideoCaptureFrameWidth))
	c.Height = int(get(gocv.VideoCaptureFrameHeight))
	c.FrameCount = int(get(gocv.VideoCaptureFrameCount))
	c.Codec = strings.TrimRight(d.cap.CodecString(), "\x00")
	c.FPS = d.cap.Get(gocv.VideoCaptureFPS)
	switch {
	case math.IsNaN(c.FPS) || math.IsInf(c.FPS, 0):
		return fmt.Errorf("%w: the container states a frame rate that is not a number", ErrBadFrameRate)
	case c.FPS > maxFPS:
		return fmt.Errorf("%w: the container states %.6g frames per second, more than the %d accepted", ErrBadFrameRate, c.FPS, maxFPS)
	case c.FPS <= 0:
		c.FPS, c.FPSGuessed = FallbackFPS, true
	}
	d.step = time.Duration(float64(time.Second) / c.FPS)
	if bmff != nil {
		c.Duration = bmff.duration()
	}
	if c.Duration == 0 && c.FrameCount > 0 && !c.FPSGuessed {
		c.Duration = time.Duration(float64(c.FrameCount) / c.FPS * float64(time.Second))
	}
	if d.expected == 0 {
		d.expected = c.FrameCount
	}

	if px := c.Width * c.Height; d.limits.MaxPixels > 0 && px > d.limits.MaxPixels {
		return fmt.Errorf("%w: %dx%d frames exceed the limit of %d pixels", ErrTooLarge, c.Width, c.Height, d.limits.MaxPixels)
	}
	if d.limits.MaxDuration > 0 && c.Duration > d.limits.MaxDuration {
		return fmt.Errorf("%w: duration %v exceeds the limit of %v", ErrTooLarge, c.Duration, d.limits.MaxDuration)
	}
	return nil
}

// refusal explains why OpenCV could not open a file of the given container.
func refusal(container string, bmff *bmffInfo, bmffErr error, avi *aviInfo) error {
	switch {
	case bmffErr != nil:
		return fmt.Errorf("%w: %s structure: %v", ErrTruncated, container, bmffErr)
	case bmff != nil && bmff.video() != nil:
		return fmt.Errorf("%w: %q in %s", ErrUnsupportedCodec, bmff.video().Codec, container)
	case bmff != nil && bmff.Cut:
		return fmt.Errorf("%w: %s cut short", ErrTruncated, container)
	case avi != nil && avi.hasVideo():
		return fmt.Errorf("%w: %q in avi", ErrUnsupportedCodec, avi.Codec)
	case avi != nil && len(avi.Streams) > 0:
		return fmt.Errorf("%w: avi streams are %s", ErrNoVideoStream, strings.Join(avi.Streams, ", "))
	case avi != nil && avi.Cut:
		return fmt.Errorf("%w: avi header cut short", ErrTruncated)
	}
	return fmt.Errorf("%w: the FFmpeg backend opened no video stream in this %s file "+
		"(no video track, an unknown codec or damaged headers; not inspected further)", ErrUnsupportedCodec, container)
}

func handlers(ts []bmffTrack) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = fmt.Sprintf("%q", t.Handler)
	}
	return strings.Join(s, ", ")
}

// Config returns what the container says about the video; Width and Height
// are those of the first decoded frame.
func (d *Decoder) Config() Config { return d.cfg }

// Next decodes up to the next frame to yield and reports whether there is
// one. It returns false at the end of the stream or on error; then check Err
// and Truncated.
func (d *Decoder) Next() bool {
	if d.done || d.closed {
		return false
	}
	for {
		i := d.decoded
		// A frame that will not be yielded is only grabbed: decoded (so it is
		// counted and the stream advances) but not converted to BGR, which
		// is a large part of decoding's cost. gocv's Grab reports nothing;
		// the FFmpeg backend's frame position advances only on success.
		skip := !d.pending && i%d.stride != 0
		switch {
		case d.pending:
		case skip:
			before := d.cap.Get(gocv.VideoCapturePosFrames)
			d.cap.Grab(1)
			if d.cap.Get(gocv.VideoCapturePosFrames) <= before {
				d.done = true
				return false
			}
		case !d.cap.Read(&d.img):
			d.done = true
			return false
		}
		d.pending = false
		if d.limits.MaxFrames > 0 && i >= d.limits.MaxFrames {
			d.err = &DecodeError{Path: d.path, Frame: i,
				Err: fmt.Errorf("%w: more than %d frames", ErrTooLarge, d.limits.MaxFrames)}
			d.done = true
			return false
		}
		d.decoded++
		if !skip {
			if err := d.checkFrame(i); err != nil {
				d.err, d.done = err, true
				return false
			}
		}
		t := d.timestamp(i)
		if fps, ok := d.MeasuredFPS(); ok && fps > maxFPS {
			d.err = &DecodeError{Path: d.path, Frame: i, Err: fmt.Errorf("%w: the frames' timestamps show %.0f frames per second, more than the %d accepted",
				ErrBadFrameRate, fps, maxFPS)}
			d.done = true
			return false
		}
		if d.limits.MaxDuration > 0 && t >= d.limits.MaxDuration {
			d.err = &DecodeError{Path: d.path, Frame: i,
				Err: fmt.Errorf("%w: frame at %v is past the duration limit of %v", ErrTooLarge, t, d.limits.MaxDuration)}
			d.done = true
			return false
		}
		d.last = t
		if !skip {
			d.cur = Frame{Index: i, Time: t, Image: d.img}
			return true
		}
	}
}

// MeasuredFPS returns the frame rate the container's timestamps show over
// the frames decoded so far (skipped ones included), and whether enough
// frames were timed by the container to tell. It is cumulative from the
// first such frame, so a burst of frames within an ordinary video does not
// sway it, and a file that packs most of its frames into a burst cannot
// hide them behind a slow tail.
func (d *Decoder) MeasuredFPS() (float64, bool) {
	if d.ptsFirstIdx < 0 || d.ptsLastIdx-d.ptsFirstIdx < minMeasured || d.ptsLast <= d.ptsFirst {
		return 0, false
	}
	return float64(d.ptsLastIdx-d.ptsFirstIdx) / (d.ptsLast - d.ptsFirst).Seconds(), true
}

// LastTime returns the timestamp of the last frame decoded, yielded or not.
func (d *Decoder) LastTime() time.Duration { return d.last }

// SetStride makes Next yield only every n-th frame (n >= 1) from now on;
// the frames between are decoded and counted but not converted to images.
// Callers use it after reading the frame rate from Config.
func (d *Decoder) SetStride(n int) {
	d.stride = max(1, n)
}

// checkFrame validates the Mat just decoded as frame i: later OpenCV calls
// on a bad Mat would abort the process.
func (d *Decoder) checkFrame(i int) error {
	if err := media.CheckBGR(d.img); err != nil {
		return &DecodeError{Path: d.path, Frame: i, Err: fmt.Errorf("%w: %v", ErrTruncated, err)}
	}
	if px := d.img.Cols() * d.img.Rows(); d.limits.MaxPixels > 0 && px > d.limits.MaxPixels {
		return &DecodeError{Path: d.path, Frame: i, Err: fmt.Errorf("%w: %dx%d frame exceeds the limit of %d pixels",
			ErrTooLarge, d.img.Cols(), d.img.Rows(), d.limits.MaxPixels)}
	}
	return nil
}

// timestamp returns the time of frame i, just decoded: the container's
// presentation time when it is sane and later than the previous frame's,
// else the previous time plus one frame interval. The result is strictly
// increasing.
func (d *Decoder) timestamp(i int) time.Duration {
	ms := d.cap.Get(gocv.VideoCapturePosMsec)
	if !math.IsNaN(ms) && ms >= 0 && ms < float64(math.MaxInt64/time.Millisecond) {
		t := time.Duration(ms * float64(time.Millisecond))
		if i == 0 && t <= maxGap || i > 0 && t > d.last && t-d.last <= maxGap {
			if d.ptsFirstIdx < 0 {
				d.ptsFirstIdx, d.ptsFirst = i, t
			}
			d.ptsLastIdx, d.ptsLast = i, t
			return t
		}
	}
	d.ptsInvalid++
	if i == 0 {
		return 0
	}
	return d.last + d.step
}

// Frame returns the current frame. It is valid after Next returned true and
// until the next call to Next or Close.
func (d *Decoder) Frame() Frame { return d.cur }

// Err returns the error that stopped decoding, or nil at a clean end of
// stream (including a truncated one; see Truncated).
func (d *Decoder) Err() error { return d.err }

// Decoded returns the number of frames decoded so far, including those
// Stride skipped. After Next has returned false it is the counted length of
// the stream.
func (d *Decoder) Decoded() int { return d.decoded }

// Truncated reports whether the file ends before its container says it
// should: a top-level box or RIFF chunk runs past the end of the file, or,
// once Next has returned false, clearly fewer frames decoded than the
// container declares (more than 10% and 2 frames short). The frames decoded
// are valid; analysis may go on with them.
func (d *Decoder) Truncated() bool {
	if d.cut {
		return true
	}
	if !d.done || d.err != nil || d.expected == 0 {
		return false
	}
	slack := max(2, d.expected/10)
	return d.decoded < d.expected-slack
}

// Close frees the OpenCV capture and the frame buffer. It is safe to call
// more than once.
func (d *Decoder) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	if d.cap != nil {
		d.cap.Close()
	}
	if d.img.Ptr() != nil {
		d.img.Close()
	}
	d.cur = Frame{}
	return nil
}
