package landmark

// Indices into the 468 Face Mesh landmarks. "Right" and "left" are the
// subject's: the right eye appears on the image's left in a frontal view.
var (
	// FaceOval runs around the face outline (forehead, temple, jaw, chin),
	// in order, closing back on the first point.
	FaceOval = []int{10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365,
		379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127,
		162, 21, 54, 103, 67, 109}

	// RightEyeContour and LeftEyeContour trace each eye's lid margin, starting
	// at the outer corner along the lower lid and back along the upper lid.
	RightEyeContour = []int{33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246}
	LeftEyeContour  = []int{263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466}

	// RightEyeEAR and LeftEyeEAR are the six points of the eye aspect ratio:
	// outer corner, two upper lid, inner corner, two lower lid
	// (EAR = (|p2-p6| + |p3-p5|) / (2|p1-p4|)).
	RightEyeEAR = [6]int{33, 160, 158, 133, 153, 144}
	LeftEyeEAR  = [6]int{263, 387, 385, 362, 380, 373}

	// Corners of the eyes, nose tip and mouth corners, used for alignment.
	RightEyeOuter, RightEyeInner = 33, 133
	LeftEyeOuter, LeftEyeInner   = 263, 362
	NoseTip                      = 1
	MouthRight, MouthLeft        = 61, 291
)

// NumPoints is the number of Face Mesh landmarks.
const NumPoints = 468

// RightEyeIrisContour and LeftEyeIrisContour are the mesh points matching,
// one for one, the 16 lid points the Iris model returns (Eye.Contour): the
// outer corner, the lower lid to the inner corner, then the upper lid from
// its outer end to its inner end. The Iris model orders the upper lid the
// opposite way to RightEyeContour, which runs back along it.
var (
	RightEyeIrisContour = []int{33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173}
	LeftEyeIrisContour  = []int{263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398}
)

// IBUG68 maps the 68 points of the iBUG 300-W scheme (the one dlib's
// shape predictor uses) to the nearest Face Mesh points: jaw 0–16, brows
// 17–26, nose 27–35, eyes 36–47, outer lips 48–59, inner lips 60–67. The
// brows take the mesh's upper brow edge except at their inner ends, where
// 300-W sits mid-brow. The jaw is the mesh's face oval, which is fixed on the
// head while 300-W's jaw follows the visible outline, so in turned faces the
// jaw points disagree most; the inner 51 points (17–67) match more closely.
var IBUG68 = [68]int{
	127, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 356, // jaw
	70, 63, 105, 66, 55, // right brow, outer to inner
	285, 296, 334, 293, 300, // left brow, inner to outer
	6, 197, 5, 4, // nose bridge, top to tip
	75, 97, 2, 326, 305, // nostrils, right to left
	33, 160, 158, 133, 153, 144, // right eye
	362, 385, 387, 263, 373, 380, // left eye
	61, 40, 37, 0, 267, 270, 291, 405, 314, 17, 84, 181, // outer lips
	78, 82, 13, 312, 308, 317, 14, 87, // inner lips
}

// The outer lip contour and the eyebrows, each a closed polygon in order.
var (
	LipsOuter = []int{61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185}
	RightBrow = []int{70, 63, 105, 66, 107, 55, 65, 52, 53, 46}
	LeftBrow  = []int{300, 293, 334, 296, 336, 285, 295, 282, 283, 276}
)
