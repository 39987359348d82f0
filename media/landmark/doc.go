// Package landmark fits MediaPipe Face Mesh (468 landmarks) and MediaPipe
// Iris (eye lid contour and iris) to faces through ONNX Runtime, measures eye
// openness and aligns face crops.
//
// A Mesher holds both models. For each face:
//
//	roi := landmark.ROIFromBox(det.Box, &det.RightEye, &det.LeftEye) // first frame: from a detector
//	face, err := mesher.Fit(frame, roi)                                // 468 points in image pixels
//	if face.Presence < 0.5 { /* lost: run the detector again */ }
//	eyes, err := mesher.Eyes(frame, face)                              // lids, iris, openness
//	crop, toCrop, err := landmark.Align(frame, face, 256)               // eyes level at canonical places
//	roi = face.NextROI()                                               // next frame: track without a detector
//
// Coordinates are image pixels with the first pixel's centre at (0,0), as in
// OpenCV. "Right" and "left" are the subject's: the right eye appears on the
// image's left in a frontal view. Angles are counter-clockwise in image
// display, as media.ROI.Angle.
//
// Findings about the models that the code relies on, checked on the shared
// data (see the tests):
//
//   - Both models take RGB planes scaled to [-1,1]; [0,1] gives landmarks
//     within about a pixel, raw 0..255 wrong ones. Their outputs are in crop
//     pixels with the crop's left edge at 0, half a pixel off ours.
//   - The Iris model was trained on right eyes: its point 0 is the corner on
//     the crop's left, which for a right eye is the outer corner. The left
//     eye is mirrored before it runs (as MediaPipe does), so both eyes come
//     back in the same order: points 0–15 are the lid contour (outer corner,
//     lower lid, inner corner 8, upper lid from its outer end), matching the
//     mesh points RightEyeIrisContour and LeftEyeIrisContour; the other 55 are
//     brow and surrounding skin.
//   - A detector box gives a worse first fit than the ROI of the mesh's own
//     landmarks (NextROI); refitting once helps, as tracking does anyway.
//
// A Mesher is not safe for concurrent use and owns ONNX Runtime sessions:
// give each worker its own and Close it. The package functions and Face
// methods are pure and safe to call from any goroutine.
package landmark
