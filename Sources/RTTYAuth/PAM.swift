import CPAM
#if canImport(Glibc)
import Glibc
#endif

/// Where PAM's questions and messages go: the terminal in rtty-shell, a script in tests.
public protocol PAMConversation: AnyObject {
    /// The answer to a prompt, or nil to give up (the login then fails).
    func answer(_ prompt: String, echo: Bool) -> String?
    func show(_ message: String, isError: Bool)
}

public struct PAMFailure: Error, CustomStringConvertible {
    public let step: String
    public let message: String
    public var description: String { "\(step): \(message)" }
}

/// One PAM transaction for the `rtty` service: authenticate, then account checks.
public enum PAMLogin {
    public static func run(
        service: String = "rtty", serviceDirectory: String? = nil, user: String, tty: String?, remoteHost: String?,
        conversation: PAMConversation
    ) throws(PAMFailure) {
        let box = Unmanaged.passRetained(ConversationBox(conversation))
        defer { box.release() }
        var conv = pam_conv(conv: converse, appdata_ptr: box.toOpaque())
        var handle: OpaquePointer?
        // A service directory from the (root-owned) config, else the system's /etc/pam.d.
        let started =
            serviceDirectory.map { pam_start_confdir(service, user, &conv, $0, &handle) }
            ?? pam_start(service, user, &conv, &handle)
        guard started == PAM_SUCCESS, let handle else {
            throw PAMFailure(step: "pam_start", message: "cannot start PAM service \(service) (error \(started))")
        }
        var status = PAM_SUCCESS
        defer { pam_end(handle, status) }
        if let tty { pam_set_item(handle, PAM_TTY, tty) }
        if let remoteHost { pam_set_item(handle, PAM_RHOST, remoteHost) }
        status = pam_authenticate(handle, 0)
        guard status == PAM_SUCCESS else {
            throw PAMFailure(step: "authentication", message: String(cString: pam_strerror(handle, status)))
        }
        status = pam_acct_mgmt(handle, 0)
        guard status == PAM_SUCCESS else {
            throw PAMFailure(step: "account", message: String(cString: pam_strerror(handle, status)))
        }
    }
}

private final class ConversationBox {
    let conversation: PAMConversation
    init(_ conversation: PAMConversation) { self.conversation = conversation }
}

/// PAM's callback: captures nothing; state comes through appdata_ptr. Replies are
/// calloc'd/strdup'd because PAM frees them (and owns them only on PAM_SUCCESS).
private func converse(
    count: Int32, messages: UnsafeMutablePointer<UnsafePointer<pam_message>?>?,
    responses: UnsafeMutablePointer<UnsafeMutablePointer<pam_response>?>?, appdata: UnsafeMutableRawPointer?
) -> Int32 {
    guard count > 0, count <= PAM_MAX_NUM_MSG, let messages, let responses, let appdata else { return PAM_CONV_ERR }
    let conversation = Unmanaged<ConversationBox>.fromOpaque(appdata).takeUnretainedValue().conversation
    guard let replies = calloc(Int(count), MemoryLayout<pam_response>.size)?.assumingMemoryBound(to: pam_response.self) else {
        return PAM_BUF_ERR
    }
    for i in 0..<Int(count) {
        guard let message = messages[i]?.pointee else { continue }
        let text = message.msg.map { String(cString: $0) } ?? ""
        switch message.msg_style {
        case PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON:
            guard let answer = conversation.answer(text, echo: message.msg_style == PAM_PROMPT_ECHO_ON) else {
                free(replies, count: Int(count))
                return PAM_CONV_ERR
            }
            replies[i].resp = strdup(answer)
        case PAM_ERROR_MSG:
            conversation.show(text, isError: true)
        default:
            conversation.show(text, isError: false)
        }
    }
    responses.pointee = replies
    return PAM_SUCCESS
}

private func free(_ replies: UnsafeMutablePointer<pam_response>, count: Int) {
    for i in 0..<count {
        if let resp = replies[i].resp {
            memset(resp, 0, strlen(resp))
            Glibc.free(resp)
        }
    }
    Glibc.free(replies)
}
