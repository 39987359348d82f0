package fingerprint

import (
	"fmt"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
	"github.com/trueframe/trueframe/media/landmark"
)

// Detail is what a version 3 face adds to version 2: the lips and, to
// judge them by, the band under the eyes across the nose, each as a small
// grey image of the aligned face at about twice the resolution of the
// version 2 descriptor's mouth (the lips 24 cells wide instead of 8).
//
// Why: a lip-sync regenerates the lips and keeps the rest; in the 8x8 DCT
// of a 24-px mouth the new lips stayed as close to the old as the lips of
// a re-encoded copy (TestMeasureFaces). At twice the resolution they
// differ, but a copy's differ too: its landmarks fit a pixel or two off,
// which moves the window, and a strong re-encoding softens the lips. So
// the grids are kept as pixels, one cell wider than their window on every
// side, and compared (detailDistance) at the shift that fits best, and
// the lips' distance is taken less the nose band's: a re-encoding softens
// both alike, a lip-sync changes only the lips.
type Detail struct {
	// Lips covers lipsWindow, Band bandWindow, each grown by one cell on
	// every side: 8-bit luma, row by row.
	Lips [LipsGridW * LipsGridH]uint8
	Band [BandGridW * BandGridH]uint8
}

// detailWindow is a window of the aligned face, in fractions of its side,
// sampled at cells of cell x cell.
type detailWindow struct {
	x0, y0 float64 // top left of the window, without the margin
	w, h   int     // cells of the window, without the margin
	cell   float64
}

// The windows of Detail, on landmark's canonical face (mouth corners at
// (0.355, 0.70) and (0.645, 0.70), nose tip at (0.50, 0.58)): the lips
// and the skin round them, 0.36 x 0.18 of the face side in cells of
// 0.015; the band from cheek to cheek across the nostrils, 0.48 x 0.16 in
// cells of 0.02.
var (
	lipsWindow = detailWindow{x0: 0.32, y0: 0.62, w: 24, h: 12, cell: 0.015}
	bandWindow = detailWindow{x0: 0.26, y0: 0.42, w: 24, h: 8, cell: 0.02}
)

// Sizes of the Detail grids: their windows with a margin of one cell.
const (
	LipsGridW, LipsGridH = 24 + 2, 12 + 2
	BandGridW, BandGridH = 24 + 2, 8 + 2
	detailSize           = LipsGridW*LipsGridH + BandGridW*BandGridH
)

// detailOf computes the Detail of the face f of the BGR frame img.
func detailOf(img gocv.Mat, f landmark.Face) (*Detail, error) {
	var d Detail
	if err := windowGrid(img, f, lipsWindow, d.Lips[:]); err != nil {
		return nil, err
	}
	if err := windowGrid(img, f, bandWindow, d.Band[:]); err != nil {
		return nil, err
	}
	return &d, nil
}

// windowGrid warps the window w of the face f, grown by a cell on every
// side, to one pixel per cell (area-averaged, as the aligned crop is) and
// writes its luma into out.
func windowGrid(img gocv.Mat, f landmark.Face, w detailWindow, out []uint8) error {
	// The face at one pixel per cell, translated so that the grown
	// window's top left is at the origin.
	side := int(math.Round(1 / w.cell))
	m, err := landmark.AlignTransform(f, side)
	if err != nil {
		return err
	}
	m.C -= (w.x0 - w.cell) * float64(side)
	m.F -= (w.y0 - w.cell) * float64(side)
	inv, ok := m.Invert()
	scale := math.Hypot(m.A, m.D)
	if !ok || !(scale > 0) || math.IsInf(scale, 0) {
		return fmt.Errorf("fingerprint: degenerate face alignment")
	}
	gw, gh := w.w+2, w.h+2
	warped, err := warpAligned(img, m, inv, scale, gw, gh)
	if err != nil {
		return err
	}
	defer warped.Close()
	ycc := gocv.NewMat()
	defer ycc.Close()
	gocv.CvtColor(warped, &ycc, gocv.ColorBGRToYCrCb)
	if ycc.Rows() != gh || ycc.Cols() != gw || ycc.Channels() != 3 || len(out) != gw*gh {
		return fmt.Errorf("%w: detail grid %dx%dx%d", media.ErrBadImage, ycc.Cols(), ycc.Rows(), ycc.Channels())
	}
	pix, err := ycc.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("%w: %v", media.ErrBadImage, err)
	}
	for i := range out {
		out[i] = pix[3*i]
	}
	return nil
}

