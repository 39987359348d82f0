package fakes

import (
	"fmt"
	"math"
	"math/rand"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/media"
)

// FaceOptions describes a synthetic frame. Zero fields take the defaults
// shown by DefaultFaceOptions.
type FaceOptions struct {
	Width, Height int
	Face          Ellipse
	Skin          [3]float64 // face colour, BGR
	Noise         float64    // standard deviation of the sensor noise added everywhere
	Seed          int64
}

// DefaultFaceOptions returns a 640×480 frame with a face of 160×210 pixels.
func DefaultFaceOptions() FaceOptions {
	return FaceOptions{
		Width: 640, Height: 480,
		Face:  Ellipse{Center: media.Point{X: 320, Y: 210}, RX: 80, RY: 105},
		Skin:  [3]float64{120, 155, 205},
		Noise: 4,
		Seed:  1,
	}
}

// SyntheticFace draws a frame with a textured background, hair, a neck,
// clothing and a skin-coloured elliptical face with eyes, brows and mouth,
// and returns it with landmarks fabricated by EllipseLandmarks. Nil opts
// means DefaultFaceOptions. The caller must Close the Mat.
func SyntheticFace(opts *FaceOptions) (gocv.Mat, []media.Point, error) {
	o := DefaultFaceOptions()
	if opts != nil {
		if opts.Width > 0 {
			o.Width = opts.Width
		}
		if opts.Height > 0 {
			o.Height = opts.Height
		}
		if opts.Face.RX > 0 && opts.Face.RY > 0 {
			o.Face = opts.Face
		}
		if opts.Skin != ([3]float64{}) {
			o.Skin = opts.Skin
		}
		if opts.Noise > 0 {
			o.Noise = opts.Noise
		}
		if opts.Seed != 0 {
			o.Seed = opts.Seed
		}
	}
	if o.Width < 2 || o.Height < 2 || o.Width > 1<<13 || o.Height > 1<<13 {
		return gocv.Mat{}, nil, fmt.Errorf("fakes: bad frame size %dx%d", o.Width, o.Height)
	}
	img := gocv.NewMatWithSize(o.Height, o.Width, gocv.MatTypeCV8UC3)
	data, err := img.DataPtrUint8()
	if err != nil {
		img.Close()
		return gocv.Mat{}, nil, err
	}
	rng := rand.New(rand.NewSource(o.Seed))
	e := o.Face
	feats := features(e)
	// Texture on 3×3 blocks gives the background structure at a scale a
	// median filter keeps, unlike the per-pixel sensor noise.
	bw, bh := o.Width/3+1, o.Height/3+1
	tex := make([]float64, bw*bh)
	for i := range tex {
		tex[i] = rng.NormFloat64() * 12
	}
	inEllipse := func(x, y float64, c media.Point, rx, ry float64) float64 {
		dx, dy := (x-c.X)/rx, (y-c.Y)/ry
		return dx*dx + dy*dy
	}
	for y := 0; y < o.Height; y++ {
		for x := 0; x < o.Width; x++ {
			fx, fy := float64(x), float64(y)
			t := tex[(y/3)*bw+x/3]
			// Background: a wall with stripes and blotches.
			px := [3]float64{
				95 + 35*math.Sin(fx/23) + 20*math.Cos(fy/31) + t,
				110 + 25*math.Sin((fx+fy)/37) + t,
				100 + 30*math.Cos(fx/41-fy/29) + t,
			}
			d := inEllipse(fx, fy, e.Center, e.RX, e.RY)
			// Clothing and neck below the face.
			if fy > e.Center.Y+1.35*e.RY && math.Abs(fx-e.Center.X) < 2.6*e.RX {
				px = [3]float64{140 + 0.3*t, 70 + 0.3*t, 40 + 0.3*t}
			}
			if fy > e.Center.Y+0.3*e.RY && fy < e.Center.Y+1.45*e.RY && math.Abs(fx-e.Center.X) < 0.62*e.RX {
				shade := 0.86 + 0.06*math.Abs(fx-e.Center.X)/(0.62*e.RX)
				px = [3]float64{o.Skin[0] * shade, o.Skin[1] * shade, o.Skin[2] * shade}
			}
			// Hair: a cap over the top of the head, just outside the oval.
			if d > 1 && inEllipse(fx, fy, media.Point{X: e.Center.X, Y: e.Center.Y - 0.05*e.RY}, 1.12*e.RX, 1.12*e.RY) <= 1 && fy < e.Center.Y-0.2*e.RY {
				px = [3]float64{30 + 0.5*t, 40 + 0.5*t, 55 + 0.5*t}
			}
			if d <= 1 {
				shade := 1 - 0.12*d
				px = [3]float64{o.Skin[0] * shade, o.Skin[1] * shade, o.Skin[2] * shade}
				for k := range px {
					px[k] += 0.25 * t
				}
				for _, f := range feats {
					if inEllipse(fx, fy, f.c, f.rx, f.ry) > 1 {
						continue
					}
					switch f.kind {
					case "right_eye", "left_eye":
						px = [3]float64{225, 230, 235}
						if inEllipse(fx, fy, f.c, 0.35*f.rx, 0.9*f.ry) <= 1 {
							px = [3]float64{40, 50, 60}
						}
					case "right_brow", "left_brow":
						px = [3]float64{35, 45, 60}
					case "mouth":
						px = [3]float64{95, 95, 175}
					}
				}
			}
			i := 3 * (y*o.Width + x)
			for k := 0; k < 3; k++ {
				data[i+k] = clamp8(px[k] + rng.NormFloat64()*o.Noise)
			}
		}
	}
	return img, EllipseLandmarks(e), nil
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0 || math.IsNaN(v):
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// AddNoise returns a copy of img with Gaussian noise of standard deviation
// sigma added to every channel (fresh sensor noise for another frame). The
// caller must Close the result.
func AddNoise(img gocv.Mat, sigma float64, seed int64) (gocv.Mat, error) {
	if err := media.CheckBGR(img); err != nil {
		return gocv.Mat{}, err
	}
	out := img.Clone()
	d, err := out.DataPtrUint8()
	if err != nil {
		out.Close()
		return gocv.Mat{}, err
	}
	rng := rand.New(rand.NewSource(seed))
	for i, v := range d {
		d[i] = clamp8(float64(v) + rng.NormFloat64()*sigma)
	}
	return out, nil
}
