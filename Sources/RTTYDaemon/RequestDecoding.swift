import FoundationEssentials
import RTTYCore

/// The request sockets' lines, decoded with the JSON decoder into RTTYCore's request types,
/// which hold the rules on their values (refused whole, as `request refused: ...`).
enum RequestDecoding {
    /// A JSON object, or anything else with `legacy` (the word form the control socket
    /// takes for one release, docs/PROTOCOL.md).
    static func decode<Request: Decodable>(_ line: String, as type: Request.Type, legacy: (String) throws(ControlWords.Failure) -> Request) throws(ControlWords.Failure) -> Request {
        guard line.utf8.first == UInt8(ascii: "{") else { return try legacy(line) }
        do {
            return try JSONDecoder().decode(Request.self, from: Data(line.utf8))
        } catch let failure as ControlWords.Failure {
            throw failure
        } catch let error as DecodingError {
            throw ControlWords.Failure("request refused: \(ControlRequest.problem(error))")
        } catch {
            throw ControlWords.Failure("request refused: \(error)")
        }
    }
}
