/// The daemon's HELLO answer: "rtty/1 key=value key=value ...".
public struct HelloReply: Sendable {
    private var fields: [String: String] = [:]

    public init(_ text: String) {
        for word in text.split(separator: " ").dropFirst() {
            guard let eq = word.firstIndex(of: "=") else { continue }
            fields[String(word[..<eq])] = String(word[word.index(after: eq)...])
        }
    }

    public subscript(key: String) -> String? { fields[key] }
}
