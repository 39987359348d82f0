// Package skin is the "skin_tone" detector: it looks for a face whose colour
// does not belong to the head it sits on, the mark of a swap that was
// colour-matched to the target and pasted inside the face outline.
//
// For every sampled frame (at most one per Options.Interval, 5 per second by
// default) it cuts a crop around the face, shrinks it so the face oval is
// about 128 pixels wide, and labels regions from the 468 landmarks:
//
//	surround   everything in the crop outside 1.30× the oval (scene lighting)
//	neck/jaw   1.04–1.30× the oval, below the face centre, skin-like pixels
//	rings      the oval scaled 1.00, 0.95, …, 0.80 about its centroid
//	inner      inside 0.80× the oval, minus eyes, brows and mouth
//
// Neck pixels count when skin-like, inside the classic YCrCb box (Cr
// 133–173, Cb 77–127, Y > 40). Face pixels, already bounded by the
// landmarks, count unless dark (Y ≤ 40), grey (CrCb within 6 of neutral) or
// on the blue-green side (Cr ≤ 128): hair, glasses and shadow drop out, but
// a face pasted in an unnatural tone is measured rather than filtered away
// (the skin box would keep only its few natural-looking pixels). Region
// colours are per-channel medians in CIE Lab, so stray hair or background
// that passes the test does not move them. Colours are
// compared as shading-normalised chromaticity, a*·76/(L*+16) and likewise
// b*, which does not change when a region is simply darker (a shadowed neck).
//
// Measurements:
//
//	chroma_delta_e  median over frames of the chroma distance inner vs neck
//	border_delta_e  median over frames of the largest chroma step between
//	                rings 0.1 apart from the outline inwards (a blend seam)
//	flicker_ratio   RMS frame-to-frame change of the face colour relative to
//	                the surround's, over the RMS change of the surround plus
//	                1 unit: a swap re-matched per frame wobbles on its own,
//	                whereas lighting changes move face and scene together
//	frames_used, frames_skipped, neck_frames, flicker_pairs, face_jitter,
//	scene_jitter
//
// Each measure is ramped onto [0,1] (chroma 6→16, border 4→10, flicker
// 1.5→4) and the three are combined as a noisy OR with weight 0.6 each, so
// one measure alone gives at most 0.6. The ranges are conservative because
// real faces and necks differ (make-up, flush, mixed lighting). Confidence
// grows with the frames used (full at 10), the face width (full at 3×
// MinFaceWidth) and the share of frames in which the neck was visible.
// Frames that cannot be analysed (empty or non-BGR image, missing or
// non-finite landmarks, less than 60% of the oval in the frame, a face
// narrower than MinFaceWidth) are counted and skipped; with none left the
// score is 0.5 at confidence 0.
package skin
