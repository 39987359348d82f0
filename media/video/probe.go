package video

import "time"

// Summary is the result of Probe: what the container says and what decoding
// found.
type Summary struct {
	Config
	Frames    int           // frames decoded, counted
	Duration  time.Duration // counted: time of the last frame plus one frame interval
	Truncated bool          // see Decoder.Truncated
}

// Probe decodes the whole file at path and counts its frames. Options are as
// for Open; Stride is ignored. On an error during decoding Probe returns the
// summary of the frames decoded so far with the error.
func Probe(path string, opts *Options) (Summary, error) {
	o := Options{Limits: DefaultLimits()}
	if opts != nil {
		o.Limits = opts.Limits
	}
	d, err := Open(path, &o)
	if err != nil {
		return Summary{}, err
	}
	defer d.Close()
	for d.Next() {
	}
	s := Summary{Config: d.Config(), Frames: d.Decoded(), Truncated: d.Truncated()}
	if s.Frames > 0 {
		s.Duration = d.last + d.step
	}
	return s, d.Err()
}
