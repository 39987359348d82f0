package scan

import (
	"fmt"
	"os"

	"github.com/trueframe/trueframe/internal/ortutil"
)

var sprintf = fmt.Sprintf

func initORT() error { return ortutil.Init(os.Getenv("TRUEFRAME_TEST_ORT")) }
