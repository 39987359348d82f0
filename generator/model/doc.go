// Package model is the face-swap autoencoder, built and trained with GoMLX.
//
// The architecture is the classic one of face-swap tools: one encoder shared by
// both identities and one decoder per identity (A and B). Training teaches each
// decoder to rebuild its own identity's faces from the shared latent code; a
// swap then decodes a face of A with decoder B.
//
//	input  S×S×3 (RGB in [0,1], NHWC)
//	encoder  4 × [space-to-depth 2×2, conv 3×3, leaky ReLU]   S → S/16, W, 2W, 4W, 8W channels
//	         flatten, dense → Latent, dense → (S/16)²·8W, reshape
//	         upscale (nearest ×2, conv 3×3, leaky ReLU) → S/8, 8W channels
//	decoder  3 × upscale                               → S, 4W, 2W, W channels
//	         conv 5×5 → 3, sigmoid
//
// Config.Plan lists these layers; the GoMLX graph and the ONNX exporter
// (generator/onnxexport) are both built from it, so they cannot drift apart.
//
// Training (Trainer) feeds both identities in every step. Each face is first
// moved by a random similarity transform (the target), then bent by a smooth
// random grid warp (the input), as face-swap tools do, so the model learns to
// rebuild a face rather than copy pixels. The loss is mean squared error plus
// a structural term (DSSIM = (1-SSIM)/2 over 7×7 windows), summed over both
// identities, minimised with Adam. Checkpoints (GoMLX's format, which holds the
// weights, the optimizer state and the global step) are written every
// TrainOptions.CheckpointEvery steps and when training is cancelled; a Trainer
// opened on a directory that holds one resumes from it.
//
// GoMLX builds graphs with panics; every entry point here recovers them into
// errors.
package model
