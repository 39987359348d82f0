// Package fakes builds synthetic faces and manipulated copies of them for
// detector tests, without the landmark model: SyntheticFace draws a frame
// with a textured background, a skin-coloured elliptical face with eyes,
// brows, mouth and a neck, and EllipseLandmarks fabricates 468 Face Mesh
// points whose face-oval indices trace that ellipse. SelfBlend makes a
// "self-blended" fake of any frame from its landmarks alone: the face region
// is colour-shifted, resampled and pasted back inside the face oval with a
// hard or narrowly feathered mask, leaving a seam and a colour offset. Tint
// applies a colour gain to the face only or to the whole frame, to simulate
// per-frame colour matching of a swapped face or a global lighting change.
//
// Everything here is generated at test time; no media files are stored.
// Every function returns a new Mat the caller must Close.
package fakes
