package fingerprint

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/trueframe/trueframe/media/video"
)

// Version is the fingerprint format and algorithm version written by
// Compute and Encode. A change to the hashing that changes any bit for
// any input must change it.
const Version = 1

// Defaults for Options; see Options.
const (
	DefaultSampleRate = 4.0
	DefaultGrid       = 4
	// MaxSampleRate and MaxGrid bound Options and what Decode accepts.
	MaxSampleRate = 30.0
	MaxGrid       = 8
)

// Options configures Compute. A nil *Options or a zero field means the
// default.
type Options struct {
	// SampleRate is the number of frames hashed per second of video, in
	// (0, MaxSampleRate]; 0 means DefaultSampleRate. Sampling is by
	// timestamp, so copies at different frame rates line up, and two
	// fingerprints can only be compared when their rates are equal.
	SampleRate float64
	// Grid is the number of cells per side of the grid of local hashes, in
	// [1, MaxGrid]; 0 means DefaultGrid.
	Grid int
	// Video is passed to video.Open (its Stride is ignored); nil means
	// video.DefaultLimits, the right choice for untrusted files.
	Video *video.Options
}

func (o *Options) resolve() (Options, error) {
	r := Options{SampleRate: DefaultSampleRate, Grid: DefaultGrid}
	if o != nil {
		if o.SampleRate != 0 {
			r.SampleRate = o.SampleRate
		}
		if o.Grid != 0 {
			r.Grid = o.Grid
		}
		r.Video = o.Video
	}
	if math.IsNaN(r.SampleRate) || r.SampleRate <= 0 || r.SampleRate > MaxSampleRate {
		return r, fmt.Errorf("fingerprint: invalid sample rate %v (want (0, %v])", r.SampleRate, MaxSampleRate)
	}
	if r.Grid < 1 || r.Grid > MaxGrid {
		return r, fmt.Errorf("fingerprint: invalid grid %d (want [1, %d])", r.Grid, MaxGrid)
	}
	return r, nil
}

// Fingerprint is the perceptual fingerprint of one video: a global hash and
// a grid of cell hashes for every sample. Frames[k] is the sample at nominal
// time k/SampleRate. Its canonical encoding is Encode; its on-chain
// commitment is Digest.
type Fingerprint struct {
	Version    int
	SampleRate float64       // samples per second
	Grid       int           // cells per side
	Duration   time.Duration // counted duration of the video, whole milliseconds
	Width      int           // frame size of the video
	Height     int
	Frames     []Frame
}

// Frame is the hash of one sampled frame.
type Frame struct {
	// T is the presentation time of the decoded frame nearest the nominal
	// sample time, in whole milliseconds. When the video has fewer frames
	// per second than SampleRate, consecutive samples share a frame.
	T time.Duration
	// Global is the 64-bit DCT hash of the whole frame.
	Global uint64
	// Cells are the 64-bit DCT hashes of the Grid x Grid cells of the
	// frame, row by row from the top left.
	Cells []uint64
}

// Interval returns the nominal time between samples.
func (fp *Fingerprint) Interval() time.Duration {
	return time.Duration(math.Round(float64(time.Second) / fp.SampleRate))
}

// sampleTime is the nominal time of sample k.
func sampleTime(k int, rate float64) time.Duration {
	return time.Duration(math.Round(float64(k) * float64(time.Second) / rate))
}

// Compute decodes the video at path and returns its fingerprint. Only the
// sampled frames are converted to images: the decoder grabs the frames
// between them. Errors about the file are the *video.DecodeError of
// video.Open and Decoder.Next, wrapped; ctx is checked between samples.
// A file that stops short (video.Decoder.Truncated) is fingerprinted from
// the frames it has.
func Compute(ctx context.Context, path string, opts *Options) (*Fingerprint, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	vo := video.Options{Limits: video.DefaultLimits()}
	if o.Video != nil {
		vo = *o.Video
	}
	vo.Stride = 1
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := video.Open(path, &vo)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	defer d.Close()
	cfg := d.Config()
	step := time.Duration(float64(time.Second) / cfg.FPS)
	fp := &Fingerprint{
		Version:    Version,
		SampleRate: o.SampleRate,
		Grid:       o.Grid,
		Width:      cfg.Width,
		Height:     cfg.Height,
	}
	h := newHasher(o.Grid)
	k := 0 // next sample
	for d.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := d.Frame()
		next := sampleTime(k, o.SampleRate)
		// f serves every sample whose nominal time is nearer to it than to
		// the next frame.
		if f.Time+step/2 >= next {
			global, cells, err := h.hashMat(f.Image)
			if err != nil {
				return nil, fmt.Errorf("fingerprint: %s frame %d: %w", path, f.Index, err)
			}
			t := f.Time.Truncate(time.Millisecond)
			for first := true; sampleTime(k, o.SampleRate) <= f.Time+step/2; k++ {
				if !first {
					cells = slices.Clone(cells)
				}
				fp.Frames = append(fp.Frames, Frame{T: t, Global: global, Cells: cells})
				first = false
			}
			next = sampleTime(k, o.SampleRate)
		}
		// Predict the frame nearest the next sample time from this frame's
		// time, so a variable frame rate only costs a frame decoded early.
		// The decoder yields frame indices that are multiples of the
		// stride, so a stride of j > f.Index yields frame j next.
		ahead := max(1, int(math.Round(float64(next-f.Time)/float64(step))))
		d.SetStride(f.Index + ahead)
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	fp.Duration = (d.LastTime() + step).Truncate(time.Millisecond)
	return fp, nil
}
