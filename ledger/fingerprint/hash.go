package fingerprint

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// Sizes of the hashing pipeline. A sampled frame is box-averaged to a
// luma image of cellSide*grid pixels per side (its aspect ratio is dropped,
// so a resized copy maps pixel for pixel); the global hash is taken from that
// image box-averaged again to globalSide per side, each cell hash from the
// cell's cellSide x cellSide block.
const (
	globalSide = 32
	cellSide   = 16
	// dctTerms is how many of the lowest DCT frequencies per axis are
	// computed: enough for the first 64 AC coefficients in zigzag order.
	dctTerms = 11
	// fixedShift scales the cosine table to integers. All arithmetic from
	// the decoded pixels to the hash bits is integer, so a file gives the
	// same bits on every machine (no floating-point contraction or SIMD
	// differences).
	fixedShift = 14
	// cellTau is the dead zone of the cell hashes, in luma levels of an
	// orthonormal DCT coefficient; see hasher.cellHash.
	cellTau = 8
	// minTaps is the least number of source rows and columns averaged per
	// working pixel when a frame is subsampled; see hasher.downsample.
	minTaps = 8
)

// makeZigzag lists the first 64 AC coefficients (u = horizontal, v =
// vertical frequency) in JPEG zigzag order, skipping DC.
func makeZigzag() [64][2]int {
	var out [64][2]int
	n := 0
	for s := 1; n < 64; s++ { // s = u+v, one anti-diagonal at a time
		for i := 0; i <= s && n < 64; i++ {
			u, v := i, s-i
			if s%2 == 0 {
				u, v = s-i, i
			}
			out[n] = [2]int{u, v}
			n++
		}
	}
	return out
}

// cosTable returns C[k][x] = round(2^fixedShift * cos((2x+1)kπ / 2n)) for
// k < dctTerms, x < n: the only floating point on the way to the bits.
// TestCosTableGolden pins the table, so a machine whose math.Cos rounded
// one entry differently would fail that test rather than hash differently
// in silence.
func cosTable(n int) [][]int64 {
	t := make([][]int64, dctTerms)
	for k := range t {
		t[k] = make([]int64, n)
		for x := range n {
			c := math.Cos(float64((2*x+1)*k) * math.Pi / float64(2*n))
			t[k][x] = int64(math.Round(c * (1 << fixedShift)))
		}
	}
	return t
}

// hasher turns BGR frames into a global hash and grid cell hashes. It holds
// scratch buffers: one per goroutine.
type hasher struct {
	grid   int
	side   int // grid*cellSide
	tau    int64
	zigzag [64][2]int
	cosG   [][]int64
	cosC   [][]int64
	luma   []int64 // side*side, mean luma *256 per pixel of the working image
	small  []int64 // globalSide*globalSide
	cell   []int64 // cellSide*cellSide
	rowAcc []int64 // dctTerms*max(globalSide, cellSide)
	coef   []int64
	sorted []int64
	colX   []int32 // byte offsets of the source columns averaged
	binX   []int32 // working column of each of colX
	sumRow []int64 // side sums for one working row band
	cntX   []int64
}

func newHasher(grid int) *hasher {
	side := grid * cellSide
	return &hasher{
		grid:   grid,
		side:   side,
		tau:    (cellTau << 21) * cellSide, // see dct for the scale
		zigzag: makeZigzag(),
		cosG:   cosTable(globalSide),
		cosC:   cosTable(cellSide),
		luma:   make([]int64, side*side),
		small:  make([]int64, globalSide*globalSide),
		cell:   make([]int64, cellSide*cellSide),
		rowAcc: make([]int64, dctTerms*max(globalSide, cellSide)),
		coef:   make([]int64, 64),
		sorted: make([]int64, 64),
		sumRow: make([]int64, side),
		cntX:   make([]int64, side),
	}
}

// hashMat hashes a BGR frame. The Mat is checked first: OpenCV aborts the
// process on a bad Mat.
func (h *hasher) hashMat(img gocv.Mat) (global uint64, cells []uint64, err error) {
	if err := media.CheckBGR(img); err != nil {
		return 0, nil, err
	}
	src := img
	if !img.IsContinuous() {
		src = img.Clone()
		defer src.Close()
	}
	pix, err := src.DataPtrUint8()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", media.ErrBadImage, err)
	}
	return h.hashBGR(pix, src.Cols(), src.Rows())
}

// hashBGR hashes w x ht packed 8-bit BGR pixels.
func (h *hasher) hashBGR(pix []byte, w, ht int) (uint64, []uint64, error) {
	if w < 1 || ht < 1 || len(pix) < w*ht*3 {
		return 0, nil, fmt.Errorf("%w: %d bytes for %dx%d BGR", media.ErrBadImage, len(pix), w, ht)
	}
	h.downsample(pix, w, ht)
	boxAverage(h.small, globalSide, h.luma, h.side)
	global := h.phash(h.small, globalSide, h.cosG)
	cells := make([]uint64, h.grid*h.grid)
	for cy := range h.grid {
		for cx := range h.grid {
			for y := range cellSide {
				row := (cy*cellSide+y)*h.side + cx*cellSide
				copy(h.cell[y*cellSide:(y+1)*cellSide], h.luma[row:row+cellSide])
			}
			cells[cy*h.grid+cx] = h.cellHash()
		}
	}
	return global, cells, nil
}

