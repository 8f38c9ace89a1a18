import RTTYCore

public enum ConfigFile {
    /// The installed configuration: the only one a set-id rtty-shell reads.
    public static let systemPath = PlatformFiles.configDirectory + "/rtty.conf"

    /// Reads and checks a config file; the error names the file and what is wrong.
    public static func load(_ path: String) throws(ConfigError) -> Config {
        try ConfigParser.parse(try text(path), file: path)
    }

    private static func text(_ path: String) throws(ConfigError) -> String {
        do {
            return try TextFile.read(path)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read: \(error.errno)")
        }
    }

    /// `load` for the daemon (start-up, reload, --check-config): also refused when the
    /// configuration conflicts with itself on the filesystem (`ConfigConflicts`).
    public static func loadForDaemon(_ path: String) throws(ConfigError) -> Config {
        let text = try text(path)
        let config = try ConfigParser.parse(text, file: path)
        try ConfigConflicts.check(config, text: text, file: path)
        return config
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
