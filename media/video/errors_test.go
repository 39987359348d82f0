package video

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// encodeImage returns a small gradient image encoded by enc.
func encodeImage(tb testing.TB, enc func(*bytes.Buffer, image.Image) error) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := enc(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// patchStsd overwrites the type of the first sample entry of every stsd in
// an MP4, which is the codec FFmpeg looks up.
func patchStsd(tb testing.TB, src []byte, fourcc string) []byte {
	tb.Helper()
	n := 0
	out := patchBoxes(tb, src, func(typ string, body []byte) {
		if typ == "stsd" && len(body) >= 16 {
			copy(body[12:16], fourcc)
			n++
		}
	})
	if n == 0 {
		tb.Fatal("no stsd box")
	}
	return out
}

// patchAVICodec overwrites the video fourcc of an AVI in its strh handler and
// strf compression fields.
func patchAVICodec(tb testing.TB, src []byte, fourcc string) []byte {
	tb.Helper()
	out := bytes.Clone(src)
	i := bytes.Index(out, []byte("strh"))
	if i < 0 || string(out[i+8:i+12]) != "vids" {
		tb.Fatal("no video strh")
	}
	copy(out[i+12:i+16], fourcc)
	j := bytes.Index(out[i:], []byte("strf"))
	if j < 0 {
		tb.Fatal("no strf")
	}
	copy(out[i+j+8+16:], fourcc)
	return out
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	mp4 := readFile(t, mp4Clip.write(t, dir))
	h264 := readFile(t, avc1Clip.write(t, dir))
	avi := readFile(t, aviClip.write(t, dir))
	random := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 32)...)
	mpegTSNoise := bytes.Repeat(append([]byte{0x47}, make([]byte, 187)...), 8)

	for name, tc := range map[string]struct {
		data []byte // file content, unless path is set
		path string
		opts *Options
		want error
	}{
		"random bytes":   {data: random, want: ErrNotVideo},
		"png image":      {data: encodeImage(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }), want: ErrNotVideo},
		"jpeg image":     {data: encodeImage(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }), want: ErrNotVideo},
		"text":           {data: []byte("WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n"), want: ErrNotVideo},
		"empty":          {data: []byte{}, want: ErrNotVideo},
		"wav header":     {data: wav, want: ErrNotVideo},
		"heif brand":     {data: box("ftyp", be("heic", uint32(0), "mif1", "heic")), want: ErrNotVideo},
		"directory":      {path: dir, want: ErrNotVideo},
		"mp4 cut at 50%": {data: mp4[:len(mp4)/2], want: ErrTruncated},
		"mp4 cut after its moov": {
			data: func() []byte {
				fast := faststart(t, mp4)
				moov := topBoxes(t, fast)["moov"]
				return fast[:bytes.Index(fast, moov)+len(moov)+16]
			}(),
			want: ErrTruncated,
		},
		"mp4 ftyp only":  {data: mp4[:32], want: ErrTruncated},
		"audio-only mp4": {data: audioOnlyMP4(), want: ErrNoVideoStream},
		// An H.264 entry: FFmpeg names MPEG-4 part 2 from its esds box even
		// when the sample entry type is garbage, so mp4v would still decode.
		"mp4 with unknown codec":   {data: patchStsd(t, h264, "zzzz"), want: ErrUnsupportedCodec},
		"avi with unknown codec":   {data: patchAVICodec(t, avi, "ZZZZ"), want: ErrUnsupportedCodec},
		"mpeg-ts of empty packets": {data: mpegTSNoise, want: ErrUnsupportedCodec},
		"file over size limit": {
			data: mp4,
			opts: &Options{Limits: Limits{MaxFileBytes: int64(len(mp4)) - 1}},
			want: ErrTooLarge,
		},
		"frames over pixel limit": {
			data: mp4,
			opts: &Options{Limits: Limits{MaxPixels: mp4Clip.w*mp4Clip.h - 1}},
			want: ErrTooLarge,
		},
		"header duration over limit": {
			data: mp4,
			opts: &Options{Limits: Limits{MaxDuration: 2 * time.Second}}, // clip is 2.4 s
			want: ErrTooLarge,
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := tc.path
			if p == "" {
				p = writeFile(t, t.TempDir(), "input.mp4", tc.data)
			}
			d, err := Open(p, tc.opts)
			if err == nil {
				d.Close()
				t.Fatalf("Open succeeded; want %v", tc.want)
			}
			checkDecodeError(t, err, p, tc.want)
			// Probe must agree with Open.
			if _, err := Probe(p, tc.opts); !errors.Is(err, tc.want) {
				t.Errorf("Probe: %v; want %v", err, tc.want)
			}
		})
	}
}

