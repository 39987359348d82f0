package fingerprint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// synthetic returns a valid version 1 fingerprint of n samples at the
// default rate and grid with pseudo-random hashes from seed.
func synthetic(n int, seed uint64) *Fingerprint {
	r := rand.New(rand.NewPCG(seed, 0x7466))
	fp := &Fingerprint{
		Version: Version1, SampleRate: DefaultSampleRate, Grid: DefaultGrid,
		Width: 720, Height: 1280,
		Duration: time.Duration(n) * 250 * time.Millisecond,
	}
	for k := range n {
		f := Frame{T: time.Duration(k) * 250 * time.Millisecond, Global: r.Uint64(), Cells: make([]uint64, DefaultGrid*DefaultGrid)}
		for i := range f.Cells {
			f.Cells[i] = r.Uint64()
		}
		fp.Frames = append(fp.Frames, f)
	}
	return fp
}

// syntheticV2 is synthetic as version 2, with one or two faces per sample
// (pseudo-random descriptors) and a thumbnail in every other sample.
func syntheticV2(n int, seed uint64) *Fingerprint {
	fp := synthetic(n, seed)
	fp.Version = Version2
	r := rand.New(rand.NewPCG(seed, 0x6661))
	for k := range fp.Frames {
		for track := 1; track <= 1+k%2; track++ {
			fc := Face{Track: 2*track - 1, Box: Box{X: uint16(r.IntN(30000)), Y: uint16(r.IntN(30000)), W: uint16(r.IntN(30000)), H: uint16(r.IntN(30000))},
				Inside: uint8(r.IntN(1 << NumRegions))}
			for reg := range NumRegions {
				fc.Desc.Energy[reg] = uint8(1 + r.IntN(255))
				for i := range RegionCoefs {
					fc.Desc.Coefs[reg][i] = int8(r.IntN(255) - 127)
				}
			}
			fc.Desc.Energy[RegionNose], fc.Desc.Coefs[RegionNose] = 0, [RegionCoefs]int8{} // a flat region
			fc.Desc.Cr, fc.Desc.Cb = uint8(r.IntN(256)), uint8(r.IntN(256))
			if k%2 == 0 {
				fc.Thumb = make([]byte, ThumbSide*ThumbSide)
				for i := range fc.Thumb {
					fc.Thumb[i] = byte(r.IntN(256))
				}
			}
			fp.Frames[k].Faces = append(fp.Frames[k].Faces, fc)
		}
	}
	return fp
}

// syntheticV3 is syntheticV2 as version 3: every face with a Detail of
// pseudo-random grids.
func syntheticV3(n int, seed uint64) *Fingerprint {
	fp := syntheticV2(n, seed)
	fp.Version = Version3
	r := rand.New(rand.NewPCG(seed, 0x6433))
	for k := range fp.Frames {
		for i := range fp.Frames[k].Faces {
			d := &Detail{}
			for j := range d.Lips {
				d.Lips[j] = byte(r.IntN(256))
			}
			for j := range d.Band {
				d.Band[j] = byte(r.IntN(256))
			}
			fp.Frames[k].Faces[i].Detail = d
		}
	}
	return fp
}

func mustEncode(tb testing.TB, fp *Fingerprint) []byte {
	tb.Helper()
	b, err := fp.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestEncodeRoundTrip(t *testing.T) {
	fp := synthetic(40, 1)
	b := mustEncode(t, fp)
	if want := headerSize + 40*(16+8*16); len(b) != want {
		t.Errorf("encoding is %d bytes, want %d", len(b), want)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fp) {
		t.Error("Decode(Encode(fp)) differs from fp")
	}
	var u Fingerprint
	if err := u.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(&u, fp) {
		t.Errorf("UnmarshalBinary: %v", err)
	}

	j, err := json.Marshal(fp)
	if err != nil {
		t.Fatal(err)
	}
	var back Fingerprint
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, fp) {
		t.Error("JSON round trip differs")
	}
	if !bytes.Contains(j, []byte(`"global":"`)) || !bytes.Contains(j, []byte(`"t_ms":250`)) {
		t.Errorf("JSON form: %.200s", j)
	}
}

