package video

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// The ISO base media file format (MP4, MOV, 3GP) is a tree of boxes: a
// 32-bit big-endian size, a four-character type, then the body. Size 1 means
// a 64-bit size follows the type; size 0 means "to the end of the parent".
// OpenCV's FFmpeg backend only says "could not open", so this walker reads
// just enough of the tree to tell a cut file from an audio-only file from an
// undecodable codec. Every file it reads is untrusted: it never panics, never
// reads more than maxMoovBytes into memory and visits at most maxBoxes boxes.

const (
	maxTopBoxes  = 1 << 12  // top-level boxes walked before giving up
	maxBoxes     = 1 << 16  // boxes visited inside moov
	maxMoovBytes = 64 << 20 // a moov box larger than this is not read
)

var errTooManyBoxes = errors.New("too many boxes")

// bmffTrack is what the walker learns about one trak box.
type bmffTrack struct {
	Handler       string // hdlr handler type: "vide", "soun", "text", ...
	Codec         string // type of the first stsd sample entry, e.g. "avc1"
	Width, Height int    // from a visual sample entry
	Samples       int64  // stsz/stz2 sample count (0 in fragmented files)
	Timescale     uint32 // mdhd
	Duration      uint64 // mdhd, in Timescale units
}

// bmffInfo is what the walker learns about a file.
type bmffInfo struct {
	Brand     string // ftyp major brand
	Moov      bool   // a complete moov box was found
	Cut       bool   // a top-level box runs past the end of the file
	Timescale uint32 // mvhd
	Duration  uint64 // mvhd, in Timescale units
	Tracks    []bmffTrack
}

// video returns the first video track, or nil.
func (in *bmffInfo) video() *bmffTrack {
	for i := range in.Tracks {
		if in.Tracks[i].Handler == "vide" {
			return &in.Tracks[i]
		}
	}
	return nil
}

// duration returns the duration of the first video track, else of the movie,
// or 0 when the headers do not give one.
func (in *bmffInfo) duration() time.Duration {
	if v := in.video(); v != nil && v.Timescale > 0 && v.Duration > 0 {
		return scaledDuration(v.Duration, v.Timescale)
	}
	return scaledDuration(in.Duration, in.Timescale)
}

func scaledDuration(d uint64, scale uint32) time.Duration {
	if scale == 0 || d == 0 || d == math.MaxUint64 || d == math.MaxUint32 {
		return 0 // unknown (all ones) or absent
	}
	s := float64(d) / float64(scale)
	if s >= float64(math.MaxInt64)/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

// readBMFF walks the top-level boxes of an ISO-BMFF file of the given size
// and parses the moov box. The info gathered so far is returned with any
// error.
func readBMFF(r io.ReaderAt, size int64) (bmffInfo, error) {
	var info bmffInfo
	var hdr [16]byte
	pos := int64(0)
	for n := 0; pos < size; n++ {
		if n >= maxTopBoxes {
			return info, errTooManyBoxes
		}
		got, err := r.ReadAt(hdr[:], pos)
		if got < 8 {
			if err == nil || err == io.EOF {
				info.Cut = true // a partial box header at the end
				return info, nil
			}
			return info, err
		}
		boxSize := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		hlen := int64(8)
		switch boxSize {
		case 0:
			boxSize = size - pos
		case 1:
			if got < 16 {
				info.Cut = true
				return info, nil
			}
			large := binary.BigEndian.Uint64(hdr[8:16])
			if large > math.MaxInt64 {
				return info, fmt.Errorf("box %q at %d: size %d too large", typ, pos, large)
			}
			boxSize, hlen = int64(large), 16
		}
		if boxSize < hlen {
			return info, fmt.Errorf("box %q at %d: size %d smaller than its header", typ, pos, boxSize)
		}
		if boxSize > size-pos {
			info.Cut = true
		}
		switch typ {
		case "ftyp":
			if boxSize >= hlen+4 {
				var b [4]byte
				if _, err := r.ReadAt(b[:], pos+hlen); err == nil {
					info.Brand = string(b[:])
				}
			}
		case "moov":
			if info.Cut {
				return info, nil // the index itself was cut off
			}
			if boxSize-hlen > maxMoovBytes {
				return info, fmt.Errorf("moov box of %d bytes exceeds %d", boxSize-hlen, maxMoovBytes)
			}
			body := make([]byte, boxSize-hlen)
			if _, err := r.ReadAt(body, pos+hlen); err != nil {
				return info, fmt.Errorf("reading moov: %w", err)
			}
			if err := parseMoov(&info, body); err != nil {
				return info, fmt.Errorf("moov: %w", err)
			}
			info.Moov = true
		}
		if info.Cut {
			return info, nil
		}
		pos += boxSize
	}
	return info, nil
}

// boxWalker iterates over boxes in memory, counting them against maxBoxes.
type boxWalker struct{ visited int }

// each calls fn for every box in b, in order.
func (w *boxWalker) each(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		if w.visited++; w.visited > maxBoxes {
			return errTooManyBoxes
		}
		if len(b) < 8 {
			return fmt.Errorf("%d stray bytes after last box", len(b))
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hlen := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return fmt.Errorf("box %q: short 64-bit size", typ)
			}
			size, hlen = binary.BigEndian.Uint64(b[8:16]), 16
		}
		if size < hlen || size > uint64(len(b)) {
			return fmt.Errorf("box %q: size %d outside its parent (%d bytes)", typ, size, len(b))
		}
		if err := fn(typ, b[hlen:size]); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// parseMoov fills info from the body of a moov box. The nesting it follows
// is fixed (moov/trak/mdia/minf/stbl), so recursion depth is bounded.
func parseMoov(info *bmffInfo, moov []byte) error {
	var w boxWalker
	return w.each(moov, func(typ string, body []byte) error {
		switch typ {
		case "mvhd":
			info.Timescale, info.Duration = parseTimes(body)
		case "trak":
			var t bmffTrack
			if err := w.parseTrak(&t, body); err != nil {
				return fmt.Errorf("trak %d: %w", len(info.Tracks), err)
			}
			info.Tracks = append(info.Tracks, t)
		}
		return nil
	})
}

func (w *boxWalker) parseTrak(t *bmffTrack, trak []byte) error {
	return w.each(trak, func(typ string, body []byte) error {
		if typ != "mdia" {
			return nil
		}
		return w.each(body, func(typ string, body []byte) error {
			switch typ {
			case "mdhd":
				t.Timescale, t.Duration = parseTimes(body)
			case "hdlr":
				// version/flags, pre_defined, handler_type
				if len(body) >= 12 {
					t.Handler = string(body[8:12])
				}
			case "minf":
				return w.each(body, func(typ string, body []byte) error {
					if typ != "stbl" {
						return nil
					}
					return w.each(body, func(typ string, body []byte) error {
						switch typ {
						case "stsd":
							parseStsd(t, body)
						case "stsz", "stz2":
							// version/flags, sample size (or field size), sample count
							if len(body) >= 12 {
								t.Samples = int64(binary.BigEndian.Uint32(body[8:12]))
							}
						}
						return nil
					})
				})
			}
			return nil
		})
	})
}

// parseTimes reads timescale and duration from an mvhd or mdhd body.
func parseTimes(b []byte) (scale uint32, dur uint64) {
	if len(b) < 4 {
		return 0, 0
	}
	if b[0] == 1 { // 64-bit creation/modification times and duration
		if len(b) < 32 {
			return 0, 0
		}
		return binary.BigEndian.Uint32(b[20:24]), binary.BigEndian.Uint64(b[24:32])
	}
	if len(b) < 20 {
		return 0, 0
	}
	return binary.BigEndian.Uint32(b[12:16]), uint64(binary.BigEndian.Uint32(b[16:20]))
}

// parseStsd reads the first sample entry of an stsd body: its type names
// the codec; a visual entry also holds the coded width and height.
func parseStsd(t *bmffTrack, b []byte) {
	// version/flags, entry_count, then the entries as boxes.
	if len(b) < 16 || binary.BigEndian.Uint32(b[4:8]) == 0 {
		return
	}
	entry := b[8:]
	size := uint64(binary.BigEndian.Uint32(entry))
	t.Codec = string(entry[4:8])
	if size < 8 || size > uint64(len(entry)) {
		return
	}
	body := entry[8:size]
	// A visual entry: reserved(6), data_reference_index(2),
	// pre_defined/reserved(16), width, height. Meaningless for other
	// handlers, which callers do not ask.
	if len(body) >= 28 {
		t.Width = int(binary.BigEndian.Uint16(body[24:26]))
		t.Height = int(binary.BigEndian.Uint16(body[26:28]))
	}
}
