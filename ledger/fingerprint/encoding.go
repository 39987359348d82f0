package fingerprint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ErrFormat is returned by Decode, UnmarshalJSON and Encode for bytes or a
// Fingerprint that do not follow the format: every error from them wraps it.
var ErrFormat = errors.New("fingerprint: invalid format")

// magic opens the binary encoding.
const magic = "TFFP"

// Sizes of the binary encoding: the header, and a frame without its cells.
const (
	headerSize = 4 + 1 + 1 + 2 + 8 + 8 + 4 + 4 + 4
	frameFixed = 8 + 8
)

// MaxDuration bounds the duration a fingerprint may state (a week), so that
// every field converts to time.Duration without overflow.
const MaxDuration = 7 * 24 * time.Hour

// maxPixels bounds Width*Height in a decoded fingerprint (64 megapixels).
const maxPixels = 1 << 26

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// validate checks the invariants that make the encoding canonical: the
// encoding of a valid fingerprint decodes to an equal one and back to the
// same bytes.
func (fp *Fingerprint) validate() error {
	switch {
	case fp.Version != Version:
		return formatErr("version %d, want %d", fp.Version, Version)
	case fp.Grid < 1 || fp.Grid > MaxGrid:
		return formatErr("grid %d", fp.Grid)
	case math.IsNaN(fp.SampleRate) || fp.SampleRate <= 0 || fp.SampleRate > MaxSampleRate:
		return formatErr("sample rate %v", fp.SampleRate)
	case fp.Duration < 0 || fp.Duration > MaxDuration || fp.Duration%time.Millisecond != 0:
		return formatErr("duration %v (whole milliseconds up to %v)", fp.Duration, MaxDuration)
	case fp.Width < 1 || fp.Height < 1 || fp.Width > maxPixels || fp.Height > maxPixels || fp.Width*fp.Height > maxPixels:
		return formatErr("frame size %dx%d", fp.Width, fp.Height)
	case len(fp.Frames) == 0:
		return formatErr("no frames")
	}
	// Compute takes one sample per interval up to the last frame, which is
	// before Duration: one more is slack for rounding.
	if limit := fp.Duration.Seconds()*fp.SampleRate + 2; float64(len(fp.Frames)) > limit {
		return formatErr("%d frames for %v at %v per second", len(fp.Frames), fp.Duration, fp.SampleRate)
	}
	cells := fp.Grid * fp.Grid
	prev := time.Duration(0)
	for i, f := range fp.Frames {
		if f.T < prev || f.T > fp.Duration || f.T%time.Millisecond != 0 {
			return formatErr("frame %d: time %v after %v, duration %v (whole milliseconds, not decreasing)", i, f.T, prev, fp.Duration)
		}
		if len(f.Cells) != cells {
			return formatErr("frame %d: %d cells, want %d", i, len(f.Cells), cells)
		}
		prev = f.T
	}
	return nil
}

// Encode returns the canonical binary encoding of fp, big-endian:
//
//	"TFFP" | version u8 | grid u8 | 0 u16 | sample rate float64 bits |
//	duration ms u64 | width u32 | height u32 | frame count u32 |
//	frames: time ms u64 | global u64 | grid*grid cell hashes u64
//
// It returns an error wrapping ErrFormat for an invalid fingerprint (wrong
// cell count, times not in whole milliseconds or decreasing, ...). Every
// field has one encoding and Decode rejects anything else, so equal
// fingerprints have equal encodings and Digest is well defined.
func (fp *Fingerprint) Encode() ([]byte, error) {
	if err := fp.validate(); err != nil {
		return nil, err
	}
	cells := fp.Grid * fp.Grid
	b := make([]byte, 0, headerSize+len(fp.Frames)*(frameFixed+8*cells))
	b = append(b, magic...)
	b = append(b, byte(fp.Version), byte(fp.Grid), 0, 0)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(fp.SampleRate))
	b = binary.BigEndian.AppendUint64(b, uint64(fp.Duration/time.Millisecond))
	b = binary.BigEndian.AppendUint32(b, uint32(fp.Width))
	b = binary.BigEndian.AppendUint32(b, uint32(fp.Height))
	b = binary.BigEndian.AppendUint32(b, uint32(len(fp.Frames)))
	for _, f := range fp.Frames {
		b = binary.BigEndian.AppendUint64(b, uint64(f.T/time.Millisecond))
		b = binary.BigEndian.AppendUint64(b, f.Global)
		for _, c := range f.Cells {
			b = binary.BigEndian.AppendUint64(b, c)
		}
	}
	return b, nil
}