// TestDigest checks that the digest is the SHA-256 of the canonical
// encoding, stable, and sensitive to every part of the fingerprint.
func TestDigest(t *testing.T) {
	fp := synthetic(12, 2)
	d1, err := fp.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := synthetic(12, 2).Digest()
	if d1 != d2 {
		t.Error("equal fingerprints have different digests")
	}
	mutations := map[string]func(*Fingerprint){
		"one global bit":   func(f *Fingerprint) { f.Frames[3].Global ^= 1 },
		"one cell bit":     func(f *Fingerprint) { f.Frames[11].Cells[15] ^= 1 << 63 },
		"a frame time":     func(f *Fingerprint) { f.Frames[5].T += time.Millisecond },
		"the duration":     func(f *Fingerprint) { f.Duration += time.Millisecond },
		"the width":        func(f *Fingerprint) { f.Width++ },
		"the sample rate":  func(f *Fingerprint) { f.SampleRate = 5 },
		"the last frame":   func(f *Fingerprint) { f.Frames = f.Frames[:11] },
		"frames reordered": func(f *Fingerprint) { f.Frames[0].Global, f.Frames[1].Global = f.Frames[1].Global, f.Frames[0].Global },
	}
	for name, mutate := range mutations {
		f := synthetic(12, 2)
		mutate(f)
		d, err := f.Digest()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d == d1 {
			t.Errorf("changing %s leaves the digest unchanged", name)
		}
	}
}

func TestEncodeInvalid(t *testing.T) {
	cases := map[string]func(*Fingerprint){
		"version":              func(f *Fingerprint) { f.Version = 4 },
		"faces in version 1":   func(f *Fingerprint) { f.Frames[1].Faces = []Face{{Track: 1}} },
		"grid 0":               func(f *Fingerprint) { f.Grid = 0 },
		"grid too large":       func(f *Fingerprint) { f.Grid = MaxGrid + 1 },
		"NaN sample rate":      func(f *Fingerprint) { f.SampleRate = math.NaN() },
		"zero sample rate":     func(f *Fingerprint) { f.SampleRate = 0 },
		"sample rate too high": func(f *Fingerprint) { f.SampleRate = MaxSampleRate * 2 },
		"sub-ms duration":      func(f *Fingerprint) { f.Duration += time.Microsecond },
		"negative duration":    func(f *Fingerprint) { f.Duration = -time.Second },
		"duration too long":    func(f *Fingerprint) { f.Duration = MaxDuration + time.Millisecond },
		"zero width":           func(f *Fingerprint) { f.Width = 0 },
		"huge frame":           func(f *Fingerprint) { f.Width, f.Height = 1<<20, 1<<20 },
		"no frames":            func(f *Fingerprint) { f.Frames = nil },
		"too many frames":      func(f *Fingerprint) { f.Duration = time.Second },
		"cells missing":        func(f *Fingerprint) { f.Frames[2].Cells = f.Frames[2].Cells[:15] },
		"time decreasing":      func(f *Fingerprint) { f.Frames[4].T = 0 },
		"sub-ms time":          func(f *Fingerprint) { f.Frames[4].T += time.Nanosecond },
		"time past duration":   func(f *Fingerprint) { f.Frames[9].T = f.Duration + time.Millisecond },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := synthetic(10, 3)
			mutate(f)
			if _, err := f.Encode(); !errors.Is(err, ErrFormat) {
				t.Errorf("Encode error = %v, want ErrFormat", err)
			}
			if _, err := f.Digest(); !errors.Is(err, ErrFormat) {
				t.Errorf("Digest error = %v, want ErrFormat", err)
			}
			if _, err := json.Marshal(f); !errors.Is(err, ErrFormat) {
				t.Errorf("MarshalJSON error = %v, want ErrFormat", err)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	good := mustEncode(t, synthetic(10, 4))
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":           nil,
		"header cut":      good[:headerSize-1],
		"frames cut":      good[:len(good)-1],
		"trailing byte":   append(bytes.Clone(good), 0),
		"magic":           edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":         edit(func(b []byte) []byte { b[4] = 4; return b }),
		"version 2 of v1": edit(func(b []byte) []byte { b[4] = 2; return b }),
		"version 3 of v1": edit(func(b []byte) []byte { b[4] = 3; return b }),
		"grid 0":          edit(func(b []byte) []byte { b[5] = 0; return b }),
		"grid 9":          edit(func(b []byte) []byte { b[5] = 9; return b }),
		"reserved":        edit(func(b []byte) []byte { b[7] = 1; return b }),
		"NaN rate":        edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[8:], math.Float64bits(math.NaN())); return b }),
		"negative rate":   edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[8:], math.Float64bits(-4)); return b }),
		"huge duration":   edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[16:], math.MaxUint64); return b }),
		"zero height":     edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[28:], 0); return b }),
		"frame count +1":  edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[32:], 11); return b }),
		"frame count max": edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[32:], math.MaxUint32); return b }),
		"time past end":   edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[headerSize:], 1<<40); return b }),
		"time decreasing": edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[headerSize+2*144:], 0); return b }),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(b); !errors.Is(err, ErrFormat) {
				t.Errorf("Decode error = %v, want ErrFormat", err)
			}
		})
	}
	// A frame's time in the encoding is at offset headerSize + k*144 for
	// the 4x4 grid; check the case above really edits frame 2.
	if binary.BigEndian.Uint64(good[headerSize+2*144:]) != 500 {
		t.Fatal("frame layout assumption broken")
	}
}

