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
