package io.iamlet.redirect;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The comment iamlet stores in the userdata of everything it installs, so that {@code show}, doctor and
 * uninstall can tell our objects from anyone else's, and which agent version wrote them for which node address.
 * Operators see it as {@code comment "iamlet format=1 ..."} in {@code nft list ruleset}.
 */
public record OwnershipMarker(int format, String version, String hostIp) {
    public static final String PREFIX = "iamlet";
    public static final int FORMAT = 1;

    public OwnershipMarker {
        if (version == null || version.isBlank() || version.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("marker version must be one word: '" + version + "'");
        }
    }

    public static OwnershipMarker current(String version, RedirectSpec spec) {
        return new OwnershipMarker(FORMAT, version, spec.hostIp().getHostAddress());
    }

    public String text() {
        return PREFIX + " format=" + format + " version=" + version + " host-ip=" + hostIp;
    }

    /** The marker in a comment, or empty when the comment is not one iamlet wrote. */
    public static Optional<OwnershipMarker> parse(String comment) {
        if (comment == null || !comment.startsWith(PREFIX + " ")) {
            return Optional.empty();
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String part : comment.substring(PREFIX.length() + 1).trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                return Optional.empty();
            }
            fields.put(part.substring(0, eq), part.substring(eq + 1));
        }
        try {
            return Optional.of(new OwnershipMarker(Integer.parseInt(fields.getOrDefault("format", "")),
                    fields.get("version"), fields.getOrDefault("host-ip", "")));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return text();
    }
}
