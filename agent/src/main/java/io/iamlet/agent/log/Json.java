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
