// Package face finds faces in images with a face-detection network run
// through ONNX Runtime.
//
// New loads one of two networks from the installed models directory:
//
//   - BlazeFace (the default): MediaPipe's full-range ("back") model,
//     256x256 input scaled to [-1,1], 896 anchors on 16x16 and 8x8 grids.
//     Besides a box it gives six keypoints (eyes, nose tip, mouth, ear
//     tragions). The anchor layout, decoding and suppression are written
//     here from the published model description.
//   - UltraFace: the RFB-320 Ultra-Light detector, 320x240 input scaled to
//     (p-127)/128, which decodes its own 4420 priors into normalised corner
//     boxes. No keypoints.
//
// ONNX Runtime must be initialised once per process before New
// (internal/ortutil.Init, in main).
//
// # Small faces: a tile pyramid
//
// Each network sees a fixed, small input, and finds faces down to about 20
// input pixels. A whole 1920x1280 photo shrunk to 256 pixels turns a 60 px
// face into 8 px, which no run would find. So Detect plans a pyramid of
// runs for each image size:
//
//	level 0  the whole image, letterboxed (centred, black padding)
//	         [+ the whole image at half scale, when a face filling the
//	          image could be too large for the network: BlazeFace's boxes
//	          drift above about 0.6 of its input]
//	level 1  overlapping tiles, 2.5x finer
//	  ...
//	level n  tiles at the scale that makes a MinFaceSize face 20 input px
//
// Tiles at each level overlap by a little more than the smallest face the
// next coarser level finds, so every face lies whole inside some tile of
// the level responsible for its size. Each run keeps only faces of the
// sizes it is responsible for and drops boxes touching an interior tile
// edge (a face cut by a tile is whole in a neighbour). The rest are merged
// by weighted non-maximum suppression (overlapping boxes averaged by
// score), and a face box lying mostly inside a larger, at least as
// confident one is dropped.
//
// # Cost
//
// Cost is one network run per tile, about 6-7 ms each single-threaded on
// the development VM (2 shared cores, measured under load, so upper
// bounds). Runs and time per image for BlazeFace (UltraFace needs similar
// or fewer runs at about the same cost each):
//
//	image        MinFaceSize  runs   time
//	1280x720     100          1      ~10 ms
//	1280x720     40           9      ~60 ms
//	1920x1400    40           26     ~180 ms
//	4000x3000    40           64     capped by Options.MaxTiles; smaller
//	                                 faces are then given up
//
// For video, set MinFaceSize to the smallest face worth analysing: a face
// needs some 100 px before its texture or landmarks say anything about
// manipulation, and at MinFaceSize 100 a 720p frame is a single run. See
// BenchmarkDetect720p and BenchmarkDetectLargePhoto.
//
// A Detector is not safe for concurrent use: it reuses its tensors and
// scratch images. Use one per goroutine. Callers must call Close.
package face
