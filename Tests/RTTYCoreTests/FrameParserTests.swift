import Testing
@testable import RTTYCore

@Suite struct FrameParserTests {
    func parseAll(_ bytes: [UInt8], _ direction: Direction, byteByByte: Bool = false) throws -> [Frame] {
        var parser = FrameParser(direction: direction)
        var frames: [Frame] = []
        let chunks: [[UInt8]] = byteByByte ? bytes.map { [$0] } : [bytes]
        for chunk in chunks {
            parser.append(chunk)
            while let frame = try parser.next() { frames.append(frame) }
        }
        #expect(parser.bufferedBytes == 0)
        return frames
    }

    static let toServer: [Frame] = [
        .withText(.data, "ls -l\r"), Frame(.baud, value: 9600), Frame(.baud, query: true),
        .withText(.parity, "even"), Frame(.parity, query: true), Frame(.wordSize, value: 7),
        Frame(.wordSize, query: true), Frame(.breakSignal), .withText(.whosOn, "vixie@pts/1"),
        Frame(.whosOn, query: true), Frame(.tail, query: true), Frame(.version, query: true),
        .withText(.login, "vixie"), .withText(.password, "xyzzy"),
        .withText(.hello, "rtty/1 ro"), .withText(.settings, query: true, ""), .withText(.settings, "baud=250000"),
        .withText(.metadata, "TERM=xterm"), .withPayload(.windowSize, [0, 24, 0, 80]),
        .withText(.writeLock, "take"), .withText(.replay, ""),
    ]

    static let toClient: [Frame] = [
        .withText(.data, "login: "), .notice("authorized"), Frame(.baud, value: 1),
        Frame(.baud, query: true, value: 9600), Frame(.parity, value: 1), .withText(.parity, query: true, "none"),
        Frame(.wordSize, query: true, value: 8), Frame(.login, query: true), Frame(.password, query: true, value: 0x4142),
        .withText(.hello, "rtty/1 console=pbx"), .withText(.settings, "baud=9600"), .withText(.error, "no"), .withText(.result, "ok"),
    ]

    @Test func everyTypeRoundTripsWholeAndByteByByte() throws {
        for (frames, direction) in [(Self.toServer, Direction.toServer), (Self.toClient, .toClient)] {
            let bytes = frames.flatMap { $0.encoded() }
            #expect(try parseAll(bytes, direction) == frames)
            #expect(try parseAll(bytes, direction, byteByByte: true) == frames)
        }
    }

    @Test func zeroLengthDataAndClassicLimit() throws {
        #expect(try parseAll(Frame.withPayload(.data, []).encoded(), .toServer) == [Frame.withPayload(.data, [])])
        #expect(Frame.classicMaxPayload == 468)
    }

    @Test func oversizedFrameIsRejectedBeforeItsPayloadArrives() {
        var parser = FrameParser(direction: .toServer)
        parser.append([0, 1, 0x4E, 0x20])  // DATA of 20,000 bytes: the classic daemon's crash
        #expect(throws: FrameParser.Failure.oversized(kind: .data, length: 20_000, limit: Frame.extendedMaxPayload)) {
            try parser.next()
        }
    }

    @Test func unknownTypesAndFlagsAreErrors() {
        var parser = FrameParser(direction: .toServer)
        parser.append([0, 99, 0, 0])
        #expect(throws: FrameParser.Failure.unknownType(99)) { try parser.next() }
        var flags = FrameParser(direction: .toServer)
        flags.append([0x02, 1, 0, 1, 0x41])
        #expect(throws: FrameParser.Failure.unknownFlags(0x0201)) { try flags.next() }
    }

    @Test func valueTypesIgnoreTheLengthMeaning() throws {
        // BAUD 65535 is a value, not a 65,535-byte payload to wait for.
        var parser = FrameParser(direction: .toServer)
        parser.append([0, 2, 0xFF, 0xFF, 0, 1, 0, 1, 0x41])
        #expect(try parser.next() == Frame(.baud, value: 65_535))
        #expect(try parser.next() == Frame.withText(.data, "A"))
    }

    @Test func truncatedFrameWaits() throws {
        var parser = FrameParser(direction: .toServer)
        parser.append([0, 1, 0, 5, 0x41, 0x42])
        #expect(try parser.next() == nil)
        #expect(parser.bufferedBytes == 6)
    }
}
