package io.iamlet.agent.server;

import java.io.PrintStream;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The process's one log stream. Request lines carry kube2iam's field names (req.method, req.path, req.remote,
 * res.status, res.duration in ms, ns.name, pod.iam.role) so existing dashboards keep working; lifecycle lines and
 * every library's log records ({@link LogBridge}) come through here too, so with --log-format=json each line the
 * process writes is one JSON object. Lines below the level (--log-level, --verbose) are dropped.
 */
public final class RequestLog {
    public enum Format { JSON, TEXT }

    /** kube2iam's (logrus) level names; fatal and panic count as error, warn as warning. */
    public enum Level {
        TRACE, DEBUG, INFO, WARNING, ERROR;

        public static Level parse(String text) {
            return switch (text.strip().toLowerCase(Locale.ROOT)) {
                case "trace" -> TRACE;
                case "debug" -> DEBUG;
                case "info" -> INFO;
                case "warn", "warning" -> WARNING;
                case "error", "fatal", "panic" -> ERROR;
                default -> throw new IllegalArgumentException("unknown log level '" + text
                        + "': use trace, debug, info, warning or error");
            };
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final LineWriter out;
    private final Format format;
    private final Level threshold;
    private final Clock clock;

    public RequestLog(PrintStream out, Format format, Clock clock) {
        this(out, format, Level.INFO, clock);
    }

    public RequestLog(PrintStream out, Format format, Level threshold, Clock clock) {
        this(LineWriter.direct(out), format, threshold, clock);
    }

    /** With {@link LineWriter#async}: the agent's, where a line per request must not cost a write per request. */
    public RequestLog(LineWriter out, Format format, Level threshold, Clock clock) {
        this.out = out;
        this.format = format;
        this.threshold = threshold;
        this.clock = clock;
    }

    public Level threshold() {
        return threshold;
    }

    public record Entry(String method, String path, String remote, int status, double durationMillis, String namespace,
                        String role, String message) {
    }

    public void log(Entry e) {
        Level level = e.status() >= 500 ? Level.ERROR : e.status() >= 400 ? Level.WARNING : Level.INFO;
        if (level.compareTo(threshold) < 0) {
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", DateTimeFormatter.ISO_INSTANT.format(clock.instant()));
        fields.put("level", level.label());
        fields.put("msg", e.message() == null ? "request" : e.message());
        fields.put("req.method", e.method());
        fields.put("req.path", e.path());
        fields.put("req.remote", e.remote());
        fields.put("res.status", e.status());
        fields.put("res.duration", Math.round(e.durationMillis() * 1000) / 1000.0);
        if (e.namespace() != null) {
            fields.put("ns.name", e.namespace());
        }
        if (e.role() != null) {
            fields.put("pod.iam.role", e.role());
        }
        write(fields);
    }

    /** A lifecycle line (start-up steps, shutdown, failures) in the same format as the request lines. */
    public void event(String level, String message, Map<String, ?> extra) {
        Level l = Level.parse(level);
        if (l.compareTo(threshold) < 0) {
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", DateTimeFormatter.ISO_INSTANT.format(clock.instant()));
        fields.put("level", l.label());
        fields.put("msg", message);
        fields.putAll(extra);
        write(fields);
    }

    private void write(Map<String, Object> fields) {
        out.write(format == Format.JSON ? Json.object(fields) : text(fields));
    }

    /** Returns when every line logged so far is written: before the process ends. */
    public void flush() {
        out.flush();
    }

    private static String text(Map<String, Object> fields) {
        StringBuilder b = new StringBuilder();
        fields.forEach((k, v) -> {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            String s = String.valueOf(v);
            b.append(k).append('=');
            if (s.isEmpty() || s.chars().anyMatch(c -> c == ' ' || c == '"' || c == '=' || c < 0x20)) {
                // A quoted JSON string: escapes quotes and control characters, so one record stays one line.
                String quoted = Json.object(Map.of("v", s));
                b.append(quoted, 5, quoted.length() - 1);
            } else {
                b.append(s);
            }
        });
        return b.toString();
    }
}
