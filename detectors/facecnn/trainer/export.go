package trainer

import (
	"bytes"
	"fmt"

	"github.com/trueframe/trueframe/detectors/facecnn"
	"github.com/trueframe/trueframe/models/nn"
)

// ONNX returns res's head as an ONNX model: input facecnn.InputName, the
// backbone features NHWC, output facecnn.OutputName [N,14,14,1] patch
// logits; metadata names its version and cut.
func ONNX(res *Result, version string) ([]byte, error) {
	cut, err := res.Config.FeatureCut()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = nn.WriteONNX(&buf, res.Config.Plan(), res.Weights, nn.ExportOptions{
		GraphName: "trueframe_face_cnn", Input: facecnn.InputName, Output: facecnn.OutputName,
		InputShape:  [3]int{cut.H, cut.W, cut.C},
		OutputShape: [3]int{facecnn.GridSize, facecnn.GridSize, 1},
		Metadata: map[string]string{"version": version, "cut": res.Config.Cut, "width": fmt.Sprint(res.Config.Width), "tune": fmt.Sprint(res.Config.Tune),
			"input":  "backbone features NHWC (" + facecnn.BackboneFile + " cut at " + res.Config.Cut + ", less the tuned blocks)",
			"output": "patch logits; frame logit = log-mean-exp of them (facecnn.FrameLogit)"},
	})
	return buf.Bytes(), err
}
