package model

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// PreviewFile is the name of the preview grid a training run writes into
// its model directory.
const PreviewFile = "preview.png"

// previewFaces is how many faces of each identity a preview shows: enough
// to judge a swap, few enough that a preview costs little beside a step.
const previewFaces = 6

// Preview draws faces of both identities through the model, one face per
// column, in six rows: A's faces, A rebuilt by its own decoder, A decoded
// as B, then the same three for B. Faces are picked evenly from each set,
// because consecutive video frames look alike.
func (m *Model) Preview(a, b [][]float32) (*image.RGBA, error) {
	size := m.Config().Size
	var rows [][][]float32
	for _, set := range []struct {
		faces [][]float32
		own   Identity
	}{{a, A}, {b, B}} {
		faces := spread(set.faces, previewFaces)
		rec, err := m.Predict(set.own, faces)
		if err != nil {
			return nil, err
		}
		sw, err := m.Predict(set.own.Other(), faces)
		if err != nil {
			return nil, err
		}
		rows = append(rows, faces, rec, sw)
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	img := image.NewRGBA(image.Rect(0, 0, cols*size, len(rows)*size))
	for ri, r := range rows {
		for ci, f := range r {
			for y := range size {
				o := img.PixOffset(ci*size, ri*size+y)
				for x := range size {
					p := (y*size + x) * 3
					for c := range 3 {
						img.Pix[o+4*x+c] = toByte(f[p+c])
					}
					img.Pix[o+4*x+3] = 255
				}
			}
		}
	}
	return img, nil
}

// WritePreview writes Preview(a, b) as a PNG file to path, through a file
// beside it, so that a client downloading the preview while training goes
// on never gets half of one.
func (m *Model) WritePreview(path string, a, b [][]float32) error {
	img, err := m.Preview(a, b)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = png.Encode(f, img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("model: writing the preview %s: %w", path, err)
	}
	return nil
}

// toByte maps [0,1] to a byte, rounding, and clamps what the decoder's
// sigmoid cannot give but an input face could.
func toByte(v float32) byte {
	return byte(max(0, min(255, v*255+0.5)))
}

// spread returns up to n faces evenly spaced through faces.
func spread(faces [][]float32, n int) [][]float32 {
	if len(faces) <= n {
		return faces
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = faces[i*len(faces)/n]
	}
	return out
}
