package nn

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute-onnx"      // registers the ONNX Runtime backend ("onnx")
	_ "github.com/gomlx/compute/gobackend" // registers the pure-Go backend ("go")
)

// Backend names accepted by NewBackend.
const (
	// BackendGo is GoMLX's pure-Go backend: slow, but needs nothing installed.
	BackendGo = "go"
	// BackendONNX is GoMLX's ONNX Runtime backend (CPU). It finds the ONNX
	// Runtime library through the ONNXRUNTIME_SHARED_LIBRARY_PATH environment
	// variable, which only main (or a test) may set.
	BackendONNX = "onnx"
)

// ErrUnknownBackend is returned by NewBackend for a name it does not know.
var ErrUnknownBackend = errors.New("nn: unknown backend")

// NewBackend returns a GoMLX compute backend by name: BackendGo or
// BackendONNX ("" means BackendGo). Callers must call Finalize on it when done.
func NewBackend(name string) (b compute.Backend, err error) {
	config := name
	switch name {
	case "", BackendGo:
		config = BackendGo
	case BackendONNX:
		config = BackendONNX + ":cpu"
	default:
		return nil, fmt.Errorf("%w: %q (want %s or %s)", ErrUnknownBackend, name, BackendGo, BackendONNX)
	}
	if !slices.Contains(compute.List(), configName(config)) {
		return nil, fmt.Errorf("%w: %q is not compiled in", ErrUnknownBackend, name)
	}
	defer RecoverErr(&err)
	b, err = compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("nn: starting backend %s: %w", name, err)
	}
	return b, nil
}

func configName(config string) string {
	for i, c := range config {
		if c == ':' {
			return config[:i]
		}
	}
	return config
}

// RecoverErr turns a panic (GoMLX reports graph-building errors by panicking)
// into an error stored in *err.
func RecoverErr(err *error) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("nn: %w", e)
		} else {
			*err = fmt.Errorf("nn: %v", r)
		}
	}
}