func checkDecodeError(t *testing.T, err error, path string, want error) {
	t.Helper()
	t.Log(err)
	if !errors.Is(err, want) {
		t.Errorf("got %v; want %v", err, want)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%T is not a *DecodeError", err)
	}
	if de.Path != path {
		t.Errorf("DecodeError.Path %q, want %q", de.Path, path)
	}
	for _, s := range []error{ErrNotVideo, ErrNoVideoStream, ErrUnsupportedCodec, ErrTruncated, ErrTooLarge} {
		if s != want && errors.Is(err, s) {
			t.Errorf("error also matches %v", s)
		}
	}
}

// TestFFmpegMadeInputs builds inputs with the ffmpeg command-line tool,
// when it is installed: real audio-only files and an audio-only container
// whose refusal this package does not inspect.
func TestFFmpegMadeInputs(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		args []string
		want error
	}{
		"tone.m4a": {[]string{"-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac"}, ErrNoVideoStream},
		"tone.mov": {[]string{"-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "pcm_s16le"}, ErrNoVideoStream},
		"tone.avi": {[]string{"-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "pcm_s16le"}, ErrNoVideoStream},
		// Matroska is not inspected, so the refusal is the catch-all.
		"tone.mka": {[]string{"-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "pcm_s16le", "-f", "matroska"}, ErrUnsupportedCodec},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			args := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, tc.args...)
			if out, err := exec.Command(ffmpeg, append(args, p)...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			_, err := Open(p, nil)
			checkDecodeError(t, err, p, tc.want)
		})
	}
}

func TestSniff(t *testing.T) {
	ts := bytes.Repeat(append([]byte{0x47}, make([]byte, 187)...), 3)
	m2ts := bytes.Repeat(append([]byte{0, 0, 0, 0, 0x47}, make([]byte, 187)...), 3)
	for _, tc := range []struct {
		head []byte
		want string
	}{
		{box("ftyp", be("isom", uint32(0x200), "isom", "mp41")), "mp4"},
		{box("ftyp", be("qt  ", uint32(0))), "mov"},
		{box("ftyp", be("avif", uint32(0), "mif1")), ""},
		{box("moov"), "mov"},
		{[]byte("\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x84webm"), "webm"},
		{[]byte("\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska"), "matroska"},
		{[]byte("RIFF\x00\x00\x00\x00AVI LIST"), "avi"},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), ""},
		{[]byte{0, 0, 1, 0xBA, 0x44}, "mpeg-ps"},
		{[]byte{0, 0, 1, 0xB3, 0x16}, "mpeg-video"},
		{[]byte{0, 0, 0, 1, 0x67, 0x42}, "h26x-annexb"},
		{[]byte{0, 0, 0, 1, 0x40, 0x01}, "h26x-annexb"},
		{[]byte{0, 0, 0, 1, 0x65, 0x88}, ""}, // a slice first is not a stream start
		{ts, "mpeg-ts"},
		{m2ts, "mpeg-ts"},
		{ts[:100], ""}, // one sync byte is not enough
		{[]byte("FLV\x01\x05"), "flv"},
		{[]byte("OggS\x00\x02"), "ogg"},
		{[]byte{0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6}, "asf"},
		{[]byte("YUV4MPEG2 W160 H120"), "y4m"},
		{[]byte("DKIF\x00\x00\x20\x00"), "ivf"},
		{[]byte("\x89PNG\r\n\x1a\n"), ""},
		{[]byte("GIF89a"), ""},
		{[]byte("\xff\xd8\xff\xe0"), ""},
		{[]byte("hello"), ""},
		{nil, ""},
	} {
		if got := sniff(tc.head); got != tc.want {
			t.Errorf("sniff(% x): %q, want %q", tc.head[:min(len(tc.head), 12)], got, tc.want)
		}
	}
}

func TestReadBMFF(t *testing.T) {
	c := mp4Clip
	dir := t.TempDir()
	mp4 := readFile(t, c.write(t, dir))
	fast := faststart(t, mp4)
	read := func(b []byte) bmffInfo {
		t.Helper()
		info, err := readBMFF(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		return info
	}

	info := read(mp4)
	if !info.Moov || info.Cut || len(info.Tracks) != 1 {
		t.Fatalf("%+v", info)
	}
	v := info.video()
	if v == nil || v.Codec != "mp4v" || v.Width != c.w || v.Height != c.h || v.Samples != int64(c.frames) {
		t.Errorf("video track %+v", v)
	}
	if got, want := info.duration(), 2400*time.Millisecond; absDur(got-want) > time.Millisecond {
		t.Errorf("duration %v, want %v", got, want)
	}
	if info := read(fast); !info.Moov || info.Cut || info.video() == nil {
		t.Errorf("faststart: %+v", info)
	}
	if info := read(mp4[:len(mp4)/2]); info.Moov || !info.Cut {
		t.Errorf("cut moov-last: %+v", info)
	}
	if info := read(fast[:len(fast)/2]); !info.Moov || !info.Cut {
		t.Errorf("cut moov-first: %+v", info)
	}
	audio := read(audioOnlyMP4())
	if !audio.Moov || len(audio.Tracks) != 1 || audio.Tracks[0].Handler != "soun" || audio.Tracks[0].Codec != "mp4a" || audio.video() != nil {
		t.Errorf("audio-only: %+v", audio)
	}

	// Malformed structures are errors, not panics.
	for name, b := range map[string][]byte{
		"box smaller than header": be(uint32(4), "free"),
		"64-bit size overflow":    be(uint32(1), "mdat", uint64(1<<63)),
		"child overruns parent":   box("moov", be(uint32(100), "trak")),
		"stray bytes in moov":     box("moov", []byte{1, 2, 3}),
	} {
		if _, err := readBMFF(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReadAVI(t *testing.T) {
	b := readFile(t, aviClip.write(t, t.TempDir()))
	info := readAVI(bytes.NewReader(b), int64(len(b)))
	if info.Cut || !info.hasVideo() || info.Codec != "MJPG" {
		t.Errorf("%+v", info)
	}
	if info := readAVI(bytes.NewReader(b[:len(b)/2]), int64(len(b)/2)); !info.Cut {
		t.Errorf("half file: %+v", info)
	}
	if riff := binary.LittleEndian.Uint32(b[4:]); int(riff)+8 != len(b) {
		t.Logf("RIFF size %d for a %d-byte file", riff, len(b))
	}
}

// FuzzBoxes feeds the ISO-BMFF walker hostile input: it must return, without
// panicking, within its box budget.
func FuzzBoxes(f *testing.F) {
	dir := f.TempDir()
	mp4 := readFile(f, mp4Clip.write(f, dir))
	fast := faststart(f, mp4)
	for _, seed := range [][]byte{
		mp4, fast, mp4[:len(mp4)/2], fast[:len(fast)/3],
		audioOnlyMP4(),
		topBoxes(f, mp4)["moov"],
		be(uint32(1), "mdat", uint64(1<<40)),
		be(uint32(0), "moov"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := readBMFF(bytes.NewReader(b), int64(len(b)))
		if err == nil && info.Moov && len(info.Tracks) > maxBoxes {
			t.Fatalf("%d tracks from %d bytes", len(info.Tracks), len(b))
		}
		_ = info.duration()
		// The moov parser on its own, without the top-level framing.
		var in bmffInfo
		_ = parseMoov(&in, b)
		_ = sniff(b)
		_ = readAVI(bytes.NewReader(b), int64(len(b)))
	})
}

// FuzzOpen runs mutated files through the whole path, OpenCV included: a
// file must give a clean result or a *DecodeError wrapping one sentinel,
// and must not abort the process (gocv cannot recover OpenCV exceptions).
// It is slow (a file and an FFmpeg open per input); run it on purpose with
// -fuzz=FuzzOpen.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	mp4 := readFile(f, mp4Clip.write(f, dir))
	for _, seed := range [][]byte{
		mp4, faststart(f, mp4), audioOnlyMP4(),
		readFile(f, aviClip.write(f, dir)),
		readFile(f, clip{name: "small.mkv", fourcc: "MJPG", w: 32, h: 32, fps: 10, frames: 3}.write(f, dir)),
	} {
		f.Add(seed)
	}
	sentinels := []error{ErrNotVideo, ErrNoVideoStream, ErrUnsupportedCodec, ErrTruncated, ErrTooLarge}
	opts := &Options{Limits: Limits{MaxFileBytes: 1 << 20, MaxPixels: 640 * 480, MaxDuration: 5 * time.Second}}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := writeFile(t, t.TempDir(), "in", b)
		_, err := Probe(p, opts)
		if err == nil {
			return
		}
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("%T %v is not a *DecodeError", err, err)
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%v matches %d sentinels", err, n)
		}
	})
}
