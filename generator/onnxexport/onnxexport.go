// Package onnxexport writes a trained face-swap autoencoder (generator/model)
// as an ONNX file that ONNX Runtime runs: the shared encoder followed by one
// identity's decoder, with a dynamic batch axis.
//
// The file is built by models/nn from model.Config's layer plan (the same
// plan the GoMLX graph is built from) and the trained weights: input "face"
// [N,S,S,3] RGB in [0,1], output "output" [N,S,S,3].
package onnxexport

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trueframe/trueframe/generator/model"
	"github.com/trueframe/trueframe/models/nn"
)

// Names of the graph's input and output.
const (
	InputName  = "face"
	OutputName = "output"
)

// Opset is the ONNX operator set version the files use.
const Opset = nn.Opset

// ErrMissingWeights is returned when the weights lack a layer of the plan.
var ErrMissingWeights = nn.ErrMissingWeights

// Options describes the file. Zero fields take the defaults shown.
type Options struct {
	// GraphName is the graph's name ("trueframe_faceswap").
	GraphName string
	// Metadata is written as the model's metadata properties (model id,
	// identity, ...).
	Metadata map[string]string
}

// Write writes the network of plan with weights (as model.Model.Weights
// returns them) for size×size faces to w.
func Write(w io.Writer, plan []model.Layer, weights map[string]model.Tensor, size int, opts Options) error {
	if opts.GraphName == "" {
		opts.GraphName = "trueframe_faceswap"
	}
	return nn.WriteONNX(w, plan, weights, nn.ExportOptions{GraphName: opts.GraphName, Input: InputName, Output: OutputName,
		InputShape: [3]int{size, size, 3}, OutputShape: [3]int{size, size, 3}, Metadata: opts.Metadata})
}

// WriteDecoders exports both encoder and decoder pairs of m into the model
// directory dir, under their model.DecoderFile names.
func WriteDecoders(dir string, m *model.Model) error {
	for _, id := range []model.Identity{model.A, model.B} {
		if err := WriteFile(filepath.Join(dir, model.DecoderFile(id)), m, id); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile exports the encoder and id's decoder of m to path.
func WriteFile(path string, m *model.Model, id model.Identity) error {
	weights, err := m.Weights(id)
	if err != nil {
		return err
	}
	// Written beside and renamed into place, so that a reader (a swap
	// while training continues) never sees a truncated file.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	meta := m.Meta()
	err = Write(f, meta.Config.Plan(id), weights, meta.Config.Size, Options{Metadata: map[string]string{
		"model_id": meta.ID, "decoder": id.String(), "step": fmt.Sprint(meta.Step),
		"input": "NHWC RGB in [0,1]", "size": fmt.Sprint(meta.Config.Size),
	}})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("onnxexport: writing %s: %w", path, err)
	}
	return nil
}
