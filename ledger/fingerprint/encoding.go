package fingerprint

import (
	"bytes"
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

// Sizes of the binary encoding: the header, a frame without its cells, and
// (version 2) a face without its thumbnail.
const (
	headerSize = 4 + 1 + 1 + 2 + 8 + 8 + 4 + 4 + 4
	frameFixed = 8 + 8
	faceSize   = 2 + 4*2 + 1 + NumRegions + NumRegions*RegionCoefs + 2 + 2 + 1
)

// faceSizeOf is the size of a face without its thumbnail in a fingerprint
// of version v.
func faceSizeOf(v int) int {
	if v >= Version3 {
		return faceSize + detailSize
	}
	return faceSize
}

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
	case fp.Version < Version1 || fp.Version > Version3:
		return formatErr("version %d, want %d to %d", fp.Version, Version1, Version3)
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
		if err := validateFaces(fp.Version, f.Faces); err != nil {
			return formatErr("frame %d: %v", i, err)
		}
		prev = f.T
	}
	return nil
}

// validateFaces checks the faces of one sample: none in version 1; in
// versions 2 and 3 at most maxFaces, in increasing track order, each
// canonical, with a Detail in version 3 and none in version 2.
func validateFaces(version int, faces []Face) error {
	if version == Version1 && len(faces) > 0 {
		return fmt.Errorf("%d faces in a version 1 fingerprint", len(faces))
	}
	if len(faces) > maxFaces {
		return fmt.Errorf("%d faces, at most %d", len(faces), maxFaces)
	}
	prev := 0
	for i, fc := range faces {
		switch {
		case fc.Track <= prev || fc.Track > math.MaxUint16:
			return fmt.Errorf("face %d: track %d after %d (increasing, 1 to %d)", i, fc.Track, prev, math.MaxUint16)
		case int(fc.Box.X)+int(fc.Box.W) > math.MaxUint16 || int(fc.Box.Y)+int(fc.Box.H) > math.MaxUint16:
			return fmt.Errorf("face %d: box %+v outside the frame", i, fc.Box)
		case fc.Inside >= 1<<NumRegions:
			return fmt.Errorf("face %d: inside %#x", i, fc.Inside)
		case fc.Thumb != nil && len(fc.Thumb) != ThumbSide*ThumbSide:
			return fmt.Errorf("face %d: thumbnail of %d bytes, want %d", i, len(fc.Thumb), ThumbSide*ThumbSide)
		case (fc.Detail != nil) != (version >= Version3):
			return fmt.Errorf("face %d: detail %v in a version %d fingerprint", i, fc.Detail != nil, version)
		}
		for r := range NumRegions {
			for _, c := range fc.Desc.Coefs[r] {
				// -128 has no opposite: coefficients are in ±127. A flat
				// region (energy 0) has no pattern.
				if c == math.MinInt8 || fc.Desc.Energy[r] == 0 && c != 0 {
					return fmt.Errorf("face %d region %d: coefficient %d at energy %d", i, r, c, fc.Desc.Energy[r])
				}
			}
		}
		prev = fc.Track
	}
	return nil
}

// Encode returns the canonical binary encoding of fp, big-endian:
//
//	"TFFP" | version u8 | grid u8 | 0 u16 | sample rate float64 bits |
//	duration ms u64 | width u32 | height u32 | frame count u32 |
//	frames: time ms u64 | global u64 | grid*grid cell hashes u64
//	        [versions 2 and 3: face count u8 | faces]
//	face:   track u16 | box x, y, w, h u16 | inside u8 |
//	        energy u8 per region | coefficients i8, region by region |
//	        Cr u8 | Cb u8 | mouth u8 | eyes u8 |
//	        [version 3: Detail.Lips bytes | Detail.Band bytes, row by row] |
//	        thumbnail flag u8 (0 or 1) |
//	        [flag 1: ThumbSide*ThumbSide grey bytes, row by row]
//
// It returns an error wrapping ErrFormat for an invalid fingerprint (wrong
// cell count, times not in whole milliseconds or decreasing, faces out of
// order, ...). Every field has one encoding and Decode rejects anything
// else, so equal fingerprints have equal encodings and Digest is well
// defined.
func (fp *Fingerprint) Encode() ([]byte, error) {
	if err := fp.validate(); err != nil {
		return nil, err
	}
	cells := fp.Grid * fp.Grid
	size := headerSize + len(fp.Frames)*(frameFixed+8*cells)
	if fp.Version >= Version2 {
		for _, f := range fp.Frames {
			size++
			for _, fc := range f.Faces {
				size += faceSizeOf(fp.Version) + len(fc.Thumb)
			}
		}
	}
	b := make([]byte, 0, size)
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
		if fp.Version >= Version2 {
			b = append(b, byte(len(f.Faces)))
			for _, fc := range f.Faces {
				b = appendFace(b, fc)
			}
		}
	}
	return b, nil
}

