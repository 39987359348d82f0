// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package registry

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// ProvenanceRegistryMetaData contains all meta data concerning the ProvenanceRegistry contract.
var ProvenanceRegistryMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"}],\"name\":\"AlreadyRegistered\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"}],\"name\":\"AlreadyRevoked\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"merkleRoot\",\"type\":\"bytes32\"}],\"name\":\"BatchAlreadyAnchored\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"EmptyBatch\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidLeaf\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProof\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"length\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"max\",\"type\":\"uint256\"}],\"name\":\"MetaTooLong\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotAuthorized\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotOwner\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotRegistrar\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"merkleRoot\",\"type\":\"bytes32\"}],\"name\":\"UnknownBatch\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"}],\"name\":\"UnknownOriginal\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroHash\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"merkleRoot\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"count\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"meta\",\"type\":\"string\"}],\"name\":\"BatchAnchored\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousOwner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"OwnershipTransferred\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"fingerprintDigest\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"meta\",\"type\":\"string\"}],\"name\":\"Registered\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"}],\"name\":\"RegistrarAdded\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"}],\"name\":\"RegistrarRemoved\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"revoker\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"batchRoot\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"reason\",\"type\":\"string\"}],\"name\":\"Revoked\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"MAX_META_LENGTH\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"}],\"name\":\"addRegistrar\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"merkleRoot\",\"type\":\"bytes32\"},{\"internalType\":\"uint32\",\"name\":\"count\",\"type\":\"uint32\"},{\"internalType\":\"string\",\"name\":\"meta\",\"type\":\"string\"}],\"name\":\"anchorBatch\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"batchRevocations\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"revoker\",\"type\":\"address\"},{\"internalType\":\"uint48\",\"name\":\"blockNumber\",\"type\":\"uint48\"},{\"internalType\":\"uint40\",\"name\":\"timestamp\",\"type\":\"uint40\"},{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"batches\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"},{\"internalType\":\"uint32\",\"name\":\"count\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"isRegistrar\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"}],\"name\":\"isRevoked\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"originals\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"},{\"internalType\":\"uint48\",\"name\":\"blockNumber\",\"type\":\"uint48\"},{\"internalType\":\"uint40\",\"name\":\"timestamp\",\"type\":\"uint40\"},{\"internalType\":\"bool\",\"name\":\"revoked\",\"type\":\"bool\"},{\"internalType\":\"bytes32\",\"name\":\"fingerprintDigest\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"fingerprintDigest\",\"type\":\"bytes32\"},{\"internalType\":\"string\",\"name\":\"meta\",\"type\":\"string\"}],\"name\":\"register\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"registrar\",\"type\":\"address\"}],\"name\":\"removeRegistrar\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"sha256Hash\",\"type\":\"bytes32\"},{\"internalType\":\"string\",\"name\":\"reason\",\"type\":\"string\"}],\"name\":\"revoke\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"merkleRoot\",\"type\":\"bytes32\"},{\"internalType\":\"bytes\",\"name\":\"leafData\",\"type\":\"bytes\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"},{\"internalType\":\"string\",\"name\":\"reason\",\"type\":\"string\"}],\"name\":\"revokeBatched\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"transferOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"leaf\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"}],\"name\":\"verifyInclusion\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"pure\",\"type\":\"function\"}]",
	ID:  "ProvenanceRegistry",
	Bin: "0x6080604052348015600e575f5ffd5b505f80546001600160a01b0319163390811782556040519091907f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0908290a3335f818152600160208190526040808320805460ff1916909217909155517f5c38ce8ff8864a9d2a5ff5aec72a88770e38d181dea59173fde1247cdaa1aea39190a261115d8061009c5f395ff3fe608060405234801561000f575f5ffd5b50600436106100f0575f3560e01c80639cde081b11610093578063d11ba4d811610063578063d11ba4d814610261578063d5db72eb146102ef578063f2fde38b14610311578063f50114ed14610324575f5ffd5b80639cde081b146101ab578063af92a693146101be578063ba904eed146101d1578063c81e25ab146101e4575f5ffd5b80633bce9dd4116100ce5780633bce9dd4146101385780634294857f1461014b578063857d608f1461016e5780638da5cb5b14610181575f5ffd5b806308ccbc94146100f45780630e5ceb471461010957806312688dc51461011c575b5f5ffd5b610107610102366004610dc7565b6103c4565b005b610107610117366004610e0f565b6104c4565b61012561010081565b6040519081526020015b60405180910390f35b610107610146366004610e9f565b610603565b61015e610159366004610f47565b610850565b604051901515815260200161012f565b61015e61017c366004610f5e565b61088e565b5f54610193906001600160a01b031681565b6040516001600160a01b03909116815260200161012f565b6101076101b9366004610fa1565b6109cb565b6101076101cc366004610fe9565b610b26565b6101076101df366004610fe9565b610be7565b61022d6101f2366004610f47565b60036020525f90815260409020546001600160a01b03811690600160a01b810463ffffffff1690600160c01b900467ffffffffffffffff1683565b604080516001600160a01b03909416845263ffffffff909216602084015267ffffffffffffffff169082015260600161012f565b6102b261026f366004610f47565b60046020525f9081526040902080546001909101546001600160a01b03821691600160a01b810465ffffffffffff1691600160d01b90910464ffffffffff169084565b604080516001600160a01b03909516855265ffffffffffff909316602085015264ffffffffff90911691830191909152606082015260800161012f565b61015e6102fd366004610fe9565b60016020525f908152604090205460ff1681565b61010761031f366004610fe9565b610c7b565b61037f610332366004610f47565b60026020525f9081526040902080546001909101546001600160a01b03821691600160a01b810465ffffffffffff1691600160d01b820464ffffffffff1691600160f81b900460ff169085565b604080516001600160a01b03909616865265ffffffffffff909416602086015264ffffffffff909216928401929092529015156060830152608082015260a00161012f565b81816101008111156103f9576040516306d3ac0b60e01b81526004810182905261010060248201526044015b60405180910390fd5b5f85815260026020526040902080546001600160a01b03168061043257604051634f3151bb60e11b8152600481018890526024016103f0565b61043b81610d27565b8154600160f81b900460ff1615610468576040516390315de160e01b8152600481018890526024016103f0565b81546001600160f81b0316600160f81b178255604051339088907fdda8b3f91b11460cf5e48bad1516298fcc798dff82da25f4a5376fe1ada3a57e906104b3905f908b908b9061103e565b60405180910390a350505050505050565b335f9081526001602052604090205460ff166104f5576040516353ac4f0760e01b81523360048201526024016103f0565b8181610100811115610525576040516306d3ac0b60e01b81526004810182905261010060248201526044016103f0565b856105435760405163f1ae58d560e01b815260040160405180910390fd5b5f86815260026020526040902080546001600160a01b03161561057c57604051633be57b3960e11b8152600481018890526024016103f0565b80546001600160d01b0319163365ffffffffffff60a01b19811691909117600160a01b4365ffffffffffff16021764ffffffffff60d01b1916600160d01b4264ffffffffff16021782556001820187905560405188907ff452d2918a16ed7483cfe1416b14434366082485592e6e780e08a168d5bba2ac906104b3908a908a908a9061103e565b8181610100811115610633576040516306d3ac0b60e01b81526004810182905261010060248201526044016103f0565b5f898152600360205260409020546001600160a01b03168061066b57604051630877402b60e41b8152600481018b90526024016103f0565b61067481610d27565b6020881015610696576040516306a201bd60e31b815260040160405180910390fd5b5f6106a46020828b8d611060565b6106ad91611087565b905061072c8b60025f60f81b8d8d6040516020016106cd939291906110a4565b60408051601f19818403018152908290526106e7916110c7565b602060405180830381855afa158015610702573d5f5f3e3d5ffd5b5050506040513d601f19601f8201168201806040525081019061072591906110dd565b8a8a61088e565b610749576040516309bde33960e01b815260040160405180910390fd5b5f81815260046020526040902080546001600160a01b031615610782576040516390315de160e01b8152600481018390526024016103f0565b33815f015f6101000a8154816001600160a01b0302191690836001600160a01b0316021790555043815f0160146101000a81548165ffffffffffff021916908365ffffffffffff16021790555042815f01601a6101000a81548164ffffffffff021916908364ffffffffff1602179055508b8160010181905550336001600160a01b0316827fdda8b3f91b11460cf5e48bad1516298fcc798dff82da25f4a5376fe1ada3a57e8e8a8a60405161083a9392919061103e565b60405180910390a3505050505050505050505050565b5f81815260026020526040812054600160f81b900460ff168061088857505f828152600460205260409020546001600160a01b031615155b92915050565b5f83815b838110156109bf575f8585838181106108ad576108ad6110f4565b90506020020135905080831061093b57604051600160f81b6020820152602181018290526041810184905260029060610160408051601f19818403018152908290526108f8916110c7565b602060405180830381855afa158015610913573d5f5f3e3d5ffd5b5050506040513d601f19601f8201168201806040525081019061093691906110dd565b6109b4565b604051600160f81b6020820152602181018490526041810182905260029060610160408051601f1981840301815290829052610976916110c7565b602060405180830381855afa158015610991573d5f5f3e3d5ffd5b5050506040513d601f19601f820116820180604052508101906109b491906110dd565b925050600101610892565b50909414949350505050565b335f9081526001602052604090205460ff166109fc576040516353ac4f0760e01b81523360048201526024016103f0565b8181610100811115610a2c576040516306d3ac0b60e01b81526004810182905261010060248201526044016103f0565b85610a4a5760405163f1ae58d560e01b815260040160405180910390fd5b8463ffffffff165f03610a705760405163c2e5347d60e01b815260040160405180910390fd5b5f86815260036020526040902080546001600160a01b031615610aa95760405163084f634d60e21b8152600481018890526024016103f0565b80546001600160c01b0319163363ffffffff60a01b19811691909117600160a01b63ffffffff891602176001600160c01b0316600160c01b4267ffffffffffffffff160217825560405188907f821e479db4270f2ce2fe6b00506c74ef81fa87ac765d9611c6014bf11afdc952906104b3908a908a908a90611108565b5f546001600160a01b03163314610b525760405163245aecd360e01b81523360048201526024016103f0565b6001600160a01b038116610b795760405163d92e233d60e01b815260040160405180910390fd5b6001600160a01b0381165f9081526001602052604090205460ff16610be4576001600160a01b0381165f818152600160208190526040808320805460ff1916909217909155517f5c38ce8ff8864a9d2a5ff5aec72a88770e38d181dea59173fde1247cdaa1aea39190a25b50565b5f546001600160a01b03163314610c135760405163245aecd360e01b81523360048201526024016103f0565b6001600160a01b0381165f9081526001602052604090205460ff1615610be4576001600160a01b0381165f81815260016020526040808220805460ff19169055517f81cb97a294b3ff5f91ef4048b3173c7f8f6943d9750add2071199061165e5f579190a250565b5f546001600160a01b03163314610ca75760405163245aecd360e01b81523360048201526024016103f0565b6001600160a01b038116610cce5760405163d92e233d60e01b815260040160405180910390fd5b5f80546040516001600160a01b03808516939216917f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e091a35f80546001600160a01b0319166001600160a01b0392909216919091179055565b5f546001600160a01b03163303610d3b5750565b336001600160a01b038216141580610d625750335f9081526001602052604090205460ff16155b15610be457604051634a0bfec160e01b81523360048201526024016103f0565b5f5f83601f840112610d92575f5ffd5b50813567ffffffffffffffff811115610da9575f5ffd5b602083019150836020828501011115610dc0575f5ffd5b9250929050565b5f5f5f60408486031215610dd9575f5ffd5b83359250602084013567ffffffffffffffff811115610df6575f5ffd5b610e0286828701610d82565b9497909650939450505050565b5f5f5f5f60608587031215610e22575f5ffd5b8435935060208501359250604085013567ffffffffffffffff811115610e46575f5ffd5b610e5287828801610d82565b95989497509550505050565b5f5f83601f840112610e6e575f5ffd5b50813567ffffffffffffffff811115610e85575f5ffd5b6020830191508360208260051b8501011115610dc0575f5ffd5b5f5f5f5f5f5f5f6080888a031215610eb5575f5ffd5b87359650602088013567ffffffffffffffff811115610ed2575f5ffd5b610ede8a828b01610d82565b909750955050604088013567ffffffffffffffff811115610efd575f5ffd5b610f098a828b01610e5e565b909550935050606088013567ffffffffffffffff811115610f28575f5ffd5b610f348a828b01610d82565b989b979a50959850939692959293505050565b5f60208284031215610f57575f5ffd5b5035919050565b5f5f5f5f60608587031215610f71575f5ffd5b8435935060208501359250604085013567ffffffffffffffff811115610f95575f5ffd5b610e5287828801610e5e565b5f5f5f5f60608587031215610fb4575f5ffd5b84359350602085013563ffffffff81168114610fce575f5ffd5b9250604085013567ffffffffffffffff811115610e46575f5ffd5b5f60208284031215610ff9575f5ffd5b81356001600160a01b038116811461100f575f5ffd5b9392505050565b81835281816020850137505f828201602090810191909152601f909101601f19169091010190565b838152604060208201525f611057604083018486611016565b95945050505050565b5f5f8585111561106e575f5ffd5b8386111561107a575f5ffd5b5050820193919092039150565b80356020831015610888575f19602084900360031b1b1692915050565b6001600160f81b031984168152818360018301375f910160010190815292915050565b5f82518060208501845e5f920191825250919050565b5f602082840312156110ed575f5ffd5b5051919050565b634e487b7160e01b5f52603260045260245ffd5b63ffffffff84168152604060208201525f61105760408301848661101656fea26469706673582212208e6d7bbc52b00a5714cf9581029cc2cfcd62bf42cea52af719fd3c234f2d0b8764736f6c63430008250033",
}

