package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/gomlx/gomlx/core/tensors"
	mlmodel "github.com/gomlx/gomlx/ml/model"
	"google.golang.org/protobuf/proto"
)

// ErrNotPlan is returned by ReadONNX for a model whose weights do not fit
// the plan: another architecture, or a file WriteONNX did not write.
var ErrNotPlan = errors.New("nn: the model does not hold this plan's weights")

// ReadONNX reads back the weights of a model WriteONNX wrote for plan,
// keyed and laid out as WriteONNX takes them, so that training can resume
// from an exported model (fine-tuning a registered version) without a
// checkpoint of its own.
func ReadONNX(data []byte, plan []Layer) (map[string]Tensor, error) {
	members, err := ReadONNXMembers(data, plan)
	if err != nil {
		return nil, err
	}
	if len(members) != 1 {
		return nil, fmt.Errorf("%w: an ensemble of %d networks, not one", ErrNotPlan, len(members))
	}
	return members[0], nil
}

// ReadONNXMembers reads back the weights of each network of a model
// WriteEnsembleONNX (or WriteONNX: one member) wrote for plan.
func ReadONNXMembers(data []byte, plan []Layer) ([]map[string]Tensor, error) {
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("nn: reading the ONNX model: %w", err)
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("%w: no graph", ErrNotPlan)
	}
	inits := map[string]*onnx.TensorProto{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = t
	}
	has := func(prefix string) bool {
		for name := range inits {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		}
		return false
	}
	if !has("m0_") {
		w, err := readMember(inits, plan, "")
		if err != nil {
			return nil, err
		}
		return []map[string]Tensor{w}, nil
	}
	var members []map[string]Tensor
	for k := 0; ; k++ {
		prefix := fmt.Sprintf("m%d_", k)
		if !has(prefix) {
			return members, nil
		}
		w, err := readMember(inits, plan, prefix)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", k, err)
		}
		members = append(members, w)
	}
}

// readMember reads the weights of one network, its initialisers named
// prefix+"l<index>_…".
func readMember(inits map[string]*onnx.TensorProto, plan []Layer, prefix string) (map[string]Tensor, error) {
	out := map[string]Tensor{}
	for i, l := range plan {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		// WriteONNX names a layer's initialisers by its index in the plan.
		w, err := Floats(inits[fmt.Sprintf("%sl%d_w", prefix, i)], prod(wd))
		if err != nil {
			return nil, fmt.Errorf("%w: layer %s weights: %v", ErrNotPlan, l.Name, err)
		}
		b, err := Floats(inits[fmt.Sprintf("%sl%d_b", prefix, i)], prod(bd))
		if err != nil {
			return nil, fmt.Errorf("%w: layer %s biases: %v", ErrNotPlan, l.Name, err)
		}
		if l.Kind == Conv {
			// OIHW (ONNX) → HWIO (the plan's layout).
			k := l.K
			hwio := make([]float32, len(w))
			for h := range k {
				for ww := range k {
					for ci := range l.In {
						for co := range l.Out {
							hwio[((h*k+ww)*l.In+ci)*l.Out+co] = w[((co*l.In+ci)*k+h)*k+ww]
						}
					}
				}
			}
			w = hwio
		}
		if l.Kind == Depthwise {
			w = depthwiseLayout(w, l.K, l.In, false)
		}
		out[l.Name+"/weights"] = Tensor{Dims: wd, Data: w}
		out[l.Name+"/biases"] = Tensor{Dims: bd, Data: b}
	}
	return out, nil
}

// Floats returns the n float32 values of the ONNX initialiser t, from
// whichever field holds them; a nil t, another type or another count is an
// error.
func Floats(t *onnx.TensorProto, n int) ([]float32, error) {
	switch {
	case t == nil:
		return nil, errors.New("missing")
	case t.DataType != int32(onnx.TensorProto_FLOAT):
		return nil, fmt.Errorf("data type %d, want float", t.DataType)
	case len(t.FloatData) == n:
		return append([]float32(nil), t.FloatData...), nil
	case len(t.RawData) == 4*n:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d raw bytes and %d values, want %d values", len(t.RawData), len(t.FloatData), n)
}

// SetWeights puts weights (as Weights returns them) into store as the
// variables of plan, before any graph is built: the trainer then starts
// from them instead of drawing random ones (GoMLX reuses a variable that
// exists, and initialises only those without a value).
func SetWeights(store *mlmodel.Store, plan []Layer, weights map[string]Tensor) error {
	for _, l := range plan {
		wd, bd := l.WeightDims()
		if wd == nil {
			continue
		}
		w, b, err := lookup(weights, l)
		if err != nil {
			return err
		}
		for _, p := range []struct {
			name string
			dims []int
			data []float32
		}{{l.Name + "/weights", wd, w.Data}, {l.Name + "/biases", bd, b.Data}} {
			path := mlmodel.ScopeSeparator + strings.TrimPrefix(p.name, mlmodel.ScopeSeparator)
			data := append([]float32(nil), p.data...)
			if r := float32(l.rate()); r != 1 {
				for i := range data {
					data[i] /= r // the variable holds weight / Rate (Layer.Rate)
				}
			}
			if _, err := store.CreateVariable(path, tensors.FromFlatDataAndDimensions(data, p.dims...)); err != nil {
				return fmt.Errorf("nn: %s: %w", p.name, err)
			}
		}
	}
	return nil
}
