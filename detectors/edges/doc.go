// Package edges is the "edges" detector: it looks for the blending boundary
// a face swap leaves along the face outline, where a smoother or differently
// noisy pasted face meets the rest of the frame.
//
// For every sampled frame (at most one per Options.Interval, 5 per second by
// default) it takes a crop of 1.6× the face oval's box (shrunk so the oval is
// at most WorkWidth = 192 pixels wide; the full frame is never processed) and
// splits it by the signed distance to the landmark face oval, with
// w = BandFrac (0.05) × face width:
//
//	inside   w to 3w inside the outline, minus eyes, brows and mouth
//	band     within ±w of the outline
//	outside  w to 3w outside the outline
//
// Per region it measures the noise level (trimmed mean, lowest 90%, of the
// absolute residual after a 3×3 median filter, which keeps noise and fine
// texture but few edges), the variance of the 4-neighbour Laplacian, and
// the gradient of the log local noise level (RMS residual over 5×5).
//
// Measurements (medians over frames):
//
//	noise_ratio      noise inside / noise outside (a resampled or generated
//	                 face is cleaner than the camera's frame)
//	sharpness_ratio  Laplacian variance inside / outside
//	seam_strength    mean |∇ ln local noise| in the band over the same in
//	                 the inside and outside regions: a jump of noise level
//	                 along the outline
//	seam_ridge       the blending seam (seam.go): along 72 rays from the
//	                 oval's centroid through the outline, on a crop resized
//	                 so the oval is 128 px wide, Lab blurred σ 1, the Lab
//	                 derivative along the ray over its own median (+1);
//	                 per ray the highest local peak within ±0.02 of a scale
//	                 s, the median over rays, maximised over s in
//	                 0.80–0.97: a step at one relative scale around most of
//	                 the outline, inside it
//	seam_scale       that s
//	seam_path        the seam of a face pasted from another pose or head
//	                 shape, which follows the donor's outline at no single
//	                 scale (seam.go): the closed path through the rays, one
//	                 scale per ray in 0.55–0.97 moving at most 0.02 between
//	                 neighbouring rays, with the largest sum of ridge ratios
//	                 (baseline over the whole ray, each capped at 4), a ratio
//	                 counting only where both sides are skin-coloured (Lab
//	                 chroma ≥ 6, hue 10°–100°; elsewhere at most 1); the
//	                 median ratio along that path
//	frames_used, frames_skipped
//
// Score: |ln noise_ratio| ramped from ln 1.5 to ln 3 (weight 0.25),
// −ln sharpness_ratio from ln 5 to ln 25 (weight 0.1; only a face blurrier
// than its surroundings counts), seam_strength from 1.5 to 3 (weight 0.2)
// seam_ridge from 1.5 to 2.5 (weight 0.9) and seam_path from 2.1 to 3.1
// (weight 0.9; real faces reach 1.9 where a hairline, glasses or a jaw
// shadow joins up, the project's portrait swaps 2.4–3.9), combined as a
// noisy OR. The
// region ratios are weak because real low-quality footage (MPEG-1 GRID)
// shows a face far cleaner than its hair and background. Skin is naturally smoother than hair or a
// busy background, hence the wide ranges. Confidence grows with the frames
// used (full at 8), the face width (full at 3× MinFaceWidth) and the share
// of the oval inside the frame.
//
// The frame with the highest score keeps a heatmap, PNG-encoded when it
// becomes the best: |ln σ_local − ln σ_outside| within 3w of the outline,
// colour-mapped (blue none, red a threefold difference) over the crop with
// the outline drawn in white, and the outline at seam_scale coloured by
// each ray's ridge (green none, red 2.5), or the seam path coloured the same
// way (red 3.1) when it scored, and at least as high. Result.Artifacts holds it as
// "edges_heatmap_track<N>.png", and an Evidence entry names it with the
// frame, time and crop region.
package edges
