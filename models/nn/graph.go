package nn

import (
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	mlmodel "github.com/gomlx/gomlx/ml/model"
)

// Apply builds the layers of plan on x, an NHWC float32 batch, with the
// variables under scope.
func Apply(scope *mlmodel.Scope, plan []Layer, x *graph.Node) *graph.Node {
	var marks []*graph.Node
	for _, l := range plan {
		switch l.Kind {
		case Mark:
			marks = append(marks, x)
			continue
		case AddMark:
			x = graph.Add(x, marks[len(marks)-1])
			marks = marks[:len(marks)-1]
			continue
		case Depthwise:
			w, b := layerWeights(scope, l, x.Graph())
			// A convolution in In groups of one channel. (GoMLX differentiates
			// it channel by channel: 0.8 s a step for a 192-channel layer on
			// a batch of 64 28×28 maps on 2 cores, against 2.2 s for k²
			// shifted copies gathered and summed.)
			x = graph.Convolve(x, graph.Reshape(w, l.K, l.K, 1, l.In)).FeatureGroupCount(l.In).
				PaddingPerDim([][2]int{{l.K / 2, l.K / 2}, {l.K / 2, l.K / 2}}).Done()
			x = graph.Add(x, graph.Reshape(b, 1, 1, 1, l.In))
		case Conv:
			w, b := layerWeights(scope, l, x.Graph())
			x = graph.Convolve(x, w).StridePerAxis(l.Stride, l.Stride).
				PaddingPerDim([][2]int{l.Pad, l.Pad}).Done()
			x = graph.Add(x, graph.Reshape(b, 1, 1, 1, l.Out))
		case Dense:
			w, b := layerWeights(scope, l, x.Graph())
			n := x.Shape().Dimensions[0]
			x = graph.Reshape(x, n, l.In)
			x = graph.Add(graph.MatMul(x, w), graph.Reshape(b, 1, l.Out))
		case Upsample:
			d := x.Shape().Dimensions
			n, h, wd, c := d[0], d[1], d[2], d[3]
			x = graph.Reshape(x, n, h, 1, wd, 1, c)
			x = graph.BroadcastToDims(x, n, h, 2, wd, 2, c)
			x = graph.Reshape(x, n, 2*h, 2*wd, c)
			continue
		case SpaceToDepth:
			d := x.Shape().Dimensions
			n, h, wd, c := d[0], d[1], d[2], d[3]
			x = graph.Reshape(x, n, h/2, 2, wd/2, 2, c)
			x = graph.TransposeAllDims(x, 0, 1, 3, 2, 4, 5)
			x = graph.Reshape(x, n, h/2, wd/2, 4*c)
			continue
		case Unflatten:
			n := x.Shape().Dimensions[0]
			x = graph.Reshape(x, n, l.Shape[0], l.Shape[1], l.Shape[2])
			continue
		}
		switch l.Act {
		case LeakyReLU:
			x = graph.Where(graph.GreaterOrEqual(x, graph.ScalarZero(x.Graph(), x.DType())), x, graph.MulScalar(x, LeakySlope))
		case Sigmoid:
			x = graph.Sigmoid(x)
		case ReLU6:
			x = graph.ClipScalar(x, 0, 6)
		}
	}
	return x
}

// layerWeights returns the graph values of l's weights and biases: its
// variables times its Rate.
func layerWeights(scope *mlmodel.Scope, l Layer, g *graph.Graph) (w, b *graph.Node) {
	wd, bd := l.WeightDims()
	w = in(scope, l.Name).VariableWithShape("weights", shapes.Make(dtypes.Float32, wd...)).ValueGraph(g)
	b = in(scope, l.Name).VariableWithShape("biases", shapes.Make(dtypes.Float32, bd...)).ValueGraph(g)
	if r := l.rate(); r != 1 {
		w, b = graph.MulScalar(w, r), graph.MulScalar(b, r)
	}
	return w, b
}

// in returns the scope at path (parts separated by "/") under scope.
func in(scope *mlmodel.Scope, path string) *mlmodel.Scope {
	for _, p := range strings.Split(path, "/") {
		scope = scope.At("%s", p)
	}
	return scope
}
