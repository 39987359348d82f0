package model

import (
	"github.com/gomlx/gomlx/core/graph"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/trueframe/trueframe/models/nn"
)

// apply builds the layers of plan on x with the variables under scope.
func apply(scope *mlmodel.Scope, plan []Layer, x *graph.Node) *graph.Node {
	return nn.Apply(scope, plan, x)
}

// dssim returns (1-SSIM)/2 of two NHWC batches in [0,1], averaged over the
// batch, with 7×7 uniform windows (no padding) and the usual constants.
func dssim(x, y *graph.Node) *graph.Node {
	const c1, c2 = 0.01 * 0.01, 0.03 * 0.03
	pool := func(v *graph.Node) *graph.Node { return boxFilter(v, 7) }
	mx, my := pool(x), pool(y)
	sxx := graph.Sub(pool(graph.Mul(x, x)), graph.Mul(mx, mx))
	syy := graph.Sub(pool(graph.Mul(y, y)), graph.Mul(my, my))
	sxy := graph.Sub(pool(graph.Mul(x, y)), graph.Mul(mx, my))
	num := graph.Mul(graph.AddScalar(graph.MulScalar(graph.Mul(mx, my), 2), c1), graph.AddScalar(graph.MulScalar(sxy, 2), c2))
	den := graph.Mul(graph.AddScalar(graph.Add(graph.Mul(mx, mx), graph.Mul(my, my)), c1), graph.AddScalar(graph.Add(sxx, syy), c2))
	ssim := graph.ReduceAllMean(graph.Div(num, den))
	return graph.DivScalar(graph.OneMinus(ssim), 2)
}

// boxFilter returns the mean of each k×k window of v (NHWC, no padding).
// It is a convolution with a constant kernel over each channel on its own
// rather than a mean pool: GoMLX's ONNX Runtime backend lacks the Pad
// operation the pooling gradient needs.
func boxFilter(v *graph.Node, k int) *graph.Node {
	d := v.Shape().Dimensions
	n, h, w, c := d[0], d[1], d[2], d[3]
	x := graph.TransposeAllDims(v, 0, 3, 1, 2) // [N, C, H, W]
	x = graph.Reshape(x, n*c, h, w, 1)
	kernel := graph.BroadcastToDims(graph.Scalar(v.Graph(), v.DType(), 1/float64(k*k)), k, k, 1, 1)
	x = graph.Convolve(x, kernel).StridePerAxis(1, 1).NoPadding().Done()
	x = graph.Reshape(x, n, c, h-k+1, w-k+1)
	return graph.TransposeAllDims(x, 0, 2, 3, 1)
}

// reconLoss is the per-identity loss: MSE + w·DSSIM.
func reconLoss(pred, target *graph.Node, w float64) *graph.Node {
	mse := graph.ReduceAllMean(graph.Square(graph.Sub(pred, target)))
	if w == 0 {
		return mse
	}
	return graph.Add(mse, graph.MulScalar(dssim(pred, target), w))
}
