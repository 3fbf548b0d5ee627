import Logging

public enum ServiceLogging {
    /// Logs to standard error (so standard output stays free for command output), at the
    /// configured level, labelled with the service name.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
