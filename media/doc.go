// Package media holds the geometry and image helpers shared by trueframe's
// media subpackages and their users:
//
//   - media/video decodes a file by path into frames with timestamps;
//   - media/face finds faces (BlazeFace or UltraFace through ONNX Runtime);
//   - media/landmark fits 468 Face Mesh landmarks and eye contours, measures
//     eye openness and aligns face crops;
//   - media/track follows faces across frames into tracks with stable ids.
//
// Faces, boxes and landmarks are plain values; OpenCV Mats and ONNX tensors
// stay inside these packages and are freed explicitly (Close).
package media
