package io.iamlet.agent.log;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RequestLogTest {
    private static final Instant NOW = Instant.parse("2026-12-03T13:30:00.123456Z");

    /** The request line is written without Jackson: it must be the very text Jackson's generator wrote for it. */
    @Test
    void theRequestLineIsWhatJacksonWritesForTheSameFields() {
        Random random = new Random(24);
        List<String> lines = new ArrayList<>();
        RequestLog log = new RequestLog(capture(lines), RequestLog.Format.JSON, RequestLog.Level.TRACE,
                Clock.fixed(NOW, ZoneOffset.UTC));
        for (int i = 0; i < 20_000; i++) {
            RequestLog.Entry e = new RequestLog.Entry(text(random), text(random), text(random),
                    random.nextInt(100, 600), random.nextDouble() * (random.nextBoolean() ? 0.01 : 5_000),
                    random.nextInt(4) == 0 ? null : text(random), random.nextInt(4) == 0 ? null : text(random),
                    random.nextInt(3) == 0 ? text(random) : null);
            log.log(e);
            assertEquals(viaJackson(e), lines.getLast(), "entry " + e);
        }
    }

    @Test
    void everyControlCharacterQuoteAndBackslashIsEscapedAsJacksonDoes() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            all.append(c);
        }
        all.append("é€\uD83D\uDE00\u2028");
        StringBuilder b = new StringBuilder();
        Json.appendString(b, all.toString());
        String viaJackson = Json.object(Map.of("v", all.toString()));
        assertEquals(viaJackson.substring(5, viaJackson.length() - 1), b.toString());
    }

    private static String viaJackson(RequestLog.Entry e) {
        RequestLog.Level level = e.status() >= 500 ? RequestLog.Level.ERROR
                : e.status() >= 400 ? RequestLog.Level.WARNING : RequestLog.Level.INFO;
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("time", new RequestLog.Timestamps().format(NOW));
        fields.put("level", level.name().toLowerCase(java.util.Locale.ROOT));
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

    /** Mostly plain text, with control characters, quotes, backslashes and characters beyond ASCII mixed in. */
    private static String text(Random random) {
        String alphabet = "abc/:.-_ 019\"\\\t\n\r\b\f\u0000\u0001\u001f\u007fé€\uD83D\uDE00";
        StringBuilder b = new StringBuilder();
        int n = random.nextInt(0, 24);
        for (int i = 0; i < n; i++) {
            b.append(random.nextInt(3) == 0 ? alphabet.charAt(random.nextInt(alphabet.length()))
                    : (char) ('a' + random.nextInt(26)));
        }
        return b.toString();
    }

    private static LineWriter capture(List<String> lines) {
        return new LineWriter() {
            @Override
            public void write(String line) {
                lines.add(line);
            }

            @Override
            public void flush() {
            }
        };
    }
}