func TestUnmarshalJSONInvalid(t *testing.T) {
	cases := map[string]string{
		"not JSON":         `{`,
		"hash not hex":     `{"version":1,"sample_rate":4,"grid":1,"duration_ms":1000,"width":2,"height":2,"frames":[{"t_ms":0,"global":"zz00000000000000","cells":["0000000000000000"]}]}`,
		"hash too short":   `{"version":1,"sample_rate":4,"grid":1,"duration_ms":1000,"width":2,"height":2,"frames":[{"t_ms":0,"global":"00","cells":["0000000000000000"]}]}`,
		"cells missing":    `{"version":1,"sample_rate":4,"grid":2,"duration_ms":1000,"width":2,"height":2,"frames":[{"t_ms":0,"global":"0000000000000000","cells":["0000000000000000"]}]}`,
		"negative time":    `{"version":1,"sample_rate":4,"grid":1,"duration_ms":1000,"width":2,"height":2,"frames":[{"t_ms":-1,"global":"0000000000000000","cells":["0000000000000000"]}]}`,
		"huge duration":    `{"version":1,"sample_rate":4,"grid":1,"duration_ms":9223372036854775807,"width":2,"height":2,"frames":[]}`,
		"wrong version":    `{"version":7,"sample_rate":4,"grid":1,"duration_ms":1000,"width":2,"height":2,"frames":[{"t_ms":0,"global":"0000000000000000","cells":["0000000000000000"]}]}`,
		"no frames at all": `{"version":1,"sample_rate":4,"grid":1,"duration_ms":1000,"width":2,"height":2}`,
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			var fp Fingerprint
			if err := fp.UnmarshalJSON([]byte(s)); !errors.Is(err, ErrFormat) {
				t.Errorf("error = %v, want ErrFormat", err)
			}
		})
	}
	ok := `{"version":1,"sample_rate":4,"grid":1,"duration_ms":1000,"width":2,"height":2,"frames":[{"t_ms":0,"global":"00000000000000ff","cells":["8000000000000000"]}]}`
	var fp Fingerprint
	if err := json.Unmarshal([]byte(ok), &fp); err != nil {
		t.Fatal(err)
	}
	if fp.Frames[0].Global != 0xff || fp.Frames[0].Cells[0] != 1<<63 {
		t.Errorf("decoded %+v", fp.Frames[0])
	}
}

