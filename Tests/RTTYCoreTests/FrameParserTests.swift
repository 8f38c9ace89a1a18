import Testing
@testable import RTTYCore

@Suite struct FrameParserTests {
    @Test func parsesDataFrameSplitAcrossReads() throws {
        var parser = FrameParser(direction: .toServer)
        let bytes = Frame.withPayload(.data, Array("hello".utf8)).encoded()
        parser.append(bytes.prefix(3))
        #expect(try parser.next() == nil)
        parser.append(bytes.dropFirst(3))
        #expect(try parser.next() == Frame.withPayload(.data, Array("hello".utf8)))
        #expect(try parser.next() == nil)
    }
}
