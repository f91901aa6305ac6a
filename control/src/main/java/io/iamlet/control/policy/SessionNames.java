package io.iamlet.control.policy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** STS role session names: at most 64 characters from [\w+=,.@-], unique per pod (or per role). */
public final class SessionNames {
    public static final int MAX = 64;

    private SessionNames() {
    }

    public static String forPod(String namespace, String pod) {
        return fit(namespace + "." + pod);
    }

    public static String forRole(RoleArn role) {
        return fit("iamlet-" + role.name());
    }

    /** Replaces characters STS refuses and keeps long names unique with a hash suffix. */
    static String fit(String raw) {
        if (raw.length() <= MAX && RoleArn.allowedInIam(raw, false)) {
            return raw; // the usual case, on every request: no copy
        }
        String clean = raw.replaceAll("[^\\w+=,.@-]", "-");
        if (clean.length() <= MAX) {
            return clean;
        }
        String hash = HexFormat.of().formatHex(sha256(raw), 0, 4);
        return clean.substring(0, MAX - hash.length() - 1) + "-" + hash;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
