// Package ortutil wraps onnxruntime_go for the fixed-shape float32 models
// trueframe runs: one session with preallocated input and output tensors.
package ortutil

import (
	"errors"
	"fmt"
	"os"

	ort "github.com/yalue/onnxruntime_go"
)

// QuantPrecisionKey is ONNX Runtime's session option for exact quantized
// matrix products on x86 CPUs without VNNI; every session sets it.
const QuantPrecisionKey = "session.x64quantprecision"

// Init loads the ONNX Runtime shared library and creates the process-wide
// environment. It is a no-op when the environment already exists. The
// environment is process-global, so only main (and test helpers) call Init.
func Init(libPath string) error {
	if ort.IsInitialized() {
		return nil
	}
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("onnx runtime %s: %w", libPath, err)
	}
	return nil
}

// AsIsEnv is the environment variable that, set to 1, turns Options.AsIs on
// for every model.
const AsIsEnv = "TRUEFRAME_ORT_AS_IS"

// Tensor names one input or output of a model and its fixed shape.
type Tensor struct {
	Name  string
	Shape []int64
}

// Options tunes a session. The zero value runs single-threaded, which is what
// the analysis pipeline wants: it parallelises across frames, not inside one.
type Options struct {
	IntraOpThreads int // 0 means 1
	// AsIs loads the file exactly as written, without the graph rewrites
	// that speed models up (see preluToConv): for comparing outputs, or to
	// rule the rewrite out when a model misbehaves. Setting the environment
	// variable TRUEFRAME_ORT_AS_IS=1 does the same for every model without
	// a rebuild.
	AsIs bool
}

// Model is one loaded model with its tensors. It is not safe for concurrent
// use: fill the inputs, call Run, read the outputs, from one goroutine at a time.
// Callers must call Close.
type Model struct {
	path      string
	rewritten int
	session   *ort.AdvancedSession
	inputs    []*ort.Tensor[float32]
	outputs   []*ort.Tensor[float32]
}

// Load opens the ONNX file at path with the given input and output tensors.
func Load(path string, inputs, outputs []Tensor, opts *Options) (*Model, error) {
	return load(path, nil, inputs, outputs, opts)
}

// LoadData is Load for a model held in memory (one embedded in the
// binary); name is what errors call it.
func LoadData(name string, data []byte, inputs, outputs []Tensor, opts *Options) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("loading model %s: no data", name)
	}
	return load(name, data, inputs, outputs, opts)
}

func load(path string, data []byte, inputs, outputs []Tensor, opts *Options) (_ *Model, err error) {
	if !ort.IsInitialized() {
		return nil, errors.New("onnx runtime not initialised")
	}
	m := &Model{path: path}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	mk := func(specs []Tensor) ([]*ort.Tensor[float32], []ort.Value, []string, error) {
		var ts []*ort.Tensor[float32]
		var vs []ort.Value
		var names []string
		for _, s := range specs {
			t, err := ort.NewEmptyTensor[float32](ort.NewShape(s.Shape...))
			if err != nil {
				return ts, nil, nil, fmt.Errorf("tensor %s: %w", s.Name, err)
			}
			ts = append(ts, t)
			vs = append(vs, t)
			names = append(names, s.Name)
		}
		return ts, vs, names, nil
	}
	var inVals, outVals []ort.Value
	var inNames, outNames []string
	if m.inputs, inVals, inNames, err = mk(inputs); err != nil {
		return nil, err
	}
	if m.outputs, outVals, outNames, err = mk(outputs); err != nil {
		return nil, err
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	threads := 1
	if opts != nil && opts.IntraOpThreads > 0 {
		threads = opts.IntraOpThreads
	}
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	// x86 CPUs without VNNI (AVX2; AVX-512 without VNNI) multiply uint8
	// activations by int8 weights in pairs whose sum saturates at 16 bits,
	// so a quantized model answers differently there than on a VNNI CPU:
	// the int8 MobileNetV2 under face_cnn scored a real GRID clip 0.67
	// on an AVX2-only EPYC against 0.27 elsewhere. This option makes ONNX
	// Runtime use its exact uint8×uint8 kernels on those CPUs (slower, and
	// only there), so every machine gets the same integer products. (Float
	// kernels still round differently on AVX2 and AVX-512 CPUs; nothing
	// here can pin those: README, "Same file, same verdict?")
	if err := so.AddSessionConfigEntry(QuantPrecisionKey, "1"); err != nil {
		return nil, err
	}
	if (opts == nil || !opts.AsIs) && os.Getenv(AsIsEnv) != "1" {
		// A model the rewrite cannot parse, or whose rewrite ONNX Runtime
		// refuses, loads as written below: slower, never wrong.
		raw := data
		if raw == nil {
			raw, _ = os.ReadFile(path)
		}
		if raw != nil {
			if fast, n, err := preluToConv(raw); err == nil && n > 0 {
				m.session, err = ort.NewAdvancedSessionWithONNXData(fast, inNames, outNames, inVals, outVals, so)
				if err == nil {
					m.rewritten = n
					return m, nil
				}
			}
		}
	}
	if data != nil {
		m.session, err = ort.NewAdvancedSessionWithONNXData(data, inNames, outNames, inVals, outVals, so)
	} else {
		m.session, err = ort.NewAdvancedSession(path, inNames, outNames, inVals, outVals, so)
	}
	if err != nil {
		return nil, fmt.Errorf("loading model %s: %w", path, err)
	}
	return m, nil
}

// Rewritten reports how many operations of the file were rewritten for
// speed when it loaded (0 when it runs as written).
func (m *Model) Rewritten() int { return m.rewritten }

// Input returns the data of input i, to be filled before Run.
func (m *Model) Input(i int) []float32 { return m.inputs[i].GetData() }

// Output returns the data of output i, valid after Run until the next Run.
func (m *Model) Output(i int) []float32 { return m.outputs[i].GetData() }

// Run runs the model on the current inputs.
func (m *Model) Run() error {
	if err := m.session.Run(); err != nil {
		return fmt.Errorf("running %s: %w", m.path, err)
	}
	return nil
}

// Close frees the session and tensors. It is safe to call more than once.
func (m *Model) Close() error {
	var errs []error
	if m.session != nil {
		errs = append(errs, m.session.Destroy())
		m.session = nil
	}
	for _, t := range append(m.inputs, m.outputs...) {
		errs = append(errs, t.Destroy())
	}
	m.inputs, m.outputs = nil, nil
	return errors.Join(errs...)
}
