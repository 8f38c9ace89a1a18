import RTTYCore

public enum ConfigFile {
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
}
