// Package generator is trueframe's built-in face-swap generator: the classic
// deepfake autoencoder (one shared encoder, one decoder per identity) trained
// on aligned face sets, used to produce labelled fakes for detector training.
//
// The work is split by concern:
//
//	generator/faceset     extract aligned face crops from videos (detect, fit landmarks, align)
//	generator/model       the autoencoder in GoMLX: architecture, augmentation, loss, training, checkpoints
//	generator/onnxexport  write encoder+decoder pairs as ONNX files (dynamic batch) for ONNX Runtime
//	generator/swap        convert a target video: align, encode, decode as the other identity, blend back
//	generator/dataset     labelled fake datasets from a folder of real clips
//
// cmd/trueframe's "generate" command wires them together.
package generator
