package eval

import (
	"math"
	"reflect"
	"testing"
)

func TestRegressions(t *testing.T) {
	nan := Figure(math.NaN())
	sum := func(all Figure, methods map[string]Figure) Summary {
		s := Summary{AUC: all, Methods: []MethodFigures{{Method: "real-x", Label: Real, AUC: nan}}}
		for m, a := range methods {
			s.Methods = append(s.Methods, MethodFigures{Method: m, Label: Fake, AUC: a})
		}
		return s
	}
	cases := []struct {
		name          string
		parent, child Summary
		want          []string
	}{
		{"equal", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.8, map[string]Figure{"a": 0.7}), nil},
		{"better", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.9, map[string]Figure{"a": 0.95}), nil},
		{"within tolerance", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.79, map[string]Figure{"a": 0.685}), nil},
		{"one method worse", sum(0.8, map[string]Figure{"a": 0.7, "b": 0.9}), sum(0.85, map[string]Figure{"a": 0.9, "b": 0.8}), []string{"b"}},
		{"overall worse", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.7, map[string]Figure{"a": 0.7}), []string{"all"}},
		{"child lost a method", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.8, map[string]Figure{"a": nan}), []string{"a"}},
		{"method missing in child", sum(0.8, map[string]Figure{"a": 0.7}), sum(0.8, nil), []string{"a"}},
		{"parent could not measure", sum(nan, map[string]Figure{"a": nan}), sum(0.5, map[string]Figure{"a": 0.5}), nil},
	}
	for _, c := range cases {
		var got []string
		for _, r := range Regressions(c.parent, c.child, 0.02) {
			got = append(got, r.Method)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: regressions %v, want %v", c.name, got, c.want)
		}
	}
}
