public enum RTTYVersion {
    public static let string = "rtty 0.1.0"
    /// Extension protocol version announced in `hello`.
    public static let protocolName = "rtty/1"
}
