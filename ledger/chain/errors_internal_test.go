package chain

import (
	"testing"

	"github.com/trueframe/trueframe/ledger/registry"
)

// TestContractErrorsCovered keeps the sentinels in step with the contract: a
// custom error added to the Solidity source must get one.
func TestContractErrorsCovered(t *testing.T) {
	a := registry.NewProvenanceRegistry().GetABI()
	for name := range a.Errors {
		if contractErrors[name] == nil {
			t.Errorf("contract error %s has no sentinel in contractErrors", name)
		}
	}
	for name := range contractErrors {
		if _, ok := a.Errors[name]; !ok {
			t.Errorf("sentinel for %s, which the contract does not define", name)
		}
	}
}
