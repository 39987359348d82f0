package trainer

import (
	"bytes"
	"fmt"

	"github.com/trueframe/trueframe/detectors/motion"
	"github.com/trueframe/trueframe/models/nn"
)

// ONNX returns res's network (or the ensemble of its networks: the mean of
// their logits) as an ONNX model: input motion.InputName
// [N,1,WindowLen,InputChannels], output motion.OutputName [N,1,1,1].
func ONNX(res *Result, version string) ([]byte, error) {
	var buf bytes.Buffer
	err := nn.WriteEnsembleONNX(&buf, res.Config.Plan(), res.Members, nn.ExportOptions{
		GraphName: "trueframe_motion", Input: motion.InputName, Output: motion.OutputName,
		InputShape:  [3]int{1, motion.WindowLen, motion.InputChannels},
		OutputShape: [3]int{1, 1, 1},
		Metadata: map[string]string{"version": version, "width": fmt.Sprint(res.Config.Width), "members": fmt.Sprint(len(res.Members)),
			"input": "window of motion.WindowLen samples at motion.Rate, motion.WindowInput", "output": "window logit"},
	})
	return buf.Bytes(), err
}
