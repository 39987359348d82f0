// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title ProvenanceRegistry
/// @notice Records that a registrar vouched for an original video: one at a
/// time (register) or many at once as a Merkle root (anchorBatch), and lets the
/// record be revoked later. Records are permanent: a revoked original stays
/// revoked and cannot be registered again, so an archive reading the chain
/// never sees history rewritten.
///
/// Merkle trees (ledger/merkle) hash with sha256, domain-separated, with sorted
/// pairs: leaf = sha256(0x00 || leafData), node = sha256(0x01 || min(a,b) ||
/// max(a,b)). leafData must begin with the original's 32-byte sha256; that is
/// what lets revokeBatched revoke a batched original by its sha256.
contract ProvenanceRegistry {
    /// @notice Longest meta or reason string accepted, in bytes. Meta is meant
    /// to be a URI or a hash: every byte costs calldata and log gas.
    uint256 public constant MAX_META_LENGTH = 256;

    /// One original registered on its own. Packed into two slots: the first
    /// holds registrar (20 bytes) + block (6) + time (5) + revoked (1).
    struct Original {
        address registrar;
        uint48 blockNumber;
        uint40 timestamp;
        bool revoked;
        bytes32 fingerprintDigest;
    }

    /// One anchored batch, in a single slot: registrar (20) + count (4) +
    /// time (8). The block and meta are in the BatchAnchored event.
    struct Batch {
        address registrar;
        uint32 count;
        uint64 timestamp;
    }

    /// Revocation of an original that was registered inside a batch.
    struct BatchRevocation {
        address revoker;
        uint48 blockNumber;
        uint40 timestamp;
        bytes32 root;
    }

    address public owner;
    mapping(address => bool) public isRegistrar;
    mapping(bytes32 => Original) public originals;
    mapping(bytes32 => Batch) public batches;
    mapping(bytes32 => BatchRevocation) public batchRevocations;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event RegistrarAdded(address indexed registrar);
    event RegistrarRemoved(address indexed registrar);
    event Registered(bytes32 indexed sha256Hash, address indexed registrar, bytes32 fingerprintDigest, string meta);
    event BatchAnchored(bytes32 indexed merkleRoot, address indexed registrar, uint32 count, string meta);
    /// batchRoot is zero for an original registered on its own.
    event Revoked(bytes32 indexed sha256Hash, address indexed revoker, bytes32 batchRoot, string reason);

    error NotOwner(address caller);
    error NotRegistrar(address caller);
    error NotAuthorized(address caller);
    error ZeroAddress();
    error ZeroHash();
    error AlreadyRegistered(bytes32 sha256Hash);
    error UnknownOriginal(bytes32 sha256Hash);
    error AlreadyRevoked(bytes32 sha256Hash);
    error EmptyBatch();
    error BatchAlreadyAnchored(bytes32 merkleRoot);
    error UnknownBatch(bytes32 merkleRoot);
    error InvalidProof();
    error InvalidLeaf();
    error MetaTooLong(uint256 length, uint256 max);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyRegistrar() {
        if (!isRegistrar[msg.sender]) revert NotRegistrar(msg.sender);
        _;
    }

    modifier shortText(string calldata s) {
        if (bytes(s).length > MAX_META_LENGTH) revert MetaTooLong(bytes(s).length, MAX_META_LENGTH);
        _;
    }

    /// @notice The deployer owns the registry and is its first registrar, so a
    /// fresh deployment can register without a second transaction.
    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        isRegistrar[msg.sender] = true;
        emit RegistrarAdded(msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function addRegistrar(address registrar) external onlyOwner {
        if (registrar == address(0)) revert ZeroAddress();
        if (isRegistrar[registrar]) return;
        isRegistrar[registrar] = true;
        emit RegistrarAdded(registrar);
    }

    function removeRegistrar(address registrar) external onlyOwner {
        if (!isRegistrar[registrar]) return;
        isRegistrar[registrar] = false;
        emit RegistrarRemoved(registrar);
    }

    /// @notice Registers one original by its sha256 and the digest of its
    /// perceptual fingerprint.
    function register(bytes32 sha256Hash, bytes32 fingerprintDigest, string calldata meta)
        external
        onlyRegistrar
        shortText(meta)
    {
        if (sha256Hash == bytes32(0)) revert ZeroHash();
        Original storage o = originals[sha256Hash];
        if (o.registrar != address(0)) revert AlreadyRegistered(sha256Hash);
        o.registrar = msg.sender;
        o.blockNumber = uint48(block.number);
        o.timestamp = uint40(block.timestamp);
        o.fingerprintDigest = fingerprintDigest;
        emit Registered(sha256Hash, msg.sender, fingerprintDigest, meta);
    }

    /// @notice Anchors the Merkle root of count originals. Only the root is
    /// stored (one slot), whatever count is: the leaves and their inclusion
    /// proofs stay off chain.
    function anchorBatch(bytes32 merkleRoot, uint32 count, string calldata meta)
        external
        onlyRegistrar
        shortText(meta)
    {
        if (merkleRoot == bytes32(0)) revert ZeroHash();
        if (count == 0) revert EmptyBatch();
        Batch storage b = batches[merkleRoot];
        if (b.registrar != address(0)) revert BatchAlreadyAnchored(merkleRoot);
        b.registrar = msg.sender;
        b.count = count;
        b.timestamp = uint64(block.timestamp);
        emit BatchAnchored(merkleRoot, msg.sender, count, meta);
    }

    /// @notice Revokes an original registered on its own. The owner may
    /// revoke anything; a registrar only what it registered, and only while it
    /// is still a registrar.
    function revoke(bytes32 sha256Hash, string calldata reason) external shortText(reason) {
        Original storage o = originals[sha256Hash];
        address registrar = o.registrar;
        if (registrar == address(0)) revert UnknownOriginal(sha256Hash);
        _checkMayRevoke(registrar);
        if (o.revoked) revert AlreadyRevoked(sha256Hash);
        o.revoked = true;
        emit Revoked(sha256Hash, msg.sender, bytes32(0), reason);
    }

    /// @notice Revokes an original registered inside the batch with root
    /// merkleRoot. leafData is the leaf's preimage, which starts with the
    /// original's sha256; proof is its inclusion proof. The same rules as
    /// revoke apply, with the batch's registrar in place of the original's.
    function revokeBatched(bytes32 merkleRoot, bytes calldata leafData, bytes32[] calldata proof, string calldata reason)
        external
        shortText(reason)
    {
        address registrar = batches[merkleRoot].registrar;
        if (registrar == address(0)) revert UnknownBatch(merkleRoot);
        _checkMayRevoke(registrar);
        if (leafData.length < 32) revert InvalidLeaf();
        bytes32 sha256Hash = bytes32(leafData[:32]);
        if (!verifyInclusion(merkleRoot, sha256(abi.encodePacked(bytes1(0x00), leafData)), proof)) {
            revert InvalidProof();
        }
        BatchRevocation storage r = batchRevocations[sha256Hash];
        if (r.revoker != address(0)) revert AlreadyRevoked(sha256Hash);
        r.revoker = msg.sender;
        r.blockNumber = uint48(block.number);
        r.timestamp = uint40(block.timestamp);
        r.root = merkleRoot;
        emit Revoked(sha256Hash, msg.sender, merkleRoot, reason);
    }

    /// @notice Reports whether sha256Hash was revoked, as a single
    /// registration or inside a batch.
    function isRevoked(bytes32 sha256Hash) external view returns (bool) {
        return originals[sha256Hash].revoked || batchRevocations[sha256Hash].revoker != address(0);
    }

    /// @notice Checks that leaf (already hashed: sha256(0x00 || leafData)) is
    /// in the tree with the given root, hashing sorted pairs as ledger/merkle
    /// does. It does not check that root was anchored: see batches.
    function verifyInclusion(bytes32 root, bytes32 leaf, bytes32[] calldata proof) public pure returns (bool) {
        bytes32 h = leaf;
        for (uint256 i = 0; i < proof.length; ++i) {
            bytes32 p = proof[i];
            h = h < p ? sha256(abi.encodePacked(bytes1(0x01), h, p)) : sha256(abi.encodePacked(bytes1(0x01), p, h));
        }
        return h == root;
    }

    function _checkMayRevoke(address registrar) private view {
        if (msg.sender == owner) return;
        if (msg.sender != registrar || !isRegistrar[msg.sender]) revert NotAuthorized(msg.sender);
    }
}
