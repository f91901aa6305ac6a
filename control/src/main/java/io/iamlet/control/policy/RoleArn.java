package io.iamlet.control.policy;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An IAM role ARN, {@code arn:PARTITION:iam::ACCOUNT:role/PATH/NAME}, checked on construction. */
public record RoleArn(String partition, String account, String pathAndName) {
    private static final Pattern ARN = Pattern.compile("arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):iam::(\\d{12}):role/(.+)");
    private static final Pattern BASE = Pattern.compile("arn:(aws[a-z-]*):iam::(\\d{12}):role/(([\\w+=,.@-]+/)*)");

    public RoleArn {
        if (!validPathAndName(pathAndName)) {
            throw new IllegalArgumentException("'" + pathAndName + "' is not a valid IAM role name or path");
        }
    }

    /**
     * ([\w+=,.@-]+/)*[\w+=,.@-]{1,64}: IAM allows these in role names and paths; anything else in an annotation
     * is a typo or an attack. A loop rather than a regular expression: an ARN is built on every request.
     */
    static boolean validPathAndName(String pathAndName) {
        int lastSlash = pathAndName.lastIndexOf('/');
        int nameLength = pathAndName.length() - lastSlash - 1;
        if (nameLength < 1 || nameLength > 64 || pathAndName.startsWith("/") || pathAndName.contains("//")) {
            return false;
        }
        return allowedInIam(pathAndName, true);
    }

    /** Whether every character is one IAM allows in names ([\w+=,.@-]), and '/' too when {@code slash}. */
    static boolean allowedInIam(String text, boolean slash) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-' || (slash && c == '/');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code text} is written as a full ARN: kube2iam compares the "arn:" prefix case-insensitively. */
    public static boolean looksLikeArn(String text) {
        return text.regionMatches(true, 0, "arn:", 0, 4);
    }

    /** Parses a full role ARN; an upper-case "ARN:" prefix is accepted (kube2iam's iam/arn.go) and written back lower-case. */
    public static Optional<RoleArn> parse(String text) {
        if (!looksLikeArn(text)) {
            return Optional.empty();
        }
        Matcher m = ARN.matcher("arn:" + text.substring(4));
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new RoleArn(m.group(1), m.group(2), m.group(3)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The role's name without its path, as STS and people call it. */
    public String name() {
        int slash = pathAndName.lastIndexOf('/');
        return slash < 0 ? pathAndName : pathAndName.substring(slash + 1);
    }

    public String text() {
        return "arn:" + partition + ":iam::" + account + ":role/" + pathAndName;
    }

    @Override
    public String toString() {
        return text();
    }

    /**
     * A base role ARN such as {@code arn:aws:iam::123456789012:role/} or {@code .../role/team/}: the prefix
     * that turns a bare role name into an ARN. Always ends with '/'.
     */
    public record Base(String partition, String account, String path) {
        public static Base parse(String text) {
            String t = text.strip();
            if (!t.endsWith("/")) {
                t = t + "/";
            }
            Matcher m = BASE.matcher(t);
            if (!m.matches()) {
                throw new IllegalArgumentException("invalid base role ARN '" + text
                        + "': expected arn:aws:iam::ACCOUNT_ID:role/ (optionally with a path)");
            }
            return new Base(m.group(1), m.group(2), m.group(3));
        }

        public String text() {
            return "arn:" + partition + ":iam::" + account + ":role/" + path;
        }

        public RoleArn withName(String name) {
            return new RoleArn(partition, account, path + name);
        }

        @Override
        public String toString() {
            return text();
        }
    }
}