// downsample box-averages the frame into h.luma (side x side), in luma*256
// (BT.601 weights 29/150/77 out of 256 for B/G/R). Bin boundaries are
// integer: working column j takes source columns [j*w/side, (j+1)*w/side);
// a frame smaller than side repeats source pixels. Large frames are
// averaged over every sx-th column and sy-th row, keeping at least
// minTaps of each per bin: enough to average out noise and fine detail,
// at a fraction of the cost for 1080p and 4K.
func (h *hasher) downsample(pix []byte, w, ht int) {
	side := h.side
	sx, sy := max(1, w/side/minTaps), max(1, ht/side/minTaps)
	h.colX, h.binX = h.colX[:0], h.binX[:0]
	clear(h.cntX)
	for x := 0; x < w; x += sx {
		j := x * side / w
		h.colX = append(h.colX, int32(3*x))
		h.binX = append(h.binX, int32(j))
		h.cntX[j]++
	}
	for i := range side {
		y0, y1 := i*ht/side, (i+1)*ht/side
		if y1 <= y0 {
			y1 = y0 + 1
		}
		clear(h.sumRow)
		var rows int64
		for y := y0; y < y1; y += sy {
			rows++
			row := pix[y*w*3 : (y+1)*w*3]
			acc := h.sumRow
			for n, x := range h.colX {
				p := row[x : x+3 : x+3]
				acc[h.binX[n]] += int64(29*uint32(p[0]) + 150*uint32(p[1]) + 77*uint32(p[2]))
			}
		}
		out := h.luma[i*side : (i+1)*side]
		for j := range side {
			if h.cntX[j] == 0 { // upsampling: take the nearest source column
				x := min(w-1, j*w/side)
				var s int64
				for y := y0; y < y1; y += sy {
					p := pix[(y*w+x)*3:]
					s += 29*int64(p[0]) + 150*int64(p[1]) + 77*int64(p[2])
				}
				out[j] = s / rows
				continue
			}
			out[j] = h.sumRow[j] / (h.cntX[j] * rows)
		}
	}
}

// boxAverage averages the n x n image src into the m x m image dst over
// integer-bounded blocks; when m > n (a grid of 1) blocks repeat pixels.
func boxAverage(dst []int64, m int, src []int64, n int) {
	for i := range m {
		y0, y1 := i*n/m, max((i+1)*n/m, i*n/m+1)
		for j := range m {
			x0, x1 := j*n/m, max((j+1)*n/m, j*n/m+1)
			var s int64
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					s += src[y*n+x]
				}
			}
			dst[i*m+j] = s / int64((y1-y0)*(x1-x0))
		}
	}
}

// cellHash returns the hash of h.cell: two bits for each of the first 32 AC
// coefficients in zigzag order, the first set when the coefficient is
// above +cellTau, the second when below -cellTau. Coefficients within the
// dead zone (noise, re-encoding, a flat wall) leave both bits clear, so a
// flat cell hashes to 0 whatever its noise, and the distance between two
// cells counts the coefficients whose sign clearly differs (2 bits) or that
// appeared or vanished (1 bit).
func (h *hasher) cellHash() uint64 {
	h.dct(h.cell, cellSide, h.cosC)
	var out uint64
	for i, c := range h.coef[:32] {
		switch {
		case c > h.tau:
			out |= 1 << (63 - 2*i)
		case c < -h.tau:
			out |= 1 << (62 - 2*i)
		}
	}
	return out
}

// phash returns the 64-bit DCT hash of the n x n image img: bit i is set
// when the i-th AC coefficient in zigzag order exceeds the median of the 64.
// The DC term (the mean brightness) is left out, so a uniform change of
// brightness leaves the hash unchanged.
func (h *hasher) phash(img []int64, n int, cos [][]int64) uint64 {
	h.dct(img, n, cos)
	copy(h.sorted, h.coef)
	slices.Sort(h.sorted)
	med := h.sorted[31]/2 + h.sorted[32]/2
	var out uint64
	for i, c := range h.coef {
		if c > med {
			out |= 1 << (63 - i)
		}
	}
	return out
}

// dct fills h.coef with the first 64 AC coefficients, in zigzag order, of
// the DCT-II of the n x n image img, scaled by 2^fixedShift (unnormalised:
// pixels are luma*256, so the orthonormal coefficient in luma levels is
// about coef / (2^21 * n)).
func (h *hasher) dct(img []int64, n int, cos [][]int64) {
	// Rows: R[y][u] = sum_x img[y][x] C[u][x].
	r := h.rowAcc[:n*dctTerms]
	for y := range n {
		row := img[y*n : (y+1)*n]
		for u := range dctTerms {
			c := cos[u]
			var s int64
			for x, p := range row {
				s += p * c[x]
			}
			r[y*dctTerms+u] = s
		}
	}
	// Columns, only for the coefficients used: D[v][u] = sum_y C[v][y] R[y][u].
	for i, uv := range h.zigzag {
		u, v := uv[0], uv[1]
		c := cos[v]
		var s int64
		for y := range n {
			s += c[y] * (r[y*dctTerms+u] >> fixedShift)
		}
		h.coef[i] = s
	}
}

// Distance returns the Hamming distance between two 64-bit hashes.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }
