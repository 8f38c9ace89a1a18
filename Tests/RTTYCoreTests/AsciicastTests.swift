import Foundation
import Testing
@testable import RTTYCore

@Suite struct AsciicastTests {
    @Test func headerIsOneJSONObject() throws {
        let header = Asciicast.header(width: 132, height: 43, timestamp: 1_790_000_000, title: "vixie on \"pbx\"", environment: [("TERM", "vt100")])
        #expect(header.hasSuffix("}\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 2)
        #expect(object["width"] as? Int == 132)
        #expect(object["title"] as? String == "vixie on \"pbx\"")
        #expect((object["env"] as? [String: String])?["TERM"] == "vt100")
    }

    @Test func eventsHaveMicrosecondTimes() {
        #expect(Asciicast.event(seconds: 1.5, kind: "o", quoted: "\"x\"") == "[1.500000, \"o\", \"x\"]\n")
        #expect(Asciicast.event(seconds: 0.0000004, kind: "i", quoted: "\"\"") == "[0.000000, \"i\", \"\"]\n")
        #expect(Asciicast.event(seconds: -3, kind: "o", quoted: "\"\"").hasPrefix("[0.000000,"))
    }

    @Test func aCharacterSplitBetweenReadsIsKeptWhole() {
        var stream = Asciicast.Stream()
        let e = Array("é€😀".utf8)  // 2 + 3 + 4 bytes
        var out = ""
        for cut in [1, 3, 6, 8, e.count] {
            let start = [0, 1, 3, 6, 8][[1, 3, 6, 8, e.count].firstIndex(of: cut)!]
            out += String(stream.quote(e[start..<cut]).dropFirst().dropLast())
        }
        #expect(out == "é€😀")
    }

    @Test func controlAndInvalidBytesStayValidJSON() throws {
        var stream = Asciicast.Stream()
        let quoted = stream.quote([0x1B, 0x5B, 0x48, 0x0D, 0x0A, 0xFF, 0x22, 0x5C])
        #expect(quoted == "\"\\u001b[H\\r\\n\u{FFFD}\\\"\\\\\"")
        let parsed = try JSONSerialization.jsonObject(with: Data(("[" + quoted + "]").utf8)) as? [String]
        #expect(parsed?.first == "\u{1B}[H\r\n\u{FFFD}\"\\")
        #expect(stream.quote([UInt8]()) == "\"\"")
    }
}
