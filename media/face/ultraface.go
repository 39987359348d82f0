package face

import (
	"image"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
)

// The UltraFace RFB-320 network (Linzaer's Ultra-Light-Fast-Generic-Face-
// Detector-1MB, ONNX export) takes a 320x240 RGB image and already decodes
// its 4420 priors: "scores" holds softmax (background, face) pairs and
// "boxes" corner-form boxes (x0, y0, x1, y1) normalised to the input.
const (
	ultraFaceFile   = "ultraface_rfb_320.onnx"
	ultraW, ultraH  = 320, 240
	ultraCandidates = 4420
)

// ultraNorm is the published preprocessing: (pixel - 127) / 128.
var ultraNorm = media.Normalization{Scale: 1.0 / 128, Offset: -127.0 / 128}

type ultraFace struct {
	net *ortutil.Model
}

func newUltraFace(path string) (*ultraFace, error) {
	net, err := ortutil.Load(path,
		[]ortutil.Tensor{{Name: "input", Shape: []int64{1, 3, ultraH, ultraW}}},
		[]ortutil.Tensor{
			{Name: "scores", Shape: []int64{1, ultraCandidates, 2}},
			{Name: "boxes", Shape: []int64{1, ultraCandidates, 4}},
		}, nil)
	if err != nil {
		return nil, err
	}
	return &ultraFace{net: net}, nil
}

func (u *ultraFace) inputSize() image.Point { return image.Pt(ultraW, ultraH) }

// minFace and maxFace were measured by scaling a portrait on a grey canvas:
// faces of 16 px to the full input height score above 0.95, 12 px 0.78.
// The smallest priors are 10 px.
func (u *ultraFace) minFace() float64 { return 20 }
func (u *ultraFace) maxFace() float64 { return 1 }

func (u *ultraFace) infer(in gocv.Mat, minScore float64, dst []Detection) ([]Detection, error) {
	if err := media.FillCHW(u.net.Input(0), in, ultraNorm); err != nil {
		return dst, err
	}
	if err := u.net.Run(); err != nil {
		return dst, err
	}
	scores, boxes := u.net.Output(0), u.net.Output(1)
	for i := 0; i < ultraCandidates; i++ {
		s := float64(scores[2*i+1])
		if !(s >= minScore) {
			continue
		}
		b := boxes[4*i : 4*i+4]
		x0, y0 := float64(b[0])*ultraW, float64(b[1])*ultraH
		x1, y1 := float64(b[2])*ultraW, float64(b[3])*ultraH
		if !(x1 > x0 && y1 > y0) {
			continue
		}
		dst = append(dst, Detection{Box: media.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}, Score: s})
	}
	return dst, nil
}

func (u *ultraFace) close() error { return u.net.Close() }
