package trainer

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// img is an RGB float image in [0,1], row-major, interleaved.
type img struct {
	W, H int
	Pix  []float32
}

func newImg(w, h int) img { return img{W: w, H: h, Pix: make([]float32, 3*w*h)} }

func fromBytes(b []byte, w, h int) img {
	m := newImg(w, h)
	for i, v := range b {
		m.Pix[i] = float32(v) / 255
	}
	return m
}

func (m img) clone() img {
	return img{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
}

// at returns channel c of (x,y) by bilinear interpolation, replicating the
// border.
func (m img) at(x, y float64, c int) float32 {
	x = math.Max(0, math.Min(float64(m.W-1), x))
	y = math.Max(0, math.Min(float64(m.H-1), y))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, m.W-1), min(y0+1, m.H-1)
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	p := func(xx, yy int) float32 { return m.Pix[3*(yy*m.W+xx)+c] }
	top := p(x0, y0)*(1-fx) + p(x1, y0)*fx
	bot := p(x0, y1)*(1-fx) + p(x1, y1)*fx
	return top*(1-fy) + bot*fy
}

// resize returns m scaled to w×h: box-averaged when shrinking (so that
// detail is lost the way a camera or encoder at that size loses it),
// bilinear when growing.
func (m img) resize(w, h int) img {
	out := newImg(w, h)
	sx, sy := float64(m.W)/float64(w), float64(m.H)/float64(h)
	if sx > 1 || sy > 1 {
		for y := 0; y < h; y++ {
			y0, y1 := int(float64(y)*sy), max(int(float64(y)*sy)+1, int(float64(y+1)*sy))
			for x := 0; x < w; x++ {
				x0, x1 := int(float64(x)*sx), max(int(float64(x)*sx)+1, int(float64(x+1)*sx))
				var s [3]float32
				n := 0
				for yy := y0; yy < min(y1, m.H); yy++ {
					for xx := x0; xx < min(x1, m.W); xx++ {
						for c := 0; c < 3; c++ {
							s[c] += m.Pix[3*(yy*m.W+xx)+c]
						}
						n++
					}
				}
				for c := 0; c < 3; c++ {
					out.Pix[3*(y*w+x)+c] = s[c] / float32(max(n, 1))
				}
			}
		}
		return out
	}
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			for c := 0; c < 3; c++ {
				out.Pix[3*(y*w+x)+c] = m.at(fx, fy, c)
			}
		}
	}
	return out
}

// resample loses resolution: m shrunk by f (0 < f < 1) and grown back.
func (m img) resample(f float64) img {
	w, h := max(4, int(float64(m.W)*f)), max(4, int(float64(m.H)*f))
	return m.resize(w, h).resize(m.W, m.H)
}

// blur returns m convolved with a Gaussian of sigma pixels.
func (m img) blur(sigma float64) img {
	if sigma < 0.2 {
		return m.clone()
	}
	k := gaussKernel(sigma)
	r := len(k) / 2
	tmp, out := newImg(m.W, m.H), newImg(m.W, m.H)
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			var s [3]float32
			for i, kv := range k {
				xx := min(max(x+i-r, 0), m.W-1)
				for c := 0; c < 3; c++ {
					s[c] += kv * m.Pix[3*(y*m.W+xx)+c]
				}
			}
			copy(tmp.Pix[3*(y*m.W+x):], s[:])
		}
	}
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			var s [3]float32
			for i, kv := range k {
				yy := min(max(y+i-r, 0), m.H-1)
				for c := 0; c < 3; c++ {
					s[c] += kv * tmp.Pix[3*(yy*m.W+x)+c]
				}
			}
			copy(out.Pix[3*(y*m.W+x):], s[:])
		}
	}
	return out
}

func gaussKernel(sigma float64) []float32 {
	r := max(1, int(math.Ceil(2.5*sigma)))
	k := make([]float32, 2*r+1)
	var sum float32
	for i := range k {
		d := float64(i - r)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// sharpen adds amount times the difference between m and its blur.
func (m img) sharpen(amount float64) img {
	b := m.blur(1)
	out := m.clone()
	for i := range out.Pix {
		out.Pix[i] = clamp01(m.Pix[i] + float32(amount)*(m.Pix[i]-b.Pix[i]))
	}
	return out
}

// affine is x' = A x + B y + C, y' = D x + E y + F.
type affine struct{ A, B, C, D, E, F float64 }

func (t affine) apply(x, y float64) (float64, float64) {
	return t.A*x + t.B*y + t.C, t.D*x + t.E*y + t.F
}

func (t affine) invert() affine {
	det := t.A*t.E - t.B*t.D
	ia, ib, id, ie := t.E/det, -t.B/det, -t.D/det, t.A/det
	return affine{A: ia, B: ib, C: -(ia*t.C + ib*t.F), D: id, E: ie, F: -(id*t.C + ie*t.F)}
}

// warp returns m moved by t (output pixel p shows input pixel t⁻¹(p)).
func (m img) warp(t affine) img {
	inv := t.invert()
	out := newImg(m.W, m.H)
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			sx, sy := inv.apply(float64(x), float64(y))
			for c := 0; c < 3; c++ {
				out.Pix[3*(y*m.W+x)+c] = m.at(sx, sy, c)
			}
		}
	}
	return out
}

