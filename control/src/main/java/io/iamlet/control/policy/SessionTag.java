package io.iamlet.control.policy;

import java.util.regex.Pattern;

/**
 * One STS session tag, checked against STS's own limits (STS API reference, data type Tag): a key of 1-128 and
 * a value of 0-256 characters, both from letters, spaces, digits and {@code _.:/=+-@}.
 */
public record SessionTag(String key, String value) {
    public static final int MAX_KEY = 128;
    public static final int MAX_VALUE = 256;
    private static final Pattern KEY = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{1," + MAX_KEY + "}");
    private static final Pattern VALUE = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{0," + MAX_VALUE + "}");

    public SessionTag {
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("session tag key '" + key + "' is not 1-" + MAX_KEY
                    + " letters, digits, spaces or _.:/=+-@ (STS's limit)");
        }
        String problem = valueProblem(value);
        if (problem != null) {
            throw new IllegalArgumentException("session tag " + key + ": " + problem);
        }
    }

    /** Why STS would refuse {@code value} as a tag value, or null when it would not. */
    public static String valueProblem(String value) {
        if (value.length() > MAX_VALUE) {
            return "'" + value.substring(0, 40) + "...' is longer than " + MAX_VALUE + " characters (STS's limit)";
        }
        if (!VALUE.matcher(value).matches()) {
            return "'" + value + "' has characters STS refuses in a tag value (allowed: letters, digits, spaces and _.:/=+-@)";
        }
        return null;
    }
}
