import NIOCore
import NIOEmbedded
import Testing

@testable import PeerNetwork

@Suite struct FrameTests {
    private func framed(_ payloads: [[UInt8]]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for payload in payloads { Frame.write(payload: ByteBuffer(bytes: payload), to: &buffer) }
        return buffer
    }

    @Test func headerIsLittleEndianLength() {
        let buffer = framed([[0xAA, 0xBB, 0xCC]])
        #expect(Array(buffer.readableBytesView) == [3, 0, 0, 0, 0xAA, 0xBB, 0xCC])
    }

    @Test func parsesBackToBackFramesAndWaitsForIncompleteOnes() throws {
        var buffer = framed([[1, 2, 3], [], [4]])
        buffer.writeBytes([9, 0, 0, 0, 7])  // a header for 9 bytes, only 1 present
        #expect(try Frame.parse(&buffer, maximumSize: 16).map { Array($0.readableBytesView) } == [1, 2, 3])
        #expect(try Frame.parse(&buffer, maximumSize: 16).map { Array($0.readableBytesView) } == [])
        #expect(try Frame.parse(&buffer, maximumSize: 16).map { Array($0.readableBytesView) } == [4])
        #expect(try Frame.parse(&buffer, maximumSize: 16) == nil)
        // Nothing of the incomplete frame was consumed.
        #expect(buffer.readableBytes == 5)
    }

    @Test func incompleteHeaderConsumesNothing() throws {
        var buffer = ByteBuffer(bytes: [5, 0, 0])
        #expect(try Frame.parse(&buffer, maximumSize: 16) == nil)
        #expect(buffer.readableBytes == 3)
    }

    @Test func oversizeIsRefusedFromTheHeaderAlone() {
        var atLimit = ByteBuffer(bytes: [16, 0, 0, 0])
        #expect((try? Frame.parse(&atLimit, maximumSize: 16)) == .some(nil))  // legal, just incomplete
        var over = ByteBuffer(bytes: [17, 0, 0, 0])
        #expect(throws: FrameError.oversize(length: 17, maximum: 16)) { try Frame.parse(&over, maximumSize: 16) }
        var huge = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: FrameError.oversize(length: UInt32.max, maximum: 16)) {
            try Frame.parse(&huge, maximumSize: 16)
        }
    }

    @Test func decoderReassemblesFramesFedOneByteAtATime() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumSize: 64)))
        let payloads: [[UInt8]] = [Array(0..<40), [7], Array(repeating: 0x5A, count: 64)]
        for byte in framed(payloads).readableBytesView {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        for payload in payloads {
            let frame = try channel.readInbound(as: ByteBuffer.self)
            #expect(frame.map { Array($0.readableBytesView) } == payload)
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test func decoderRaisesOversizeInThePipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumSize: 8)))
        #expect(throws: FrameError.oversize(length: 9, maximum: 8)) {
            try channel.writeInbound(ByteBuffer(bytes: [9, 0, 0, 0]))
        }
        _ = try? channel.finish()
    }

    @Test func streamEndingInsideAFrameIsTruncated() throws {
        var decoder = FrameDecoder(maximumSize: 8)
        var buffer = ByteBuffer(bytes: [2, 0, 0, 0, 1, 2, 4, 0, 0])
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true).map { Array($0.readableBytesView) } == [1, 2])
        #expect(throws: FrameError.truncated(bufferedBytes: 3)) { try decoder.decodeLast(buffer: &buffer, seenEOF: true) }
        var empty = ByteBuffer()
        #expect(try decoder.decodeLast(buffer: &empty, seenEOF: true) == nil)
    }

    @Test func encoderPrefixesAndRefusesOversize() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder(maximumSize: 4)))
        try channel.writeOutbound(ByteBuffer(bytes: [1, 2, 3, 4]))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [4, 0, 0, 0, 1, 2, 3, 4])
        #expect(throws: FrameError.oversize(length: 5, maximum: 4)) {
            try channel.writeOutbound(ByteBuffer(bytes: [1, 2, 3, 4, 5]))
        }
        _ = try? channel.finish()
    }
}
