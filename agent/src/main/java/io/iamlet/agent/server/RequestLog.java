package io.iamlet.agent.server;

import java.io.PrintStream;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line per request, with kube2iam's field names (req.method, req.path, req.remote, res.status,
 * res.duration in ms, ns.name, pod.iam.role) so existing dashboards keep working. JSON or logfmt-like text.
 */
public final class RequestLog {
    public enum Format { JSON, TEXT }

    private final PrintStream out;
    private final Format format;
    private final Clock clock;

    public RequestLog(PrintStream out, Format format, Clock clock) {
        this.out = out;
        this.format = format;
        this.clock = clock;
    }

    public record Entry(String method, String path, String remote, int status, double durationMillis, String namespace,
                        String role, String message) {
    }

    public void log(Entry e) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", DateTimeFormatter.ISO_INSTANT.format(clock.instant()));
        fields.put("level", e.status() >= 500 ? "error" : e.status() >= 400 ? "warning" : "info");
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
        String line = format == Format.JSON ? json(fields) : text(fields);
        synchronized (out) {
            out.println(line);
        }
    }

    /** A lifecycle line (start-up steps, shutdown, failures) in the same format as the request lines. */
    public void event(String level, String message, Map<String, Object> extra) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", DateTimeFormatter.ISO_INSTANT.format(clock.instant()));
        fields.put("level", level);
        fields.put("msg", message);
        fields.putAll(extra);
        String line = format == Format.JSON ? json(fields) : text(fields);
        synchronized (out) {
            out.println(line);
        }
    }

    static String json(Map<String, Object> fields) {
        StringBuilder b = new StringBuilder("{");
        fields.forEach((k, v) -> {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(CredentialDocument.escape(k)).append("\":");
            if (v instanceof Number) {
                b.append(v);
            } else {
                b.append('"').append(CredentialDocument.escape(String.valueOf(v))).append('"');
            }
        });
        return b.append('}').toString();
    }

    private static String text(Map<String, Object> fields) {
        StringBuilder b = new StringBuilder();
        fields.forEach((k, v) -> {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            String s = String.valueOf(v);
            b.append(k).append('=').append(s.contains(" ") || s.contains("\"") ? "\"" + CredentialDocument.escape(s) + "\"" : s);
        });
        return b.toString();
    }
}
