package media

import (
	"errors"
	"fmt"

	"gocv.io/x/gocv"
)

// ErrBadImage is returned for an empty Mat or one that is not 8-bit BGR.
// gocv aborts the process on an OpenCV exception, so every entry point that
// takes a Mat from outside checks it first.
var ErrBadImage = errors.New("media: not a non-empty 8-bit BGR image")

// CheckBGR returns ErrBadImage unless img is a non-empty 8-bit 3-channel Mat.
func CheckBGR(img gocv.Mat) error {
	if img.Ptr() == nil {
		return fmt.Errorf("%w (nil Mat)", ErrBadImage)
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 || img.Rows() < 2 || img.Cols() < 2 {
		return fmt.Errorf("%w (type %v, %dx%d)", ErrBadImage, img.Type(), img.Cols(), img.Rows())
	}
	return nil
}

// Normalization says how 8-bit pixels map to model input values.
type Normalization struct {
	Scale, Offset float32 // v = p*Scale + Offset
}

var (
	// UnitRange maps 0..255 to [0,1].
	UnitRange = Normalization{Scale: 1.0 / 255, Offset: 0}
	// SymmetricRange maps 0..255 to [-1,1].
	SymmetricRange = Normalization{Scale: 2.0 / 255, Offset: -1}
)

// FillCHW writes a BGR 8-bit image (already the model's size) into dst as
// RGB planes (NCHW, batch 1) with the given normalization.
func FillCHW(dst []float32, bgr gocv.Mat, n Normalization) error {
	if err := CheckBGR(bgr); err != nil {
		return err
	}
	w, h := bgr.Cols(), bgr.Rows()
	if len(dst) != 3*w*h {
		return fmt.Errorf("media: tensor holds %d values, image %dx%dx3", len(dst), w, h)
	}
	data, err := bgr.DataPtrUint8()
	if err != nil {
		return err
	}
	if !bgr.IsContinuous() {
		return errors.New("media: image not continuous")
	}
	plane := w * h
	for i := 0; i < plane; i++ {
		b, g, r := data[3*i], data[3*i+1], data[3*i+2]
		dst[i] = float32(r)*n.Scale + n.Offset
		dst[plane+i] = float32(g)*n.Scale + n.Offset
		dst[2*plane+i] = float32(b)*n.Scale + n.Offset
	}
	return nil
}

// FillHWC writes a BGR 8-bit image into dst as interleaved RGB (NHWC, batch 1).
func FillHWC(dst []float32, bgr gocv.Mat, n Normalization) error {
	if err := CheckBGR(bgr); err != nil {
		return err
	}
	w, h := bgr.Cols(), bgr.Rows()
	if len(dst) != 3*w*h {
		return fmt.Errorf("media: tensor holds %d values, image %dx%dx3", len(dst), w, h)
	}
	if !bgr.IsContinuous() {
		return errors.New("media: image not continuous")
	}
	data, err := bgr.DataPtrUint8()
	if err != nil {
		return err
	}
	for i := 0; i < w*h; i++ {
		dst[3*i] = float32(data[3*i+2])*n.Scale + n.Offset
		dst[3*i+1] = float32(data[3*i+1])*n.Scale + n.Offset
		dst[3*i+2] = float32(data[3*i])*n.Scale + n.Offset
	}
	return nil
}

var colorBlack = colorRGBA(0, 0, 0)
