package gobfile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

type set struct {
	Name  string
	Items [][]byte
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.gob")
	want := set{Name: "crops", Items: [][]byte{{1, 2}, {3}}}
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	var got set
	if err := Load(path, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Error("the temporary file was left")
	}
	// An unencodable value leaves no file and no temporary.
	bad := filepath.Join(t.TempDir(), "bad.gob")
	if err := Save(bad, make(chan int)); err == nil {
		t.Error("a channel was saved")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Error("a failed save left a file")
	}
	os.WriteFile(bad, []byte("garbage"), 0o644)
	if err := Load(bad, &got); err == nil {
		t.Error("garbage loaded")
	}
}
