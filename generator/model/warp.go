package model

import (
	"math"
	"math/rand/v2"
)

// WarpOptions controls the random augmentation of training faces. Zero fields
// take the defaults shown; set Disabled to train on the faces as they are.
type WarpOptions struct {
	// Rotate is the largest rotation in degrees (10).
	Rotate float64
	// Scale is the largest relative change of size (0.05).
	Scale float64
	// Shift is the largest translation as a fraction of the side (0.05).
	Shift float64
	// Grid is the largest displacement of the grid warp's control points,
	// as a fraction of the side (0.03). The grid warp bends only the input,
	// not the target.
	Grid float64
	// Disabled turns augmentation off: input and target are the face itself.
	Disabled bool
}

func (o WarpOptions) withDefaults() WarpOptions {
	if o.Rotate == 0 {
		o.Rotate = 10
	}
	if o.Scale == 0 {
		o.Scale = 0.05
	}
	if o.Shift == 0 {
		o.Shift = 0.05
	}
	if o.Grid == 0 {
		o.Grid = 0.03
	}
	return o
}

// gridCells is the number of cells per side of the warp's control grid.
const gridCells = 4

// augment writes one training pair for img (size×size×3, HWC): target is img
// moved by a random similarity transform, input is the same with a smooth
// random grid warp on top.
func augment(rng *rand.Rand, img []float32, size int, o WarpOptions, input, target []float32) {
	if o.Disabled {
		copy(input, img)
		copy(target, img)
		return
	}
	uni := func(r float64) float64 { return (rng.Float64()*2 - 1) * r }
	ang := uni(o.Rotate) * math.Pi / 180
	sc := 1 + uni(o.Scale)
	tx, ty := uni(o.Shift)*float64(size), uni(o.Shift)*float64(size)
	// Map from output pixel to source pixel: about the centre, rotate by ang
	// and scale by 1/sc, then shift.
	c := float64(size-1) / 2
	cos, sin := math.Cos(ang)/sc, math.Sin(ang)/sc
	var grid [gridCells + 1][gridCells + 1][2]float64
	for gy := 1; gy < gridCells; gy++ {
		for gx := 1; gx < gridCells; gx++ {
			grid[gy][gx] = [2]float64{uni(o.Grid) * float64(size), uni(o.Grid) * float64(size)}
		}
	}
	cell := float64(size-1) / gridCells
	for y := range size {
		for x := range size {
			fx, fy := float64(x), float64(y)
			// Grid displacement, bilinear between control points.
			gxf, gyf := fx/cell, fy/cell
			gx0, gy0 := min(int(gxf), gridCells-1), min(int(gyf), gridCells-1)
			ax, ay := gxf-float64(gx0), gyf-float64(gy0)
			var d [2]float64
			for k := range 2 {
				d[k] = (1-ay)*((1-ax)*grid[gy0][gx0][k]+ax*grid[gy0][gx0+1][k]) +
					ay*((1-ax)*grid[gy0+1][gx0][k]+ax*grid[gy0+1][gx0+1][k])
			}
			o := (y*size + x) * 3
			sx, sy := cos*(fx-c)-sin*(fy-c)+c-tx, sin*(fx-c)+cos*(fy-c)+c-ty
			sample(img, size, sx, sy, target[o:o+3])
			wx, wy := fx+d[0], fy+d[1]
			sx, sy = cos*(wx-c)-sin*(wy-c)+c-tx, sin*(wx-c)+cos*(wy-c)+c-ty
			sample(img, size, sx, sy, input[o:o+3])
		}
	}
}

// sample reads img at (x, y) bilinearly, repeating the border.
func sample(img []float32, size int, x, y float64, dst []float32) {
	clamp := func(v float64) float64 { return math.Max(0, math.Min(v, float64(size-1))) }
	x, y = clamp(x), clamp(y)
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, size-1), min(y0+1, size-1)
	ax, ay := float32(x-float64(x0)), float32(y-float64(y0))
	for ch := range 3 {
		p00 := img[(y0*size+x0)*3+ch]
		p01 := img[(y0*size+x1)*3+ch]
		p10 := img[(y1*size+x0)*3+ch]
		p11 := img[(y1*size+x1)*3+ch]
		dst[ch] = (1-ay)*((1-ax)*p00+ax*p01) + ay*((1-ax)*p10+ax*p11)
	}
}