// jpeg returns m after a JPEG round trip at quality q.
func (m img) jpeg(q int) img {
	rgba := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		rgba.Pix[4*i] = to8(m.Pix[3*i])
		rgba.Pix[4*i+1] = to8(m.Pix[3*i+1])
		rgba.Pix[4*i+2] = to8(m.Pix[3*i+2])
		rgba.Pix[4*i+3] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: q}); err != nil {
		return m.clone()
	}
	dec, err := jpeg.Decode(&buf)
	if err != nil {
		return m.clone()
	}
	out := newImg(m.W, m.H)
	b := dec.Bounds()
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			r, g, bb, _ := dec.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := 3 * (y*m.W + x)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = float32(r)/65535, float32(g)/65535, float32(bb)/65535
		}
	}
	return out
}

// colour applies a per-channel gain and offset, then a contrast and a
// saturation change about the mean.
func (m img) colour(gain, offset [3]float32, contrast, saturation float32) img {
	out := m.clone()
	var mean float32
	for i := 0; i < len(out.Pix); i += 3 {
		for c := 0; c < 3; c++ {
			out.Pix[i+c] = out.Pix[i+c]*gain[c] + offset[c]
		}
		mean += (out.Pix[i] + out.Pix[i+1] + out.Pix[i+2]) / 3
	}
	mean /= float32(m.W * m.H)
	for i := 0; i < len(out.Pix); i += 3 {
		grey := (out.Pix[i] + out.Pix[i+1] + out.Pix[i+2]) / 3
		for c := 0; c < 3; c++ {
			v := grey + (out.Pix[i+c]-grey)*saturation
			out.Pix[i+c] = clamp01(mean + (v-mean)*contrast)
		}
	}
	return out
}

func (m img) noise(rng *rand.Rand, sigma float64) {
	for i := range m.Pix {
		m.Pix[i] = clamp01(m.Pix[i] + float32(rng.NormFloat64()*sigma))
	}
}

func (m img) flipH() img {
	out := newImg(m.W, m.H)
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			copy(out.Pix[3*(y*m.W+x):3*(y*m.W+x)+3], m.Pix[3*(y*m.W+m.W-1-x):])
		}
	}
	return out
}

// window returns the s×s part of m whose top-left is (x0, y0).
func (m img) window(x0, y0, s int) img {
	out := newImg(s, s)
	for y := 0; y < s; y++ {
		yy := min(max(y+y0, 0), m.H-1)
		for x := 0; x < s; x++ {
			xx := min(max(x+x0, 0), m.W-1)
			copy(out.Pix[3*(y*s+x):3*(y*s+x)+3], m.Pix[3*(yy*m.W+xx):])
		}
	}
	return out
}

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

func to8(v float32) uint8 { return uint8(clamp01(v)*255 + 0.5) }

// mask is a single-channel float image in [0,1].
type mask struct {
	W, H int
	V    []float32
}

// fillPolygon returns the mask of the polygon pts (even-odd rule, sampled
// at pixel centres).
func fillPolygon(pts [][2]float64, w, h int) mask {
	m := mask{W: w, H: h, V: make([]float32, w*h)}
	n := len(pts)
	xs := make([]float64, 0, 16)
	for y := 0; y < h; y++ {
		fy := float64(y) + 0.5
		xs = xs[:0]
		for i := 0; i < n; i++ {
			a, b := pts[i], pts[(i+1)%n]
			if (a[1] <= fy) != (b[1] <= fy) {
				xs = append(xs, a[0]+(fy-a[1])/(b[1]-a[1])*(b[0]-a[0]))
			}
		}
		sortFloats(xs)
		for k := 0; k+1 < len(xs); k += 2 {
			x0, x1 := int(math.Ceil(xs[k]-0.5)), int(math.Floor(xs[k+1]-0.5))
			for x := max(x0, 0); x <= min(x1, w-1); x++ {
				m.V[y*w+x] = 1
			}
		}
	}
	return m
}

func sortFloats(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// blur returns the mask convolved with a Gaussian of sigma pixels.
func (m mask) blur(sigma float64) mask {
	if sigma < 0.2 {
		return m
	}
	k := gaussKernel(sigma)
	r := len(k) / 2
	tmp := make([]float32, len(m.V))
	out := mask{W: m.W, H: m.H, V: make([]float32, len(m.V))}
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			var s float32
			for i, kv := range k {
				s += kv * m.V[y*m.W+min(max(x+i-r, 0), m.W-1)]
			}
			tmp[y*m.W+x] = s
		}
	}
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			var s float32
			for i, kv := range k {
				s += kv * tmp[min(max(y+i-r, 0), m.H-1)*m.W+x]
			}
			out.V[y*m.W+x] = s
		}
	}
	return out
}

// convexHull returns the hull of pts, counter-clockwise (Andrew's
// monotone chain).
func convexHull(pts [][2]float64) [][2]float64 {
	p := append([][2]float64(nil), pts...)
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && (p[j][0] < p[j-1][0] || (p[j][0] == p[j-1][0] && p[j][1] < p[j-1][1])); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
	if len(p) < 3 {
		return p
	}
	cross := func(o, a, b [2]float64) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	var h [][2]float64
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		q := p[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	return h[:len(h)-1]
}
