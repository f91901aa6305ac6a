package io.iamlet.agent.log;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Map;

/** JSON objects written with Jackson's streaming generator, keys in the order given (IMDS and kube2iam key orders). */
public final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();

    private Json() {
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /**
     * A JSON string as Jackson's generator writes it with its default settings: quotes and backslashes escaped,
     * backspace, tab, newline, form feed and return as their short escapes, other control characters as a
     * six-character escape with upper-case hex, everything else as it is. For the request line ({@link RequestLog}),
     * which is written without a generator; RequestLogTest checks the two agree.
     */
    static void appendString(StringBuilder b, String s) {
        b.append('"');
        int plain = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            b.append(s, plain, i).append('\\');
            switch (c) {
                case '"', '\\' -> b.append(c);
                case '\b' -> b.append('b');
                case '\t' -> b.append('t');
                case '\n' -> b.append('n');
                case '\f' -> b.append('f');
                case '\r' -> b.append('r');
                default -> b.append("u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
            plain = i + 1;
        }
        b.append(s, plain, s.length()).append('"');
    }

    /** One object; numbers stay numbers, everything else becomes a string. */
    public static String object(Map<String, ?> fields) {
        StringWriter out = new StringWriter(128);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            for (Map.Entry<String, ?> e : fields.entrySet()) {
                Object v = e.getValue();
                if (v instanceof Integer i) {
                    g.writeNumberField(e.getKey(), i);
                } else if (v instanceof Long l) {
                    g.writeNumberField(e.getKey(), l);
                } else if (v instanceof Double d) {
                    g.writeNumberField(e.getKey(), d);
                } else if (v instanceof Iterable<?> items) {
                    g.writeArrayFieldStart(e.getKey());
                    for (Object item : items) {
                        g.writeString(String.valueOf(item));
                    }
                    g.writeEndArray();
                } else {
                    g.writeStringField(e.getKey(), String.valueOf(v));
                }
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory", e);
        }
        return out.toString();
    }
}