func appendFace(b []byte, fc Face) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(fc.Track))
	for _, v := range []uint16{fc.Box.X, fc.Box.Y, fc.Box.W, fc.Box.H} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = append(b, fc.Inside)
	b = append(b, fc.Desc.Energy[:]...)
	for r := range NumRegions {
		for _, c := range fc.Desc.Coefs[r] {
			b = append(b, byte(c))
		}
	}
	b = append(b, fc.Desc.Cr, fc.Desc.Cb, fc.Desc.Mouth, fc.Desc.Eyes)
	if fc.Detail != nil {
		b = append(append(b, fc.Detail.Lips[:]...), fc.Detail.Band[:]...)
	}
	if fc.Thumb == nil {
		return append(b, 0)
	}
	return append(append(b, 1), fc.Thumb...)
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
	if fp.Version < Version1 || fp.Version > Version3 {
		return nil, formatErr("version %d, want %d to %d", fp.Version, Version1, Version3)
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
	if fp.Version >= Version2 {
		size++ // the face count
	}
	rest := b[headerSize:]
	if n > len(rest)/size || fp.Version == Version1 && len(rest) != n*size {
		return nil, formatErr("%d bytes of frames for %d frames of %d bytes or more", len(rest), n, size)
	}
	fp.Frames = make([]Frame, n)
	all := make([]uint64, n*cells)
	for i := range fp.Frames {
		if len(rest) < frameFixed+8*cells {
			return nil, formatErr("frame %d cut short", i)
		}
		t := binary.BigEndian.Uint64(rest)
		if t > ms {
			return nil, formatErr("frame %d: time %d ms after the duration %d ms", i, t, ms)
		}
		c := all[i*cells : (i+1)*cells : (i+1)*cells]
		for j := range c {
			c[j] = binary.BigEndian.Uint64(rest[frameFixed+8*j:])
		}
		fp.Frames[i] = Frame{T: time.Duration(t) * time.Millisecond, Global: binary.BigEndian.Uint64(rest[8:]), Cells: c}
		rest = rest[frameFixed+8*cells:]
		if fp.Version >= Version2 {
			var err error
			if fp.Frames[i].Faces, rest, err = decodeFaces(rest, fp.Version); err != nil {
				return nil, formatErr("frame %d: %v", i, err)
			}
		}
	}
	if len(rest) != 0 {
		return nil, formatErr("%d bytes after the last frame", len(rest))
	}
	if err := fp.validate(); err != nil {
		return nil, err
	}
	return fp, nil
}

