package io.iamlet.control.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.util.Optional;

/**
 * The check of an inline session policy before it is sent as AssumeRole's {@code Policy}, by STS's documented
 * rules (STS API reference, AssumeRole, Policy): at most 2,048 characters of plain text, each from U+0020 to
 * U+00FF or tab, line feed, carriage return; and a JSON policy document (an object with a Statement). STS also
 * compresses policy and session tags into a packed form with a limit of its own that cannot be computed here;
 * a policy over it is refused by STS (PackedPolicyTooLarge), which the pod and its owner are told as clearly.
 */
public final class SessionPolicy {
    public static final int MAX_CHARS = 2048;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private SessionPolicy() {
    }

    /** Why STS would refuse this policy text, or empty when it is fit to send. */
    public static Optional<String> problem(String text) {
        if (text.length() > MAX_CHARS) {
            return Optional.of("is " + text.length() + " characters; STS takes at most " + MAX_CHARS);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= 0x20 && c <= 0xFF || c == '\t' || c == '\n' || c == '\r')) {
                return Optional.of("has character U+%04X at offset %d; STS takes U+0020 to U+00FF, tab, line feed and carriage return"
                        .formatted((int) c, i));
            }
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return Optional.of("is not well-formed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"));
        }
        if (node == null || !node.isObject()) {
            return Optional.of("is not a JSON object (an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]})");
        }
        if (!node.has("Statement")) {
            return Optional.of("has no Statement (an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]})");
        }
        return Optional.empty();
    }
}
