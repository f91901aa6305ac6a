package io.iamlet.agent.log;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The request line is built straight into a string on the hot path; it must stay byte for byte the line the
 * general path ({@link Json#object} over kube2iam's fields) writes, escapes and number forms included.
 */
class RequestLineTest {
    private static final Instant NOW = Instant.parse("2026-12-03T19:30:01.123456789Z");

    @Test
    void theRequestLineIsTheGeneralPathsLine() {
        List<RequestLog.Entry> entries = List.of(
                new RequestLog.Entry("GET", "/latest/meta-data/iam/security-credentials/role", "10.0.0.7", 200, 0.1234567, "default",
                        "arn:aws:iam::111122223333:role/app", null),
                new RequestLog.Entry("PUT", "/latest/api/token", "fd00::7", 403, 12.0, null, null, "refused: \"quoted\"\nnext line\t\u0001"),
                new RequestLog.Entry("HEAD", "/latest/meta-data/ünïcödé/\\back", "10.0.0.8", 404, 0.0004, "ns-ä", null, "pod \u2028 gone"),
                new RequestLog.Entry("GET", "/", "10.0.0.9", 503, 1234567.891, null, "role/with/path", "budget"),
                new RequestLog.Entry("GET", "/latest", "10.0.0.9", 500, 0.001, "x", "y", ""));
        List<String> lines = new ArrayList<>();
        LineWriter capture = new LineWriter() {
            @Override
            public void write(String line) {
                lines.add(line);
            }

            @Override
            public void flush() {
            }
        };
        RequestLog log = new RequestLog(capture, LogFormat.JSON, RequestLog.Level.TRACE, Clock.fixed(NOW, ZoneOffset.UTC));
        for (RequestLog.Entry e : entries) {
            log.log(e);
        }
        for (int i = 0; i < entries.size(); i++) {
            assertEquals(general(entries.get(i)), lines.get(i));
        }
    }

    /** The line as the general path writes it: the fields in kube2iam's order through Json.object. */
    private static String general(RequestLog.Entry e) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", new RequestLog.Timestamps().format(NOW));
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
        return Json.object(fields);
    }
}