// decodeFaces reads the face count and faces of one frame of a
// fingerprint of version and returns the bytes after them.
func decodeFaces(b []byte, version int) ([]Face, []byte, error) {
	size := faceSizeOf(version)
	if len(b) < 1 {
		return nil, nil, errors.New("face count missing")
	}
	n := int(b[0])
	b = b[1:]
	if n > maxFaces {
		return nil, nil, fmt.Errorf("%d faces, at most %d", n, maxFaces)
	}
	if n == 0 {
		return nil, b, nil
	}
	faces := make([]Face, n)
	for i := range faces {
		if len(b) < size {
			return nil, nil, fmt.Errorf("face %d cut short", i)
		}
		fc := &faces[i]
		fc.Track = int(binary.BigEndian.Uint16(b))
		fc.Box = Box{X: binary.BigEndian.Uint16(b[2:]), Y: binary.BigEndian.Uint16(b[4:]), W: binary.BigEndian.Uint16(b[6:]), H: binary.BigEndian.Uint16(b[8:])}
		fc.Inside = b[10]
		p := 11
		copy(fc.Desc.Energy[:], b[p:p+NumRegions])
		p += NumRegions
		for r := range NumRegions {
			for j := range RegionCoefs {
				fc.Desc.Coefs[r][j] = int8(b[p])
				p++
			}
		}
		fc.Desc.Cr, fc.Desc.Cb, fc.Desc.Mouth, fc.Desc.Eyes = b[p], b[p+1], b[p+2], b[p+3]
		p += 4
		if version >= Version3 {
			fc.Detail = &Detail{}
			p += copy(fc.Detail.Lips[:], b[p:])
			p += copy(fc.Detail.Band[:], b[p:])
		}
		flag := b[p]
		b = b[size:]
		switch flag {
		case 0:
		case 1:
			if len(b) < ThumbSide*ThumbSide {
				return nil, nil, fmt.Errorf("face %d: thumbnail cut short", i)
			}
			fc.Thumb = bytes.Clone(b[:ThumbSide*ThumbSide])
			b = b[ThumbSide*ThumbSide:]
		default:
			return nil, nil, fmt.Errorf("face %d: thumbnail flag %d", i, flag)
		}
	}
	return faces, b, nil
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
	TMS    int64      `json:"t_ms"`
	Global Hash       `json:"global"`
	Cells  []Hash     `json:"cells"`
	Faces  []jsonFace `json:"faces,omitempty"`
}

// jsonFace is a Face in JSON: the box as [x, y, w, h] in 1/65535 of the
// frame, the thumbnail in base64.
type jsonFace struct {
	Track  int                           `json:"track"`
	Box    [4]uint16                     `json:"box"`
	Inside uint8                         `json:"inside"`
	Energy [NumRegions]uint8             `json:"energy"`
	Coefs  [NumRegions][RegionCoefs]int8 `json:"coefs"`
	Cr     uint8                         `json:"cr"`
	Cb     uint8                         `json:"cb"`
	Mouth  uint8                         `json:"mouth"`
	Eyes   uint8                         `json:"eyes"`
	// Lips and Band are the Detail grids (version 3), in base64.
	Lips  []byte `json:"lips,omitempty"`
	Band  []byte `json:"band,omitempty"`
	Thumb []byte `json:"thumb,omitempty"`
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
		for _, fc := range f.Faces {
			jfc := jsonFace{Track: fc.Track, Box: [4]uint16{fc.Box.X, fc.Box.Y, fc.Box.W, fc.Box.H},
				Inside: fc.Inside, Energy: fc.Desc.Energy, Coefs: fc.Desc.Coefs, Cr: fc.Desc.Cr, Cb: fc.Desc.Cb,
				Mouth: fc.Desc.Mouth, Eyes: fc.Desc.Eyes, Thumb: fc.Thumb}
			if fc.Detail != nil {
				jfc.Lips, jfc.Band = fc.Detail.Lips[:], fc.Detail.Band[:]
			}
			jf.Faces = append(jf.Faces, jfc)
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
		for k, j := range jf.Faces {
			fc := Face{Track: j.Track, Box: Box{X: j.Box[0], Y: j.Box[1], W: j.Box[2], H: j.Box[3]},
				Inside: j.Inside, Desc: Descriptor{Energy: j.Energy, Coefs: j.Coefs, Cr: j.Cr, Cb: j.Cb, Mouth: j.Mouth, Eyes: j.Eyes}, Thumb: j.Thumb}
			switch {
			case len(j.Lips) == len(Detail{}.Lips) && len(j.Band) == len(Detail{}.Band):
				fc.Detail = &Detail{}
				copy(fc.Detail.Lips[:], j.Lips)
				copy(fc.Detail.Band[:], j.Band)
			case j.Lips != nil || j.Band != nil:
				return formatErr("frame %d face %d: detail of %d and %d bytes", i, k, len(j.Lips), len(j.Band))
			}
			f.Faces = append(f.Faces, fc)
		}
		out.Frames[i] = f
	}
	if err := out.validate(); err != nil {
		return err
	}
	*fp = out
	return nil
}
