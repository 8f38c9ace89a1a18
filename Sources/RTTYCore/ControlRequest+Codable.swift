/// The JSON form: one flat object, `request` naming the command and the command's own
/// fields beside it (absent: no consoles for status and who, every console for revoke, 20 lines and no follow for log).
/// A field the command does not take is refused rather than ignored, so that a misspelt
/// `follw` or a `consoles` given to kick says so instead of doing something else.
extension ControlRequest: Codable {
    public init(from decoder: any Decoder) throws {
        let present = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        let fields = try decoder.container(keyedBy: Field.self)
        let name = try fields.decode(String.self, forKey: .request)
        guard let command = Command(rawValue: name) else {
            throw ControlWords.Failure("request refused: unknown request \(TerminalText.escaped(name)); rttyctl --help lists the commands")
        }
        if let extra = present.first(where: { key in Field(rawValue: key).map { $0 != .request && !command.fields.contains($0) } ?? true }) {
            throw ControlWords.Failure("request refused: \(name) takes no field \(TerminalText.escaped(extra))" + Self.takes(command))
        }
        func need<Value: Decodable>(_ field: Field) throws -> Value {
            guard fields.contains(field) else { throw ControlWords.Failure("request refused: \(name) needs the field \(field.rawValue); \(command.usage)") }
            return try fields.decode(Value.self, forKey: field)
        }
        func may<Value: Decodable>(_ field: Field) throws -> Value? { try fields.decodeIfPresent(Value.self, forKey: field) }
        switch command {
        case .status: self = .status(consoles: try may(.consoles) ?? [])
        case .who: self = .who(consoles: try may(.consoles) ?? [])
        case .kick: self = .kick(target: try need(.target))
        case .lineBreak: self = .lineBreak(console: try need(.console))
        case .set: self = .set(console: try need(.console), settings: try need(.settings))
        case .grant:
            let rights: String = try need(.rights)
            guard let granted = AccessList.Rights(rawValue: rights), granted != .none else {
                throw ControlWords.Failure("request refused: rights is rw or ro, not \(TerminalText.escaped(rights))")
            }
            self = .grant(rights: granted, subject: try need(.subject), consoles: try need(.consoles))
        case .revoke: self = .revoke(subject: try need(.subject), consoles: try may(.consoles))
        case .reload: self = .reload
        case .acl: self = .acl
        case .aclCheck: self = .aclCheck(user: try need(.user), console: try need(.console))
        case .log: self = .log(console: try need(.console), lines: try may(.lines) ?? 20, follow: try may(.follow) ?? false)
        case .sessions: self = .sessions(console: try may(.console), user: try may(.user))
        case .transcript: self = .transcript(session: try need(.session))
        }
        self = try validated()
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: Field.self)
        try fields.encode(command.rawValue, forKey: .request)
        switch self {
        case .status(let consoles), .who(let consoles):
            if !consoles.isEmpty { try fields.encode(consoles, forKey: .consoles) }
        case .kick(let target): try fields.encode(target, forKey: .target)
        case .lineBreak(let console): try fields.encode(console, forKey: .console)
        case .set(let console, let settings):
            try fields.encode(console, forKey: .console)
            try fields.encode(settings, forKey: .settings)
        case .grant(let rights, let subject, let consoles):
            try fields.encode(rights.rawValue, forKey: .rights)
            try fields.encode(subject, forKey: .subject)
            try fields.encode(consoles, forKey: .consoles)
        case .revoke(let subject, let consoles):
            try fields.encode(subject, forKey: .subject)
            try fields.encodeIfPresent(consoles, forKey: .consoles)
        case .reload, .acl: break
        case .aclCheck(let user, let console):
            try fields.encode(user, forKey: .user)
            try fields.encode(console, forKey: .console)
        case .log(let console, let lines, let follow):
            try fields.encode(console, forKey: .console)
            try fields.encode(lines, forKey: .lines)
            try fields.encode(follow, forKey: .follow)
        case .sessions(let console, let user):
            try fields.encodeIfPresent(console, forKey: .console)
            try fields.encodeIfPresent(user, forKey: .user)
        case .transcript(let session): try fields.encode(session, forKey: .session)
        }
    }

    private static func takes(_ command: Command) -> String {
        command.fields.isEmpty ? " (it takes none)" : " (it takes " + command.fields.map(\.rawValue).joined(separator: ", ") + ")"
    }

    /// What a request that does not decode got wrong, for the answer: the decoder's own
    /// descriptions name Swift types and coding paths, not the fields of the request.
    public static func problem(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            (context.codingPath + (last.map { [$0] } ?? [])).reduce("") { text, key in
                key.intValue.map { text + "[\($0)]" } ?? (text.isEmpty ? key.stringValue : text + "." + key.stringValue)
            }
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is String.Type: "a string"
            case is Int.Type: "a whole number"
            case is Bool.Type: "true or false"
            // The decoder names the container it found, not the element type asked for.
            case _ where String(describing: type).hasPrefix("Array"): "a list of strings"
            default: "a \(String(describing: type))"
            }
        }
        switch error {
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty ? "a request is one JSON object" : "the field \(path(context)) must be \(kind(type))"
        case .valueNotFound(let type, let context):
            return "the field \(path(context)) must be \(kind(type)), not null"
        case .keyNotFound(let key, let context):
            return "the field \(path(context, key)) is missing"
        case .dataCorrupted(let context):
            // A syntax error or a number out of range; the decoder's words say which.
            let what = context.codingPath.isEmpty ? "the request" : "the field \(path(context))"
            let detail = context.underlyingError.map { " (\($0))" } ?? ""
            return "\(what) does not decode: \(TerminalText.escaped(context.debugDescription + detail))"
        @unknown default:
            return "the request does not decode"
        }
    }
}

/// Any key at all, to see the fields a request holds beyond those it may.
private struct AnyKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
