package io.iamlet.agent.server;

import io.iamlet.control.credentials.Credentials;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The body of {@code GET .../iam/security-credentials/ROLE}, byte for byte in the shape real IMDS sends:
 * keys in IMDS's order, timestamps ISO-8601 UTC with Z and no fraction. Some SDKs parse it strictly.
 */
public final class CredentialDocument {
    private CredentialDocument() {
    }

    public static String json(Credentials c) {
        return "{\"Code\":\"Success\",\"LastUpdated\":\"" + timestamp(c.lastUpdated())
                + "\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"" + escape(c.accessKeyId())
                + "\",\"SecretAccessKey\":\"" + escape(c.secretAccessKey())
                + "\",\"Token\":\"" + escape(c.sessionToken())
                + "\",\"Expiration\":\"" + timestamp(c.expiration()) + "\"}";
    }

    static String timestamp(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }

    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20) {
                return false;
            }
        }
        return true;
    }

    /** JSON string escaping; STS values are base64-ish, but the document stays valid whatever they hold. */
    public static String escape(String s) {
        if (plain(s)) {
            return s; // the usual case: no copy per request
        }
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
