import Testing
@testable import StrataGraph

/// Gradient buckets as PyTorch DDP and Megatron-LM fill them: whole tensors, a bucket
/// closing at the first one that takes it to its size, a tensor larger than a bucket in
/// one bucket of its own.
struct GradientBucketTests {
    static let data = BucketKey(axes: ["data"], sharded: false)

    @Test func aBucketClosesAtTheTensorThatFillsIt() {
        var buckets = GradientBuckets(bucketBytes: 25)
        for bytes: Int64 in [10, 10, 30, 5] { buckets.add([bytes], key: Self.data) }
        #expect(buckets.drain(onlyFull: true).map(\.bytes) == [50], "10 + 10 + 30: closed at the third, never split")
        #expect(buckets.drain(onlyFull: true).isEmpty)
        #expect(buckets.drain(onlyFull: false).map(\.bytes) == [5], "the rest goes at the end")
        #expect(buckets.drain(onlyFull: false).isEmpty)
    }

    @Test func aTensorLargerThanABucketIsOneBucket() {
        var buckets = GradientBuckets(bucketBytes: 25)
        buckets.add([103], key: Self.data)
        #expect(buckets.drain(onlyFull: true).map(\.bytes) == [103])
    }

    /// A bucket keeps each tensor it took, for a pass that divides them one by one (DDP's
    /// reducer): an op's weight and bias join together, and the bucket closes after both.
    @Test func aBucketKeepsItsTensors() {
        var buckets = GradientBuckets(bucketBytes: 25)
        buckets.add([12, 2], key: Self.data)
        buckets.add([12, 2], key: Self.data)
        let closed = buckets.drain(onlyFull: true)
        #expect(closed.map(\.tensors) == [[12, 2, 12, 2]])
        #expect(closed.map(\.bytes) == [28])
    }

    @Test func keysFillTheirOwnBucketsInOrder() {
        let experts = BucketKey(axes: ["data"], sharded: true)
        var buckets = GradientBuckets(bucketBytes: 25)
        buckets.add([20], key: Self.data)
        buckets.add([30], key: experts)
        buckets.add([10], key: Self.data)
        let closed = buckets.drain(onlyFull: true)
        #expect(closed.map(\.bytes) == [30, 30])
        #expect(closed.map(\.key.sharded) == [true, false], "in the order they closed")
    }
}
