package video

import (
	"bytes"
	"encoding/binary"
	"io"
)

// aviHeaderBytes bounds how much of an AVI file readAVI looks at; the
// hdrl list with the stream headers sits at the start.
const aviHeaderBytes = 256 << 10

// aviInfo is what readAVI learns from an AVI file's header.
type aviInfo struct {
	Cut     bool     // the first RIFF chunk runs past the end of the file
	Streams []string // stream types from the strh chunks: "vids", "auds", ...
	Codec   string   // fourcc of the first video stream
}

// readAVI scans the start of an AVI file for its RIFF size and stream
// headers. It is a scan, not a parse: good enough to name why OpenCV
// refused a file, never used to decide what to decode.
func readAVI(r io.ReaderAt, size int64) aviInfo {
	var info aviInfo
	b := make([]byte, min(size, aviHeaderBytes))
	n, _ := r.ReadAt(b, 0)
	b = b[:n]
	if len(b) < 12 {
		info.Cut = true
		return info
	}
	if 8+int64(binary.LittleEndian.Uint32(b[4:8])) > size {
		info.Cut = true
	}
	for off := 12; off < len(b); {
		i := bytes.Index(b[off:], []byte("strh"))
		if i < 0 {
			break
		}
		i += off
		off = i + 4
		// "strh", chunk size, fccType, fccHandler
		if i+16 > len(b) {
			break
		}
		typ := string(b[i+8 : i+12])
		info.Streams = append(info.Streams, typ)
		if typ != "vids" || info.Codec != "" {
			continue
		}
		info.Codec = string(b[i+12 : i+16])
		// BITMAPINFOHEADER.biCompression in the following strf is the more
		// reliable fourcc; fccHandler is often blank.
		if j := bytes.Index(b[i:], []byte("strf")); j >= 0 && i+j+8+20 <= len(b) {
			at := i + j + 8 + 16
			if c := b[at : at+4]; !bytes.Equal(c, []byte{0, 0, 0, 0}) {
				info.Codec = string(c)
			}
		}
	}
	return info
}

// hasVideo reports whether a video stream header was seen.
func (a aviInfo) hasVideo() bool {
	for _, s := range a.Streams {
		if s == "vids" {
			return true
		}
	}
	return false
}
