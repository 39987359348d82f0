package nn

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// SetLearningRate sets the learning-rate variable the optimizer made at
// its first step (Adam keeps it in a variable, so a schedule changes it).
func SetLearningRate(store *mlmodel.Store, lr float64) error {
	for v := range store.IterVariables() {
		if strings.HasSuffix(v.Path(), mlmodel.ScopeSeparator+optimizer.ParamLearningRate) {
			return v.SetValue(tensors.FromScalar(float32(lr)))
		}
	}
	return errors.New("nn: no learning-rate variable")
}

// CosineRate is the learning rate at step (from 1) of total: lr falling
// along a cosine to lr/10.
func CosineRate(lr float64, step, total int) float64 {
	frac := float64(step-1) / float64(max(1, total-1))
	return lr * (0.1 + 0.9*0.5*(1+math.Cos(math.Pi*frac)))
}

// BCE is the binary cross-entropy of logits z against targets y,
// elementwise: max(z,0) − z·y + log(1+e^−|z|).
func BCE(z, y *graph.Node) *graph.Node {
	return graph.Add(graph.Sub(graph.Max(z, graph.ZerosLike(z)), graph.Mul(z, y)), graph.Log1P(graph.Exp(graph.Neg(graph.Abs(z)))))
}

// Weights reads the trained variables of plan from store, keyed and shaped
// as WriteONNX wants them.
func Weights(store *mlmodel.Store, plan []Layer) (map[string]Tensor, error) {
	byPath := map[string]*mlmodel.Variable{}
	for v := range store.IterVariables() {
		byPath[strings.TrimPrefix(v.Path(), mlmodel.ScopeSeparator)] = v
	}
	w := map[string]Tensor{}
	for _, l := range plan {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		for _, p := range []struct {
			name string
			dims []int
		}{{l.Name + "/weights", wd}, {l.Name + "/biases", bd}} {
			v, ok := byPath[p.name]
			if !ok {
				return nil, fmt.Errorf("nn: variable %s missing", p.name)
			}
			t, err := v.Value()
			if err != nil {
				return nil, err
			}
			data, err := tensors.CopyFlatData[float32](t)
			if err != nil {
				return nil, err
			}
			if r := float32(l.rate()); r != 1 {
				for i := range data {
					data[i] *= r
				}
			}
			w[p.name] = Tensor{Dims: p.dims, Data: data}
		}
	}
	return w, nil
}

// Scalar reads a one-value float32 tensor (a loss), refusing NaN.
func Scalar(t *tensors.Tensor) (float64, error) {
	v, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 || math.IsNaN(float64(v[0])) {
		return 0, fmt.Errorf("nn: bad loss %v", v)
	}
	return float64(v[0]), nil
}