// Decode parses the binary encoding of Encode. It accepts exactly the
// encodings of valid fingerprints; anything else, including trailing bytes,
// gives an error wrapping ErrFormat. It allocates no more than the input's
// length warrants.
func Decode(b []byte) (*Fingerprint, error) {
	if len(b) < headerSize {
		return nil, formatErr("%d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[:4]) != magic {
		return nil, formatErr("magic %q", b[:4])
	}
	fp := &Fingerprint{Version: int(b[4]), Grid: int(b[5])}
	if fp.Version != Version {
		return nil, formatErr("version %d, want %d", fp.Version, Version)
	}
	if fp.Grid < 1 || fp.Grid > MaxGrid || b[6] != 0 || b[7] != 0 {
		return nil, formatErr("grid %d, reserved %#x %#x", fp.Grid, b[6], b[7])
	}
	fp.SampleRate = math.Float64frombits(binary.BigEndian.Uint64(b[8:]))
	ms := binary.BigEndian.Uint64(b[16:])
	if ms > uint64(MaxDuration/time.Millisecond) {
		return nil, formatErr("duration %d ms", ms)
	}
	fp.Duration = time.Duration(ms) * time.Millisecond
	fp.Width = int(binary.BigEndian.Uint32(b[24:]))
	fp.Height = int(binary.BigEndian.Uint32(b[28:]))
	n := int(binary.BigEndian.Uint32(b[32:]))
	cells := fp.Grid * fp.Grid
	size := frameFixed + 8*cells
	rest := b[headerSize:]
	if len(rest)%size != 0 || len(rest)/size != n {
		return nil, formatErr("%d bytes of frames for %d frames of %d bytes", len(rest), n, size)
	}
	fp.Frames = make([]Frame, n)
	all := make([]uint64, n*cells)
	for i := range fp.Frames {
		f := rest[i*size : (i+1)*size]
		t := binary.BigEndian.Uint64(f)
		if t > ms {
			return nil, formatErr("frame %d: time %d ms after the duration %d ms", i, t, ms)
		}
		c := all[i*cells : (i+1)*cells : (i+1)*cells]
		for j := range c {
			c[j] = binary.BigEndian.Uint64(f[frameFixed+8*j:])
		}
		fp.Frames[i] = Frame{T: time.Duration(t) * time.Millisecond, Global: binary.BigEndian.Uint64(f[8:]), Cells: c}
	}
	if err := fp.validate(); err != nil {
		return nil, err
	}
	return fp, nil
}

// Digest returns the SHA-256 of the canonical encoding: the commitment to
// the fingerprint that goes on chain while the fingerprint itself stays off
// chain. It fails as Encode does.
func (fp *Fingerprint) Digest() ([32]byte, error) {
	b, err := fp.Encode()
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// MarshalBinary implements encoding.BinaryMarshaler with Encode.
func (fp *Fingerprint) MarshalBinary() ([]byte, error) { return fp.Encode() }

// UnmarshalBinary implements encoding.BinaryUnmarshaler with Decode.
func (fp *Fingerprint) UnmarshalBinary(b []byte) error {
	d, err := Decode(b)
	if err != nil {
		return err
	}
	*fp = *d
	return nil
}

// Hash is a 64-bit hash that reads and writes as 16 lower-case hex digits in
// JSON (a JSON number cannot hold 64 bits exactly in most readers).
type Hash uint64

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%016x", uint64(h)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it takes exactly 16
// hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 16 {
		return formatErr("hash %q: want 16 hex digits", b)
	}
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return formatErr("hash %q: %v", b, err)
	}
	*h = Hash(v)
	return nil
}

// jsonFingerprint is the JSON form: times in milliseconds, hashes in hex.
type jsonFingerprint struct {
	Version    int         `json:"version"`
	SampleRate float64     `json:"sample_rate"`
	Grid       int         `json:"grid"`
	DurationMS int64       `json:"duration_ms"`
	Width      int         `json:"width"`
	Height     int         `json:"height"`
	Frames     []jsonFrame `json:"frames"`
}

type jsonFrame struct {
	TMS    int64  `json:"t_ms"`
	Global Hash   `json:"global"`
	Cells  []Hash `json:"cells"`
}

// MarshalJSON writes the fingerprint for people and other programs; the
// binary encoding is the canonical one that Digest hashes.
func (fp *Fingerprint) MarshalJSON() ([]byte, error) {
	if err := fp.validate(); err != nil {
		return nil, err
	}
	j := jsonFingerprint{
		Version: fp.Version, SampleRate: fp.SampleRate, Grid: fp.Grid,
		DurationMS: fp.Duration.Milliseconds(), Width: fp.Width, Height: fp.Height,
		Frames: make([]jsonFrame, len(fp.Frames)),
	}
	for i, f := range fp.Frames {
		jf := jsonFrame{TMS: f.T.Milliseconds(), Global: Hash(f.Global), Cells: make([]Hash, len(f.Cells))}
		for k, c := range f.Cells {
			jf.Cells[k] = Hash(c)
		}
		j.Frames[i] = jf
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the form MarshalJSON writes and validates it as
// Decode does.
func (fp *Fingerprint) UnmarshalJSON(b []byte) error {
	var j jsonFingerprint
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	maxMS := MaxDuration.Milliseconds()
	if j.DurationMS < 0 || j.DurationMS > maxMS {
		return formatErr("duration %d ms", j.DurationMS)
	}
	out := Fingerprint{
		Version: j.Version, SampleRate: j.SampleRate, Grid: j.Grid,
		Duration: time.Duration(j.DurationMS) * time.Millisecond, Width: j.Width, Height: j.Height,
		Frames: make([]Frame, len(j.Frames)),
	}
	for i, jf := range j.Frames {
		if jf.TMS < 0 || jf.TMS > maxMS {
			return formatErr("frame %d: time %d ms", i, jf.TMS)
		}
		f := Frame{T: time.Duration(jf.TMS) * time.Millisecond, Global: uint64(jf.Global), Cells: make([]uint64, len(jf.Cells))}
		for k, c := range jf.Cells {
			f.Cells[k] = uint64(c)
		}
		out.Frames[i] = f
	}
	if err := out.validate(); err != nil {
		return err
	}
	*fp = out
	return nil
}