// ProvenanceRegistry is an auto generated Go binding around an Ethereum contract.
type ProvenanceRegistry struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *ProvenanceRegistry) GetABI() abi.ABI {
	return c.abi
}

// NewProvenanceRegistry creates a new instance of ProvenanceRegistry.
func NewProvenanceRegistry() *ProvenanceRegistry {
	parsed, err := ProvenanceRegistryMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &ProvenanceRegistry{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *ProvenanceRegistry) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackMAXMETALENGTH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x12688dc5.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function MAX_META_LENGTH() view returns(uint256)
func (provenanceRegistry *ProvenanceRegistry) PackMAXMETALENGTH() []byte {
	enc, err := provenanceRegistry.abi.Pack("MAX_META_LENGTH")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMAXMETALENGTH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x12688dc5.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function MAX_META_LENGTH() view returns(uint256)
func (provenanceRegistry *ProvenanceRegistry) TryPackMAXMETALENGTH() ([]byte, error) {
	return provenanceRegistry.abi.Pack("MAX_META_LENGTH")
}

// UnpackMAXMETALENGTH is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x12688dc5.
//
// Solidity: function MAX_META_LENGTH() view returns(uint256)
func (provenanceRegistry *ProvenanceRegistry) UnpackMAXMETALENGTH(data []byte) (*big.Int, error) {
	out, err := provenanceRegistry.abi.Unpack("MAX_META_LENGTH", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackAddRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xaf92a693.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function addRegistrar(address registrar) returns()
func (provenanceRegistry *ProvenanceRegistry) PackAddRegistrar(registrar common.Address) []byte {
	enc, err := provenanceRegistry.abi.Pack("addRegistrar", registrar)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAddRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xaf92a693.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function addRegistrar(address registrar) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackAddRegistrar(registrar common.Address) ([]byte, error) {
	return provenanceRegistry.abi.Pack("addRegistrar", registrar)
}

// PackAnchorBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9cde081b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function anchorBatch(bytes32 merkleRoot, uint32 count, string meta) returns()
func (provenanceRegistry *ProvenanceRegistry) PackAnchorBatch(merkleRoot [32]byte, count uint32, meta string) []byte {
	enc, err := provenanceRegistry.abi.Pack("anchorBatch", merkleRoot, count, meta)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAnchorBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9cde081b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function anchorBatch(bytes32 merkleRoot, uint32 count, string meta) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackAnchorBatch(merkleRoot [32]byte, count uint32, meta string) ([]byte, error) {
	return provenanceRegistry.abi.Pack("anchorBatch", merkleRoot, count, meta)
}

// PackBatchRevocations is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd11ba4d8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function batchRevocations(bytes32 ) view returns(address revoker, uint48 blockNumber, uint40 timestamp, bytes32 root)
func (provenanceRegistry *ProvenanceRegistry) PackBatchRevocations(arg0 [32]byte) []byte {
	enc, err := provenanceRegistry.abi.Pack("batchRevocations", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBatchRevocations is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd11ba4d8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function batchRevocations(bytes32 ) view returns(address revoker, uint48 blockNumber, uint40 timestamp, bytes32 root)
func (provenanceRegistry *ProvenanceRegistry) TryPackBatchRevocations(arg0 [32]byte) ([]byte, error) {
	return provenanceRegistry.abi.Pack("batchRevocations", arg0)
}

// BatchRevocationsOutput serves as a container for the return parameters of contract
// method BatchRevocations.
type BatchRevocationsOutput struct {
	Revoker     common.Address
	BlockNumber *big.Int
	Timestamp   *big.Int
	Root        [32]byte
}

// UnpackBatchRevocations is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd11ba4d8.
//
// Solidity: function batchRevocations(bytes32 ) view returns(address revoker, uint48 blockNumber, uint40 timestamp, bytes32 root)
func (provenanceRegistry *ProvenanceRegistry) UnpackBatchRevocations(data []byte) (BatchRevocationsOutput, error) {
	out, err := provenanceRegistry.abi.Unpack("batchRevocations", data)
	outstruct := new(BatchRevocationsOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Revoker = *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	outstruct.BlockNumber = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	outstruct.Timestamp = abi.ConvertType(out[2], new(big.Int)).(*big.Int)
	outstruct.Root = *abi.ConvertType(out[3], new([32]byte)).(*[32]byte)
	return *outstruct, nil
}

// PackBatches is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc81e25ab.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function batches(bytes32 ) view returns(address registrar, uint32 count, uint64 timestamp)
func (provenanceRegistry *ProvenanceRegistry) PackBatches(arg0 [32]byte) []byte {
	enc, err := provenanceRegistry.abi.Pack("batches", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackBatches is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc81e25ab.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function batches(bytes32 ) view returns(address registrar, uint32 count, uint64 timestamp)
func (provenanceRegistry *ProvenanceRegistry) TryPackBatches(arg0 [32]byte) ([]byte, error) {
	return provenanceRegistry.abi.Pack("batches", arg0)
}

// BatchesOutput serves as a container for the return parameters of contract
// method Batches.
type BatchesOutput struct {
	Registrar common.Address
	Count     uint32
	Timestamp uint64
}

// UnpackBatches is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc81e25ab.
//
// Solidity: function batches(bytes32 ) view returns(address registrar, uint32 count, uint64 timestamp)
func (provenanceRegistry *ProvenanceRegistry) UnpackBatches(data []byte) (BatchesOutput, error) {
	out, err := provenanceRegistry.abi.Unpack("batches", data)
	outstruct := new(BatchesOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Registrar = *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	outstruct.Count = *abi.ConvertType(out[1], new(uint32)).(*uint32)
	outstruct.Timestamp = *abi.ConvertType(out[2], new(uint64)).(*uint64)
	return *outstruct, nil
}

// PackIsRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd5db72eb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isRegistrar(address ) view returns(bool)
func (provenanceRegistry *ProvenanceRegistry) PackIsRegistrar(arg0 common.Address) []byte {
	enc, err := provenanceRegistry.abi.Pack("isRegistrar", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd5db72eb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isRegistrar(address ) view returns(bool)
func (provenanceRegistry *ProvenanceRegistry) TryPackIsRegistrar(arg0 common.Address) ([]byte, error) {
	return provenanceRegistry.abi.Pack("isRegistrar", arg0)
}

// UnpackIsRegistrar is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd5db72eb.
//
// Solidity: function isRegistrar(address ) view returns(bool)
func (provenanceRegistry *ProvenanceRegistry) UnpackIsRegistrar(data []byte) (bool, error) {
	out, err := provenanceRegistry.abi.Unpack("isRegistrar", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackIsRevoked is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4294857f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isRevoked(bytes32 sha256Hash) view returns(bool)
func (provenanceRegistry *ProvenanceRegistry) PackIsRevoked(sha256Hash [32]byte) []byte {
	enc, err := provenanceRegistry.abi.Pack("isRevoked", sha256Hash)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsRevoked is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4294857f.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isRevoked(bytes32 sha256Hash) view returns(bool)
func (provenanceRegistry *ProvenanceRegistry) TryPackIsRevoked(sha256Hash [32]byte) ([]byte, error) {
	return provenanceRegistry.abi.Pack("isRevoked", sha256Hash)
}

// UnpackIsRevoked is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x4294857f.
//
// Solidity: function isRevoked(bytes32 sha256Hash) view returns(bool)
func (provenanceRegistry *ProvenanceRegistry) UnpackIsRevoked(data []byte) (bool, error) {
	out, err := provenanceRegistry.abi.Unpack("isRevoked", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackOriginals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf50114ed.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function originals(bytes32 ) view returns(address registrar, uint48 blockNumber, uint40 timestamp, bool revoked, bytes32 fingerprintDigest)
func (provenanceRegistry *ProvenanceRegistry) PackOriginals(arg0 [32]byte) []byte {
	enc, err := provenanceRegistry.abi.Pack("originals", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOriginals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf50114ed.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function originals(bytes32 ) view returns(address registrar, uint48 blockNumber, uint40 timestamp, bool revoked, bytes32 fingerprintDigest)
func (provenanceRegistry *ProvenanceRegistry) TryPackOriginals(arg0 [32]byte) ([]byte, error) {
	return provenanceRegistry.abi.Pack("originals", arg0)
}

// OriginalsOutput serves as a container for the return parameters of contract
// method Originals.
type OriginalsOutput struct {
	Registrar         common.Address
	BlockNumber       *big.Int
	Timestamp         *big.Int
	Revoked           bool
	FingerprintDigest [32]byte
}

// UnpackOriginals is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf50114ed.
//
// Solidity: function originals(bytes32 ) view returns(address registrar, uint48 blockNumber, uint40 timestamp, bool revoked, bytes32 fingerprintDigest)
func (provenanceRegistry *ProvenanceRegistry) UnpackOriginals(data []byte) (OriginalsOutput, error) {
	out, err := provenanceRegistry.abi.Unpack("originals", data)
	outstruct := new(OriginalsOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Registrar = *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	outstruct.BlockNumber = abi.ConvertType(out[1], new(big.Int)).(*big.Int)
	outstruct.Timestamp = abi.ConvertType(out[2], new(big.Int)).(*big.Int)
	outstruct.Revoked = *abi.ConvertType(out[3], new(bool)).(*bool)
	outstruct.FingerprintDigest = *abi.ConvertType(out[4], new([32]byte)).(*[32]byte)
	return *outstruct, nil
}

// PackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function owner() view returns(address)
func (provenanceRegistry *ProvenanceRegistry) PackOwner() []byte {
	enc, err := provenanceRegistry.abi.Pack("owner")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function owner() view returns(address)
func (provenanceRegistry *ProvenanceRegistry) TryPackOwner() ([]byte, error) {
	return provenanceRegistry.abi.Pack("owner")
}

// UnpackOwner is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (provenanceRegistry *ProvenanceRegistry) UnpackOwner(data []byte) (common.Address, error) {
	out, err := provenanceRegistry.abi.Unpack("owner", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackRegister is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0e5ceb47.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function register(bytes32 sha256Hash, bytes32 fingerprintDigest, string meta) returns()
func (provenanceRegistry *ProvenanceRegistry) PackRegister(sha256Hash [32]byte, fingerprintDigest [32]byte, meta string) []byte {
	enc, err := provenanceRegistry.abi.Pack("register", sha256Hash, fingerprintDigest, meta)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRegister is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0e5ceb47.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function register(bytes32 sha256Hash, bytes32 fingerprintDigest, string meta) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackRegister(sha256Hash [32]byte, fingerprintDigest [32]byte, meta string) ([]byte, error) {
	return provenanceRegistry.abi.Pack("register", sha256Hash, fingerprintDigest, meta)
}

// PackRemoveRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xba904eed.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function removeRegistrar(address registrar) returns()
func (provenanceRegistry *ProvenanceRegistry) PackRemoveRegistrar(registrar common.Address) []byte {
	enc, err := provenanceRegistry.abi.Pack("removeRegistrar", registrar)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRemoveRegistrar is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xba904eed.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function removeRegistrar(address registrar) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackRemoveRegistrar(registrar common.Address) ([]byte, error) {
	return provenanceRegistry.abi.Pack("removeRegistrar", registrar)
}

// PackRevoke is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x08ccbc94.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revoke(bytes32 sha256Hash, string reason) returns()
func (provenanceRegistry *ProvenanceRegistry) PackRevoke(sha256Hash [32]byte, reason string) []byte {
	enc, err := provenanceRegistry.abi.Pack("revoke", sha256Hash, reason)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevoke is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x08ccbc94.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revoke(bytes32 sha256Hash, string reason) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackRevoke(sha256Hash [32]byte, reason string) ([]byte, error) {
	return provenanceRegistry.abi.Pack("revoke", sha256Hash, reason)
}

// PackRevokeBatched is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3bce9dd4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeBatched(bytes32 merkleRoot, bytes leafData, bytes32[] proof, string reason) returns()
func (provenanceRegistry *ProvenanceRegistry) PackRevokeBatched(merkleRoot [32]byte, leafData []byte, proof [][32]byte, reason string) []byte {
	enc, err := provenanceRegistry.abi.Pack("revokeBatched", merkleRoot, leafData, proof, reason)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeBatched is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3bce9dd4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeBatched(bytes32 merkleRoot, bytes leafData, bytes32[] proof, string reason) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackRevokeBatched(merkleRoot [32]byte, leafData []byte, proof [][32]byte, reason string) ([]byte, error) {
	return provenanceRegistry.abi.Pack("revokeBatched", merkleRoot, leafData, proof, reason)
}

// PackTransferOwnership is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2fde38b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (provenanceRegistry *ProvenanceRegistry) PackTransferOwnership(newOwner common.Address) []byte {
	enc, err := provenanceRegistry.abi.Pack("transferOwnership", newOwner)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTransferOwnership is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2fde38b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (provenanceRegistry *ProvenanceRegistry) TryPackTransferOwnership(newOwner common.Address) ([]byte, error) {
	return provenanceRegistry.abi.Pack("transferOwnership", newOwner)
}

// PackVerifyInclusion is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x857d608f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function verifyInclusion(bytes32 root, bytes32 leaf, bytes32[] proof) pure returns(bool)
func (provenanceRegistry *ProvenanceRegistry) PackVerifyInclusion(root [32]byte, leaf [32]byte, proof [][32]byte) []byte {
	enc, err := provenanceRegistry.abi.Pack("verifyInclusion", root, leaf, proof)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVerifyInclusion is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x857d608f.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function verifyInclusion(bytes32 root, bytes32 leaf, bytes32[] proof) pure returns(bool)
func (provenanceRegistry *ProvenanceRegistry) TryPackVerifyInclusion(root [32]byte, leaf [32]byte, proof [][32]byte) ([]byte, error) {
	return provenanceRegistry.abi.Pack("verifyInclusion", root, leaf, proof)
}

// UnpackVerifyInclusion is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x857d608f.
//
// Solidity: function verifyInclusion(bytes32 root, bytes32 leaf, bytes32[] proof) pure returns(bool)
func (provenanceRegistry *ProvenanceRegistry) UnpackVerifyInclusion(data []byte) (bool, error) {
	out, err := provenanceRegistry.abi.Unpack("verifyInclusion", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// ProvenanceRegistryBatchAnchored represents a BatchAnchored event raised by the ProvenanceRegistry contract.
type ProvenanceRegistryBatchAnchored struct {
	MerkleRoot [32]byte
	Registrar  common.Address
	Count      uint32
	Meta       string
	Raw        *types.Log // Blockchain specific contextual infos
}

const ProvenanceRegistryBatchAnchoredEventName = "BatchAnchored"

// ContractEventName returns the user-defined event name.
func (ProvenanceRegistryBatchAnchored) ContractEventName() string {
	return ProvenanceRegistryBatchAnchoredEventName
}

// UnpackBatchAnchoredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event BatchAnchored(bytes32 indexed merkleRoot, address indexed registrar, uint32 count, string meta)
func (provenanceRegistry *ProvenanceRegistry) UnpackBatchAnchoredEvent(log *types.Log) (*ProvenanceRegistryBatchAnchored, error) {
	event := "BatchAnchored"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != provenanceRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(ProvenanceRegistryBatchAnchored)
	if len(log.Data) > 0 {
		if err := provenanceRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range provenanceRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// ProvenanceRegistryOwnershipTransferred represents a OwnershipTransferred event raised by the ProvenanceRegistry contract.
type ProvenanceRegistryOwnershipTransferred struct {
	PreviousOwner common.Address
	NewOwner      common.Address
	Raw           *types.Log // Blockchain specific contextual infos
}

const ProvenanceRegistryOwnershipTransferredEventName = "OwnershipTransferred"

// ContractEventName returns the user-defined event name.
func (ProvenanceRegistryOwnershipTransferred) ContractEventName() string {
	return ProvenanceRegistryOwnershipTransferredEventName
}

// UnpackOwnershipTransferredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (provenanceRegistry *ProvenanceRegistry) UnpackOwnershipTransferredEvent(log *types.Log) (*ProvenanceRegistryOwnershipTransferred, error) {
	event := "OwnershipTransferred"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != provenanceRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(ProvenanceRegistryOwnershipTransferred)
	if len(log.Data) > 0 {
		if err := provenanceRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range provenanceRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// ProvenanceRegistryRegistered represents a Registered event raised by the ProvenanceRegistry contract.
type ProvenanceRegistryRegistered struct {
	Sha256Hash        [32]byte
	Registrar         common.Address
	FingerprintDigest [32]byte
	Meta              string
	Raw               *types.Log // Blockchain specific contextual infos
}

const ProvenanceRegistryRegisteredEventName = "Registered"

// ContractEventName returns the user-defined event name.
func (ProvenanceRegistryRegistered) ContractEventName() string {
	return ProvenanceRegistryRegisteredEventName
}

// UnpackRegisteredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Registered(bytes32 indexed sha256Hash, address indexed registrar, bytes32 fingerprintDigest, string meta)
func (provenanceRegistry *ProvenanceRegistry) UnpackRegisteredEvent(log *types.Log) (*ProvenanceRegistryRegistered, error) {
	event := "Registered"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != provenanceRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(ProvenanceRegistryRegistered)
	if len(log.Data) > 0 {
		if err := provenanceRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range provenanceRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// ProvenanceRegistryRegistrarAdded represents a RegistrarAdded event raised by the ProvenanceRegistry contract.
type ProvenanceRegistryRegistrarAdded struct {
	Registrar common.Address
	Raw       *types.Log // Blockchain specific contextual infos
}

const ProvenanceRegistryRegistrarAddedEventName = "RegistrarAdded"

// ContractEventName returns the user-defined event name.
func (ProvenanceRegistryRegistrarAdded) ContractEventName() string {
	return ProvenanceRegistryRegistrarAddedEventName
}

// UnpackRegistrarAddedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RegistrarAdded(address indexed registrar)
func (provenanceRegistry *ProvenanceRegistry) UnpackRegistrarAddedEvent(log *types.Log) (*ProvenanceRegistryRegistrarAdded, error) {
	event := "RegistrarAdded"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != provenanceRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(ProvenanceRegistryRegistrarAdded)
	if len(log.Data) > 0 {
		if err := provenanceRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range provenanceRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// ProvenanceRegistryRegistrarRemoved represents a RegistrarRemoved event raised by the ProvenanceRegistry contract.
type ProvenanceRegistryRegistrarRemoved struct {
	Registrar common.Address
	Raw       *types.Log // Blockchain specific contextual infos
}

const ProvenanceRegistryRegistrarRemovedEventName = "RegistrarRemoved"

// ContractEventName returns the user-defined event name.
func (ProvenanceRegistryRegistrarRemoved) ContractEventName() string {
	return ProvenanceRegistryRegistrarRemovedEventName
}

// UnpackRegistrarRemovedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RegistrarRemoved(address indexed registrar)
func (provenanceRegistry *ProvenanceRegistry) UnpackRegistrarRemovedEvent(log *types.Log) (*ProvenanceRegistryRegistrarRemoved, error) {
	event := "RegistrarRemoved"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != provenanceRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(ProvenanceRegistryRegistrarRemoved)
	if len(log.Data) > 0 {
		if err := provenanceRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range provenanceRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// ProvenanceRegistryRevoked represents a Revoked event raised by the ProvenanceRegistry contract.
type ProvenanceRegistryRevoked struct {
	Sha256Hash [32]byte
	Revoker    common.Address
	BatchRoot  [32]byte
	Reason     string
	Raw        *types.Log // Blockchain specific contextual infos
}

const ProvenanceRegistryRevokedEventName = "Revoked"

// ContractEventName returns the user-defined event name.
func (ProvenanceRegistryRevoked) ContractEventName() string {
	return ProvenanceRegistryRevokedEventName
}

// UnpackRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Revoked(bytes32 indexed sha256Hash, address indexed revoker, bytes32 batchRoot, string reason)
func (provenanceRegistry *ProvenanceRegistry) UnpackRevokedEvent(log *types.Log) (*ProvenanceRegistryRevoked, error) {
	event := "Revoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != provenanceRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(ProvenanceRegistryRevoked)
	if len(log.Data) > 0 {
		if err := provenanceRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range provenanceRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (provenanceRegistry *ProvenanceRegistry) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["AlreadyRegistered"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackAlreadyRegisteredError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["AlreadyRevoked"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackAlreadyRevokedError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["BatchAlreadyAnchored"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackBatchAlreadyAnchoredError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["EmptyBatch"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackEmptyBatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["InvalidLeaf"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackInvalidLeafError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["InvalidProof"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackInvalidProofError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["MetaTooLong"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackMetaTooLongError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["NotAuthorized"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackNotAuthorizedError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["NotOwner"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackNotOwnerError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["NotRegistrar"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackNotRegistrarError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["UnknownBatch"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackUnknownBatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["UnknownOriginal"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackUnknownOriginalError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["ZeroAddress"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackZeroAddressError(raw[4:])
	}
	if bytes.Equal(raw[:4], provenanceRegistry.abi.Errors["ZeroHash"].ID.Bytes()[:4]) {
		return provenanceRegistry.UnpackZeroHashError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// ProvenanceRegistryAlreadyRegistered represents a AlreadyRegistered error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryAlreadyRegistered struct {
	Sha256Hash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error AlreadyRegistered(bytes32 sha256Hash)
func ProvenanceRegistryAlreadyRegisteredErrorID() common.Hash {
	return common.HexToHash("0x77caf672214035207a45708060aa1e2e66841e1b2dbaefae83058807272a7a8a")
}

// UnpackAlreadyRegisteredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error AlreadyRegistered(bytes32 sha256Hash)
func (provenanceRegistry *ProvenanceRegistry) UnpackAlreadyRegisteredError(raw []byte) (*ProvenanceRegistryAlreadyRegistered, error) {
	out := new(ProvenanceRegistryAlreadyRegistered)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "AlreadyRegistered", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryAlreadyRevoked represents a AlreadyRevoked error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryAlreadyRevoked struct {
	Sha256Hash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error AlreadyRevoked(bytes32 sha256Hash)
func ProvenanceRegistryAlreadyRevokedErrorID() common.Hash {
	return common.HexToHash("0x90315de188eb047fc54ca36d1436afb1afc987c1864c711074a89029958f122f")
}

// UnpackAlreadyRevokedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error AlreadyRevoked(bytes32 sha256Hash)
func (provenanceRegistry *ProvenanceRegistry) UnpackAlreadyRevokedError(raw []byte) (*ProvenanceRegistryAlreadyRevoked, error) {
	out := new(ProvenanceRegistryAlreadyRevoked)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "AlreadyRevoked", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryBatchAlreadyAnchored represents a BatchAlreadyAnchored error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryBatchAlreadyAnchored struct {
	MerkleRoot [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BatchAlreadyAnchored(bytes32 merkleRoot)
func ProvenanceRegistryBatchAlreadyAnchoredErrorID() common.Hash {
	return common.HexToHash("0x213d8d3400f3c141a2a19c8e6281eadda05e5c86f3948d690e7fbc62660a1fa8")
}

// UnpackBatchAlreadyAnchoredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BatchAlreadyAnchored(bytes32 merkleRoot)
func (provenanceRegistry *ProvenanceRegistry) UnpackBatchAlreadyAnchoredError(raw []byte) (*ProvenanceRegistryBatchAlreadyAnchored, error) {
	out := new(ProvenanceRegistryBatchAlreadyAnchored)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "BatchAlreadyAnchored", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryEmptyBatch represents a EmptyBatch error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryEmptyBatch struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error EmptyBatch()
func ProvenanceRegistryEmptyBatchErrorID() common.Hash {
	return common.HexToHash("0xc2e5347df6cf8d1bf68f8a9651642312bd381b900d857d97cd665976180d6ae0")
}

// UnpackEmptyBatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error EmptyBatch()
func (provenanceRegistry *ProvenanceRegistry) UnpackEmptyBatchError(raw []byte) (*ProvenanceRegistryEmptyBatch, error) {
	out := new(ProvenanceRegistryEmptyBatch)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "EmptyBatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryInvalidLeaf represents a InvalidLeaf error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryInvalidLeaf struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidLeaf()
func ProvenanceRegistryInvalidLeafErrorID() common.Hash {
	return common.HexToHash("0x35100de81e269a2791c05fd4013fcd02d60c64186dec0da60c4a86b41e073080")
}

// UnpackInvalidLeafError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidLeaf()
func (provenanceRegistry *ProvenanceRegistry) UnpackInvalidLeafError(raw []byte) (*ProvenanceRegistryInvalidLeaf, error) {
	out := new(ProvenanceRegistryInvalidLeaf)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "InvalidLeaf", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryInvalidProof represents a InvalidProof error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryInvalidProof struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidProof()
func ProvenanceRegistryInvalidProofErrorID() common.Hash {
	return common.HexToHash("0x09bde339c6b182be216ee7ef8ccff6338c6ef7993445216112ae575c5438fd27")
}

// UnpackInvalidProofError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidProof()
func (provenanceRegistry *ProvenanceRegistry) UnpackInvalidProofError(raw []byte) (*ProvenanceRegistryInvalidProof, error) {
	out := new(ProvenanceRegistryInvalidProof)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "InvalidProof", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryMetaTooLong represents a MetaTooLong error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryMetaTooLong struct {
	Length *big.Int
	Max    *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error MetaTooLong(uint256 length, uint256 max)
func ProvenanceRegistryMetaTooLongErrorID() common.Hash {
	return common.HexToHash("0x06d3ac0bc4c84e7a10e2275d912c098f8bebc1efc7853efec98e288d110afd42")
}

// UnpackMetaTooLongError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error MetaTooLong(uint256 length, uint256 max)
func (provenanceRegistry *ProvenanceRegistry) UnpackMetaTooLongError(raw []byte) (*ProvenanceRegistryMetaTooLong, error) {
	out := new(ProvenanceRegistryMetaTooLong)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "MetaTooLong", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryNotAuthorized represents a NotAuthorized error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryNotAuthorized struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotAuthorized(address caller)
func ProvenanceRegistryNotAuthorizedErrorID() common.Hash {
	return common.HexToHash("0x4a0bfec1fa3ea832f47a765e92fe13fe78ddadee056368ea6e89037b3cf70498")
}

// UnpackNotAuthorizedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotAuthorized(address caller)
func (provenanceRegistry *ProvenanceRegistry) UnpackNotAuthorizedError(raw []byte) (*ProvenanceRegistryNotAuthorized, error) {
	out := new(ProvenanceRegistryNotAuthorized)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "NotAuthorized", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryNotOwner represents a NotOwner error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryNotOwner struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotOwner(address caller)
func ProvenanceRegistryNotOwnerErrorID() common.Hash {
	return common.HexToHash("0x245aecd3fabbd17d6c3c92dc7f0ab916ea8cbf6fc1862c8b56893090ac3fff4c")
}

// UnpackNotOwnerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotOwner(address caller)
func (provenanceRegistry *ProvenanceRegistry) UnpackNotOwnerError(raw []byte) (*ProvenanceRegistryNotOwner, error) {
	out := new(ProvenanceRegistryNotOwner)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "NotOwner", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryNotRegistrar represents a NotRegistrar error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryNotRegistrar struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotRegistrar(address caller)
func ProvenanceRegistryNotRegistrarErrorID() common.Hash {
	return common.HexToHash("0x53ac4f07998c4678ca11fbeac5fe32637f94d155b83727ad15c7388e03008a82")
}

// UnpackNotRegistrarError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotRegistrar(address caller)
func (provenanceRegistry *ProvenanceRegistry) UnpackNotRegistrarError(raw []byte) (*ProvenanceRegistryNotRegistrar, error) {
	out := new(ProvenanceRegistryNotRegistrar)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "NotRegistrar", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryUnknownBatch represents a UnknownBatch error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryUnknownBatch struct {
	MerkleRoot [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownBatch(bytes32 merkleRoot)
func ProvenanceRegistryUnknownBatchErrorID() common.Hash {
	return common.HexToHash("0x877402b0f02e72a5570fa6dee6c9f72e5c506af7dabe7cf05e71286795af739f")
}

// UnpackUnknownBatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownBatch(bytes32 merkleRoot)
func (provenanceRegistry *ProvenanceRegistry) UnpackUnknownBatchError(raw []byte) (*ProvenanceRegistryUnknownBatch, error) {
	out := new(ProvenanceRegistryUnknownBatch)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "UnknownBatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryUnknownOriginal represents a UnknownOriginal error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryUnknownOriginal struct {
	Sha256Hash [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error UnknownOriginal(bytes32 sha256Hash)
func ProvenanceRegistryUnknownOriginalErrorID() common.Hash {
	return common.HexToHash("0x9e62a37685785c2c20fa3923283a9e1f188ddabb2cb3f693731c08c60a16dd4d")
}

// UnpackUnknownOriginalError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error UnknownOriginal(bytes32 sha256Hash)
func (provenanceRegistry *ProvenanceRegistry) UnpackUnknownOriginalError(raw []byte) (*ProvenanceRegistryUnknownOriginal, error) {
	out := new(ProvenanceRegistryUnknownOriginal)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "UnknownOriginal", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryZeroAddress represents a ZeroAddress error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryZeroAddress struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAddress()
func ProvenanceRegistryZeroAddressErrorID() common.Hash {
	return common.HexToHash("0xd92e233df2717d4a40030e20904abd27b68fcbeede117eaaccbbdac9618c8c73")
}

// UnpackZeroAddressError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAddress()
func (provenanceRegistry *ProvenanceRegistry) UnpackZeroAddressError(raw []byte) (*ProvenanceRegistryZeroAddress, error) {
	out := new(ProvenanceRegistryZeroAddress)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "ZeroAddress", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ProvenanceRegistryZeroHash represents a ZeroHash error raised by the ProvenanceRegistry contract.
type ProvenanceRegistryZeroHash struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroHash()
func ProvenanceRegistryZeroHashErrorID() common.Hash {
	return common.HexToHash("0xf1ae58d53750b958ce0ecfcfb8703282d23f4108c501df126d4c9e83b187c78e")
}

// UnpackZeroHashError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroHash()
func (provenanceRegistry *ProvenanceRegistry) UnpackZeroHashError(raw []byte) (*ProvenanceRegistryZeroHash, error) {
	out := new(ProvenanceRegistryZeroHash)
	if err := provenanceRegistry.abi.UnpackIntoInterface(out, "ZeroHash", raw); err != nil {
		return nil, err
	}
	return out, nil
}
