import Foundation

extension PtyGuest {
    /// Whether `text` reached the device before a marker: absence checked after a marker
    /// that must arrive, not after a time window. A read-write client (the test's own
    /// user, root in CI) attaches on `socket` and types the marker; call this once the
    /// input in question was handled (refused, answered, or sent before output that came
    /// back), since the daemon writes to the device in the order it takes input.
    func received(_ text: String, beforeMarkerTypedOn socket: String) throws -> Bool {
        let marker = "<mark \(UUID().uuidString.prefix(8))>"
        let client = try ProtocolClient(socket: socket)
        try client.waitForNotice(containing: "authorized")
        try client.identify("marker@pts/0")
        try client.type(marker)
        try waitFor(marker)
        let before = receivedText.components(separatedBy: marker)[0]
        return before.contains(text)
    }
}