// Shifts tried by detailDistance: up to detailSteps steps of
// detailStep of the face side each way, split between the two grids; a
// copy's landmarks fit within a pixel or two of the original's at the
// faces compared (100 px and wider), which is 0.01 of the face side.
const (
	detailSteps = 3
	detailStep  = 0.004
)

// detailDistance is how differently two grids of window w are patterned:
// the grids averaged 2x2 (cells of 0.03 and 0.04 of the face side, about
// two pixels of the 64-px crop: finer cells differed between copies as
// much as between lip-syncs) and compared as faceDistance compares region
// patterns, at the relative shift, of those tried, that fits best. Each
// grid is resampled (bilinearly, from the finer cells) at half the shift,
// in opposite directions, so that both are smoothed alike.
func detailDistance(a, b []uint8, w detailWindow) float64 {
	step := detailStep / w.cell // in cells
	var sa, sb [2*detailSteps + 1][2*detailSteps + 1][]float64
	for i := -detailSteps; i <= detailSteps; i++ {
		for j := -detailSteps; j <= detailSteps; j++ {
			dx, dy := float64(i)*step/2, float64(j)*step/2
			sa[i+detailSteps][j+detailSteps] = coarseGrid(a, w, -dx, -dy)
			sb[i+detailSteps][j+detailSteps] = coarseGrid(b, w, dx, dy)
		}
	}
	noise := detailNoise * math.Sqrt(float64(w.w*w.h/4))
	best := math.Inf(1)
	for i := range sa {
		for j := range sa[i] {
			best = min(best, vectorDistance(sa[i][j], sb[i][j], noise))
		}
	}
	return best
}

// detailNoise is the noise floor per coarse cell, in luma levels, of
// detailDistance (faceNoise is 2 per cell of an 8x8 region too).
const detailNoise = 2

// coarseGrid samples the window of a grid (its margin left out) moved by
// (dx, dy) cells, bilinearly, averages it 2x2 and removes the mean.
func coarseGrid(g []uint8, w detailWindow, dx, dy float64) []float64 {
	gw, gh := w.w+2, w.h+2
	at := func(x, y int) float64 { return float64(g[min(gh-1, max(0, y))*gw+min(gw-1, max(0, x))]) }
	cw, ch := w.w/2, w.h/2
	out := make([]float64, cw*ch)
	var mean float64
	for y := range w.h {
		fy := float64(y+1) + dy
		y0 := math.Floor(fy)
		ty := fy - y0
		for x := range w.w {
			fx := float64(x+1) + dx
			x0 := math.Floor(fx)
			tx := fx - x0
			xi, yi := int(x0), int(y0)
			v := (at(xi, yi)*(1-tx)+at(xi+1, yi)*tx)*(1-ty) + (at(xi, yi+1)*(1-tx)+at(xi+1, yi+1)*tx)*ty
			out[(y/2)*cw+x/2] += v / 4
			mean += v / 4
		}
	}
	mean /= float64(len(out))
	for i := range out {
		out[i] -= mean
	}
	return out
}

// vectorDistance is |a-b| over the root sum of squares of both norms and
// the noise floor: 0 for the same pattern, about 1 for unrelated ones.
func vectorDistance(a, b []float64, noise float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return math.Sqrt(d / (na + nb + noise*noise))
}

// lipsDetail is the mouth-detail measure between two faces: the lips'
// detailDistance less the nose band's.
func lipsDetail(a, b *Detail) float64 {
	return detailDistance(a.Lips[:], b.Lips[:], lipsWindow) - detailDistance(a.Band[:], b.Band[:], bandWindow)
}