// FuzzDecode checks that Decode never panics nor over-allocates, and that
// what it accepts is canonical: it encodes back to the same bytes, so one
// fingerprint has one digest.
func FuzzDecode(f *testing.F) {
	f.Add(mustEncode(f, synthetic(1, 5)))
	f.Add(mustEncode(f, synthetic(7, 6)))
	one := synthetic(3, 7)
	one.Grid = 1
	for i := range one.Frames {
		one.Frames[i].Cells = one.Frames[i].Cells[:1]
	}
	f.Add(mustEncode(f, one))
	f.Add(mustEncode(f, syntheticV2(1, 8)))
	f.Add(mustEncode(f, syntheticV2(4, 9)))
	f.Add(mustEncode(f, syntheticV3(1, 13)))
	f.Add(mustEncode(f, syntheticV3(3, 14)))
	f.Add([]byte("TFFP"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fp, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		again, err := fp.Encode()
		if err != nil {
			t.Fatalf("decoded fingerprint does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding:\n in  %x\n out %x", b, again)
		}
		if _, err := json.Marshal(fp); err != nil {
			t.Fatalf("decoded fingerprint does not marshal to JSON: %v", err)
		}
	})
}

func TestEncodeRoundTripV2(t *testing.T) {
	fp := syntheticV2(12, 10)
	b := mustEncode(t, fp)
	want := headerSize + 12*(16+8*16+1)
	for _, f := range fp.Frames {
		for _, fc := range f.Faces {
			want += faceSize + len(fc.Thumb)
		}
	}
	if len(b) != want {
		t.Errorf("encoding is %d bytes, want %d", len(b), want)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fp) {
		t.Error("Decode(Encode(fp)) differs from fp")
	}
	j, err := json.Marshal(fp)
	if err != nil {
		t.Fatal(err)
	}
	var back Fingerprint
	if err := json.Unmarshal(j, &back); err != nil || !reflect.DeepEqual(&back, fp) {
		t.Errorf("JSON round trip: %v", err)
	}
	// Thinning drops thumbnails, so the digest changes with it.
	d1, _ := fp.Digest()
	fp.ThinThumbs(4)
	for k, f := range fp.Frames {
		for _, fc := range f.Faces {
			if (fc.Thumb != nil) != (k%4 == 0) {
				t.Errorf("sample %d: thumbnail kept %v", k, fc.Thumb != nil)
			}
		}
	}
	if d2, _ := fp.Digest(); d1 == d2 {
		t.Error("thinning the thumbnails leaves the digest unchanged")
	}
}

func TestEncodeInvalidV2(t *testing.T) {
	cases := map[string]func(*Fingerprint){
		"track 0":            func(f *Fingerprint) { f.Frames[1].Faces[0].Track = 0 },
		"tracks not sorted":  func(f *Fingerprint) { f.Frames[1].Faces[1].Track = 1 },
		"track too large":    func(f *Fingerprint) { f.Frames[0].Faces[0].Track = 1 << 16 },
		"box past the frame": func(f *Fingerprint) { f.Frames[0].Faces[0].Box = Box{X: 40000, W: 30000} },
		"inside bits":        func(f *Fingerprint) { f.Frames[0].Faces[0].Inside = 1 << NumRegions },
		"short thumbnail":    func(f *Fingerprint) { f.Frames[0].Faces[0].Thumb = make([]byte, 10) },
		"coefficient -128":   func(f *Fingerprint) { f.Frames[0].Faces[0].Desc.Coefs[0][3] = -128 },
		"pattern when flat":  func(f *Fingerprint) { f.Frames[0].Faces[0].Desc.Coefs[RegionNose][0] = 5 },
		"too many faces": func(f *Fingerprint) {
			for i := range maxFaces {
				f.Frames[2].Faces = append(f.Frames[2].Faces, Face{Track: 10 + i})
			}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := syntheticV2(6, 11)
			mutate(f)
			if _, err := f.Encode(); !errors.Is(err, ErrFormat) {
				t.Errorf("Encode error = %v, want ErrFormat", err)
			}
		})
	}
	good := mustEncode(t, syntheticV2(3, 12))
	// The first face of frame 0 starts after the header, the frame's fixed
	// part and cells, and the face count.
	face0 := headerSize + frameFixed + 8*16 + 1
	if good[face0-1] != 1 || binary.BigEndian.Uint16(good[face0:]) != 1 {
		t.Fatal("face layout assumption broken")
	}
	edit := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	bad := map[string][]byte{
		"face count 9":     edit(func(b []byte) { b[face0-1] = 9 }),
		"face count 2":     edit(func(b []byte) { b[face0-1] = 2 }),
		"thumb flag 2":     edit(func(b []byte) { b[face0+faceSize-1] = 2 }),
		"track 0":          edit(func(b []byte) { b[face0+1] = 0 }),
		"cut in a face":    good[:face0+20],
		"cut in a thumb":   good[:face0+faceSize+100],
		"trailing byte":    append(bytes.Clone(good), 0),
		"version 1 header": edit(func(b []byte) { b[4] = 1 }),
	}
	for name, b := range bad {
		t.Run("decode "+name, func(t *testing.T) {
			if _, err := Decode(b); !errors.Is(err, ErrFormat) {
				t.Errorf("Decode error = %v, want ErrFormat", err)
			}
		})
	}
}

func TestEncodeRoundTripV3(t *testing.T) {
	fp := syntheticV3(12, 15)
	b := mustEncode(t, fp)
	want := headerSize + 12*(16+8*16+1)
	for _, f := range fp.Frames {
		for _, fc := range f.Faces {
			want += faceSize + detailSize + len(fc.Thumb)
		}
	}
	if len(b) != want {
		t.Errorf("encoding is %d bytes, want %d", len(b), want)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fp) {
		t.Error("Decode(Encode(fp)) differs from fp")
	}
	j, err := json.Marshal(fp)
	if err != nil {
		t.Fatal(err)
	}
	var back Fingerprint
	if err := json.Unmarshal(j, &back); err != nil || !reflect.DeepEqual(&back, fp) {
		t.Errorf("JSON round trip: %v", err)
	}
	// The detail is part of the commitment.
	d1, _ := fp.Digest()
	fp.Frames[3].Faces[0].Detail.Lips[100]++
	if d2, _ := fp.Digest(); d1 == d2 {
		t.Error("changing a lips cell leaves the digest unchanged")
	}
}

func TestEncodeInvalidV3(t *testing.T) {
	cases := map[string]func(*Fingerprint){
		"no detail in version 3": func(f *Fingerprint) { f.Frames[1].Faces[0].Detail = nil },
		"detail in version 2": func(f *Fingerprint) {
			f.Version = Version2
			for k := range f.Frames {
				for i := range f.Frames[k].Faces {
					if k != 2 || i != 0 {
						f.Frames[k].Faces[i].Detail = nil
					}
				}
			}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := syntheticV3(6, 16)
			mutate(f)
			if _, err := f.Encode(); !errors.Is(err, ErrFormat) {
				t.Errorf("Encode error = %v, want ErrFormat", err)
			}
			if _, err := json.Marshal(f); !errors.Is(err, ErrFormat) {
				t.Errorf("MarshalJSON error = %v, want ErrFormat", err)
			}
		})
	}
	good := mustEncode(t, syntheticV3(3, 17))
	face0 := headerSize + frameFixed + 8*16 + 1
	edit := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	bad := map[string][]byte{
		"thumb flag 2":     edit(func(b []byte) { b[face0+faceSize+detailSize-1] = 2 }),
		"cut in a detail":  good[:face0+faceSize+10],
		"version 2 header": edit(func(b []byte) { b[4] = 2 }),
		"trailing byte":    append(bytes.Clone(good), 0),
	}
	for name, b := range bad {
		t.Run("decode "+name, func(t *testing.T) {
			if _, err := Decode(b); !errors.Is(err, ErrFormat) {
				t.Errorf("Decode error = %v, want ErrFormat", err)
			}
		})
	}
	// A version 2 encoding read as version 3 (or the reverse) must not
	// decode: the faces are of another size.
	v2 := mustEncode(t, syntheticV2(3, 17))
	v2[4] = 3
	if _, err := Decode(v2); !errors.Is(err, ErrFormat) {
		t.Errorf("version 2 faces under a version 3 header: error %v, want ErrFormat", err)
	}
	var j Fingerprint
	raw, _ := json.Marshal(syntheticV3(2, 18))
	raw = bytes.Replace(raw, []byte(`"lips":"`), []byte(`"lips":"AAAA`), 1)
	if err := json.Unmarshal(raw, &j); !errors.Is(err, ErrFormat) {
		t.Errorf("JSON with a short lips grid: error %v, want ErrFormat", err)
	}
}
