package io.iamlet.agent.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Sends java.util.logging, the one logging backend, into {@link RequestLog}: Helidon and System.Logger log there by
 * default, fabric8 and the AWS SDK through SLF4J's JUL provider (slf4j-jdk14), commons-logging by its JUL fallback.
 * So every library's record becomes a line in the agent's format, filtered by the agent's level.
 */
public final class LogBridge extends Handler {
    private final RequestLog log;
    /** JUL holds loggers weakly: the bridge (held by the root logger) keeps ours, and so its level. */
    private final Logger ours;

    private LogBridge(RequestLog log, Logger ours) {
        this.log = log;
        this.ours = ours;
    }

    /** Replaces JUL's handlers with one that writes through {@code log}, at {@code log}'s level. */
    public static void install(RequestLog log) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Level level = switch (log.threshold()) {
            case TRACE -> Level.FINEST;
            case DEBUG -> Level.FINE;
            case INFO -> Level.INFO;
            case WARNING -> Level.WARNING;
            case ERROR -> Level.SEVERE;
        };
        // Debug (--verbose) is about the agent; the libraries' debug records (the JDK logs every trusted certificate)
        // would bury it, so they come only with trace.
        root.setLevel(log.threshold() == RequestLog.Level.TRACE ? level : maxOf(level, Level.INFO));
        Logger ours = Logger.getLogger("io.iamlet");
        ours.setLevel(level);
        LogBridge bridge = new LogBridge(log, ours);
        bridge.setLevel(level);
        root.addHandler(bridge);
    }

    private static Level maxOf(Level a, Level b) {
        return a.intValue() >= b.intValue() ? a : b;
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("logger", record.getLoggerName() == null ? "" : record.getLoggerName());
        if (record.getThrown() != null) {
            fields.put("error", String.valueOf(record.getThrown()));
            // The whole trace with its causes, in one field: JSON escapes its newlines, so the record stays one line.
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            fields.put("stacktrace", trace.toString().stripTrailing());
        }
        String message;
        try {
            message = new SimpleFormatter().formatMessage(record);
        } catch (RuntimeException e) {
            message = String.valueOf(record.getMessage());
        }
        log.event(levelOf(record.getLevel()), message, fields);
    }

    private static RequestLog.Level levelOf(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return RequestLog.Level.ERROR;
        }
        if (v >= Level.WARNING.intValue()) {
            return RequestLog.Level.WARNING;
        }
        if (v >= Level.INFO.intValue()) {
            return RequestLog.Level.INFO;
        }
        return v >= Level.FINE.intValue() ? RequestLog.Level.DEBUG : RequestLog.Level.TRACE;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
