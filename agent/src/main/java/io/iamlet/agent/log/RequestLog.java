package io.iamlet.agent.log;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.io.PrintStream;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.time.Instant;
import java.time.temporal.ChronoField;

/**
 * The process's one log stream. Request lines carry kube2iam's field names (req.method, req.path, req.remote,
 * res.status, res.duration in ms, ns.name, pod.iam.role) so existing dashboards keep working; lifecycle lines and
 * every library's log records ({@link LogBridge}) come through here too, so with --log-format=json each line the
 * process writes is one JSON object. Lines below the level (--log-level, --verbose) are dropped.
 */
public final class RequestLog {
    /** kube2iam's (logrus) level names; fatal and panic count as error, warn as warning. */
    public enum Level {
        TRACE, DEBUG, INFO, WARNING, ERROR;

        private final String label = name().toLowerCase(Locale.ROOT);

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
            return label;
        }
    }

    private final LineWriter out;
    private final LogFormat format;
    private final Level threshold;
    private final Clock clock;
    private final Timestamps timestamps = new Timestamps();

    public RequestLog(PrintStream out, LogFormat format, Clock clock) {
        this(out, format, Level.INFO, clock);
    }

    public RequestLog(PrintStream out, LogFormat format, Level threshold, Clock clock) {
        this(LineWriter.direct(out), format, threshold, clock);
    }

    /** With {@link LineWriter#async}: the agent's, where a line per request must not cost a write per request. */
    public RequestLog(LineWriter out, LogFormat format, Level threshold, Clock clock) {
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
        String time = timestamps.format(clock.instant());
        if (format == LogFormat.JSON) {
            out.write(jsonLine(time, level, e));
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", time);
        fields.put("level", level.label());
        fields.put("msg", e.message() == null ? "request" : e.message());
        fields.put("req.method", e.method());
        fields.put("req.path", e.path());
        fields.put("req.remote", e.remote());
        fields.put("res.status", e.status());
        fields.put("res.duration", duration(e));
        if (e.namespace() != null) {
            fields.put("ns.name", e.namespace());
        }
        if (e.role() != null) {
            fields.put("pod.iam.role", e.role());
        }
        write(fields);
    }

    private static double duration(Entry e) {
        return Math.round(e.durationMillis() * 1000) / 1000.0;
    }

    /**
     * The request line as {@link Json#object} writes it (same keys, order, escapes and number forms), built
     * straight into one builder: a line per request, and the map, boxing and generator of the general path were
     * a fifth of the bytes the agent allocated per request (JFR, docs/performance.md). Escaping is Jackson's.
     */
    private static String jsonLine(String time, Level level, Entry e) {
        StringBuilder b = new StringBuilder(320);
        b.append("{\"time\":");
        quoted(b, time);
        b.append(",\"level\":\"").append(level.label()).append("\",\"msg\":");
        quoted(b, e.message() == null ? "request" : e.message());
        b.append(",\"req.method\":");
        quoted(b, e.method());
        b.append(",\"req.path\":");
        quoted(b, e.path());
        b.append(",\"req.remote\":");
        quoted(b, e.remote());
        b.append(",\"res.status\":").append(e.status());
        b.append(",\"res.duration\":").append(duration(e));
        if (e.namespace() != null) {
            b.append(",\"ns.name\":");
            quoted(b, e.namespace());
        }
        if (e.role() != null) {
            b.append(",\"pod.iam.role\":");
            quoted(b, e.role());
        }
        return b.append('}').toString();
    }

    private static void quoted(StringBuilder b, String value) {
        b.append('"');
        JsonStringEncoder.getInstance().quoteAsString(value, b);
        b.append('"');
    }

    /** A lifecycle line (start-up steps, shutdown, failures) in the same format as the request lines. */
    public void event(Level l, String message, Map<String, ?> extra) {
        if (l.compareTo(threshold) < 0) {
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", timestamps.format(clock.instant()));
        fields.put("level", l.label());
        fields.put("msg", message);
        fields.putAll(extra);
        write(fields);
    }

    private void write(Map<String, Object> fields) {
        out.write(format == LogFormat.JSON ? Json.object(fields) : text(fields));
    }

    /** Returns when every line logged so far is written: before the process ends. */
    public void flush() {
        out.flush();
    }

    /**
     * ISO_INSTANT's text (fraction in groups of three digits, as many as needed), with the date and time of day
     * formatted once per second: the formatter's general machinery cost more than the rest of a request line.
     */
    public static final class Timestamps {
        private record Second(long epochSecond, String prefix) {
        }

        private volatile Second last = new Second(Long.MIN_VALUE, "");

        public String format(Instant instant) {
            Second s = last;
            if (s.epochSecond() != instant.getEpochSecond()) {
                String full = DateTimeFormatter.ISO_INSTANT.format(instant.with(ChronoField.NANO_OF_SECOND, 0));
                s = new Second(instant.getEpochSecond(), full.substring(0, full.length() - 1));
                last = s;
            }
            int nanos = instant.getNano();
            if (nanos == 0) {
                return s.prefix() + "Z";
            }
            String nine = Integer.toString(1_000_000_000 + nanos).substring(1);
            int digits = nanos % 1_000_000 == 0 ? 3 : nanos % 1000 == 0 ? 6 : 9;
            return s.prefix() + "." + nine.substring(0, digits) + "Z";
        }
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
