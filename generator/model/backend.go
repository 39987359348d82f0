package model

import (
	"fmt"

	"github.com/gomlx/compute"

	"github.com/trueframe/trueframe/models/nn"
)

// Backend names accepted by NewBackend (models/nn's).
const (
	BackendGo   = nn.BackendGo
	BackendONNX = nn.BackendONNX
)

// ErrUnknownBackend is returned by NewBackend for a name it does not know.
var ErrUnknownBackend = nn.ErrUnknownBackend

// NewBackend returns a GoMLX compute backend by name (see nn.NewBackend).
func NewBackend(name string) (compute.Backend, error) { return nn.NewBackend(name) }

// recoverErr turns a panic (GoMLX reports graph-building errors by panicking)
// into an error stored in *err. It must be deferred directly: recover works
// only there, so it cannot hand the work to nn.RecoverErr.
func recoverErr(err *error) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("model: %w", e)
		} else {
			*err = fmt.Errorf("model: %v", r)
		}
	}
}
