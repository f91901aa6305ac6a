package io.iamlet.agent.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go's duration syntax, as kube2iam's flags take it: "15m", "1h30m", "500ms", "2s", "0". */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private Durations() {
    }

    public static Duration parse(String text, String flag) {
        String t = text.strip();
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(t);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            double n = Double.parseDouble(m.group(1));
            long nanos = switch (m.group(2)) {
                case "ns" -> Math.round(n);
                case "us", "µs" -> Math.round(n * 1e3);
                case "ms" -> Math.round(n * 1e6);
                case "s" -> Math.round(n * 1e9);
                case "m" -> Math.round(n * 60e9);
                default -> Math.round(n * 3600e9);
            };
            total = total.plusNanos(nanos);
            end = m.end();
        }
        if (end != t.length() || t.isEmpty()) {
            throw new UsageException("flag --" + flag + " takes a duration like 2s, 15m or 1h30m, not '" + text + "'");
        }
        return total;
    }
}
