module github.com/trueframe/trueframe

go 1.26.8

require (
	github.com/yalue/onnxruntime_go v1.30.0
	gocv.io/x/gocv v0.32.0
)
