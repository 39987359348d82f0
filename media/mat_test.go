package media

import (
	"errors"
	"testing"

	"gocv.io/x/gocv"
)

func TestCheckBGR(t *testing.T) {
	gray := gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8U)
	defer gray.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	tiny := gocv.NewMatWithSize(1, 1, gocv.MatTypeCV8UC3)
	defer tiny.Close()
	good := gocv.NewMatWithSize(4, 4, gocv.MatTypeCV8UC3)
	defer good.Close()
	for name, tc := range map[string]struct {
		m  gocv.Mat
		ok bool
	}{
		"zero Mat": {gocv.Mat{}, false},
		"empty":    {empty, false},
		"gray":     {gray, false},
		"1x1":      {tiny, false},
		"bgr":      {good, true},
	} {
		err := CheckBGR(tc.m)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadImage)) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
