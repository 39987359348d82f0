// Package detectors defines what a manipulation detector sees and says.
//
// A Detector is run per face track: the scan pipeline creates one
// TrackDetector per track, feeds it every observed frame of that face in
// time order (Observe), and asks for its Result at the end. Each detector
// lives in its own subpackage (blink, skin, edges); fusion combines their
// results into one score and verdict, and scan runs the whole pipeline.
package detectors
