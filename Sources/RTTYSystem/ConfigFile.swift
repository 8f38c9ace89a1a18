import RTTYCore

public enum ConfigFile {
    /// The installed configuration: the only one a set-id rtty-shell reads.
    public static let systemPath = PlatformFiles.configDirectory + "/rtty.conf"

    /// Reads and checks a config file; the error names the file and what is wrong.
    public static func load(_ path: String) throws(ConfigError) -> Config {
        let text: String
        do {
            text = try TextFile.read(path)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read: \(error.errno)")
        }
        return try ConfigParser.parse(text, file: path)
    }

    /// `load` for a set-id program: read through `TrustedFile`, refused with the reason when
    /// the file or a directory above it could have been put there by anyone but root.
    public static func loadTrusted(_ path: String) throws(ConfigError) -> Config {
        let text: String
        do {
            text = try TrustedFile.read(path)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: error.problem)
        }
        return try ConfigParser.parse(text, file: path)
    }
}
