package video

import (
	"errors"
	"strconv"
)

// Sentinel errors, always delivered wrapped in a *DecodeError. Callers branch
// on them with errors.Is.
var (
	// ErrNotVideo is returned for a file whose first bytes are not those of a
	// known video container: an image, text, random bytes, an audio-only
	// format such as WAV, and the empty file (there is nothing to identify).
	ErrNotVideo = errors.New("video: not a video file")

	// ErrNoVideoStream is returned for a container that holds no video track,
	// for example an audio-only MP4 (.m4a).
	ErrNoVideoStream = errors.New("video: no video stream")

	// ErrUnsupportedCodec is returned when a video track exists but OpenCV's
	// FFmpeg backend cannot decode it. For containers other than MP4, MOV and
	// AVI the backend does not say why it refused a file, so this error also
	// covers a refusal that could not be attributed more precisely; its
	// message says so.
	ErrUnsupportedCodec = errors.New("video: unsupported video codec")

	// ErrTruncated is returned for a damaged or cut file that cannot be
	// decoded at all: an MP4 whose moov box is missing, or a file that opens
	// but yields no frame. A file that yields some frames and then stops
	// short is not an error: Decoder.Truncated and Summary.Truncated report
	// it and the decoded frames are delivered.
	ErrTruncated = errors.New("video: truncated or corrupt file")

	// ErrTooLarge is returned when a file exceeds a Limits value: its size
	// (checked before opening), its frame size or duration as the headers
	// state them (checked after opening) or its duration as counted while
	// decoding.
	ErrTooLarge = errors.New("video: file too large")

	// ErrBadFrameRate is returned for a frame rate no real video has: more
	// than 1000 frames per second, or not a number, as the container
	// states it (checked when opening) or as the frames' timestamps show it
	// (checked while decoding). Such a file would make a few seconds of
	// video cost hundreds of thousands of frames of work.
	ErrBadFrameRate = errors.New("video: absurd frame rate")
)

// DecodeError records a failure to decode a video file. Err wraps one of the
// sentinel errors of this package.
type DecodeError struct {
	Path  string
	Frame int // index of the frame being decoded, or -1 when not at a frame
	Err   error
}

func (e *DecodeError) Error() string {
	s := "decode " + e.Path
	if e.Frame >= 0 {
		s += " (frame " + strconv.Itoa(e.Frame) + ")"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }
