package video

import (
	"bytes"
	"encoding/binary"
)

// sniffLen is how many leading bytes sniff looks at.
const sniffLen = 512

// Container names reported in Config.Container.
const (
	containerMP4      = "mp4"
	containerMOV      = "mov"
	containerMatroska = "matroska"
	containerWebM     = "webm"
	containerAVI      = "avi"
	containerMPEGPS   = "mpeg-ps"
	containerMPEGES   = "mpeg-video"
	containerH26x     = "h26x-annexb"
	containerMPEGTS   = "mpeg-ts"
	containerFLV      = "flv"
	containerOgg      = "ogg"
	containerASF      = "asf"
	containerY4M      = "y4m"
	containerIVF      = "ivf"
	containerMXF      = "mxf"
)

// imageBrands are ISO-BMFF major brands of still-image formats (HEIF, AVIF).
var imageBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true,
	"mif1": true, "msf1": true, "avif": true, "avio": true,
}

// sniff names the container whose signature starts b, or returns "" when b
// is not a video container this package recognises. Like
// net/http.DetectContentType it trusts only the leading bytes; whether the
// container actually holds a decodable video stream is decided later.
func sniff(b []byte) string {
	if len(b) > sniffLen {
		b = b[:sniffLen]
	}
	switch {
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		brand := string(b[8:12])
		if imageBrands[brand] {
			return ""
		}
		if brand == "qt  " {
			return containerMOV
		}
		return containerMP4
	case len(b) >= 8 && isQuickTimeAtom(string(b[4:8])):
		// Old QuickTime files start with moov/mdat/free/wide without ftyp.
		return containerMOV
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		// The EBML header carries the DocType near the start.
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return containerWebM
		}
		return containerMatroska
	case len(b) >= 12 && string(b[:4]) == "RIFF":
		if string(b[8:12]) == "AVI " {
			return containerAVI
		}
		return "" // WAVE, WEBP, ...
	case bytes.HasPrefix(b, []byte{0, 0, 1, 0xBA}):
		return containerMPEGPS
	case bytes.HasPrefix(b, []byte{0, 0, 1, 0xB3}):
		return containerMPEGES
	case isAnnexB(b):
		return containerH26x
	case isTS(b, 0, 188) || isTS(b, 4, 192):
		return containerMPEGTS
	case bytes.HasPrefix(b, []byte("FLV\x01")):
		return containerFLV
	case bytes.HasPrefix(b, []byte("OggS")):
		return containerOgg
	case bytes.HasPrefix(b, []byte{0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11}):
		return containerASF
	case bytes.HasPrefix(b, []byte("YUV4MPEG2 ")):
		return containerY4M
	case bytes.HasPrefix(b, []byte("DKIF")):
		return containerIVF
	case bytes.HasPrefix(b, []byte{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01}):
		return containerMXF
	}
	return ""
}

func isQuickTimeAtom(t string) bool {
	switch t {
	case "moov", "mdat", "wide", "free", "skip":
		return true
	}
	return false
}

// isAnnexB reports a raw H.264/H.265 byte stream: a 4-byte start code
// followed by a parameter-set or access-unit-delimiter NAL unit.
func isAnnexB(b []byte) bool {
	if len(b) < 6 || binary.BigEndian.Uint32(b) != 1 {
		return false
	}
	h264 := b[4] & 0x9F // forbidden bit and nal_unit_type; ref_idc ignored
	switch h264 {
	case 0x07, 0x08, 0x09: // SPS, PPS, AUD
		return true
	}
	switch (b[4] >> 1) & 0x3F { // H.265 nal_unit_type
	case 32, 33, 34, 35: // VPS, SPS, PPS, AUD
		return b[4]&0x80 == 0 && b[5] != 0
	}
	return false
}

// isTS reports MPEG transport stream packets of size n starting at off: the
// sync byte 0x47 must repeat at every packet within b (at least twice).
func isTS(b []byte, off, n int) bool {
	seen := 0
	for i := off; i < len(b); i += n {
		if b[i] != 0x47 {
			return false
		}
		seen++
	}
	return seen >= 2
}

// Container names the video container whose signature starts b (mp4, mov,
// matroska, webm, avi, mpeg-ts, ...), or returns "" when the bytes are not a
// video container this package recognises. It looks at most at the first 512
// bytes, so an upload can be refused before it is stored; whether the file
// really holds a decodable stream is decided when it is opened.
func Container(b []byte) string { return sniff(b) }
