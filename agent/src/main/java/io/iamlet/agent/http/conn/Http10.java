package io.iamlet.agent.http.conn;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.iamlet.redirect.Destination;
import io.iamlet.redirect.IpFamily;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import java.util.function.Supplier;
import java.util.regex.Matcher;

/**
 * HTTP/1.0 requests, which Helidon 4 closes without an answer while IMDS answers them (old wget, scripts
 * speaking HTTP by hand). The request is handed to Helidon's HTTP/1.1 connection as the HTTP/1.1 request it
 * means: the version in the request line becomes 1.1, "Connection: close" is added (HTTP/1.0's default),
 * and a Host header when there is none (HTTP/1.0 does not require one, HTTP/1.1 does). The answer's status
 * line says HTTP/1.1, which RFC 9110 section 2.5 asks of a server that speaks 1.1; every answer of ours has
 * a Content-Length, never chunked framing, so a 1.0 client reads it whole, and the connection closes after.
 */
final class Http10 {
    private static final byte[] VERSION_10 = "HTTP/1.0".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern HOST = Pattern.compile("(?im)^host[ \\t]*:");
    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length[ \\t]*:[ \\t]*(\\d{1,15})[ \\t]*\r?$");
    private static final Pattern TRANSFER_ENCODING = Pattern.compile("(?im)^transfer-encoding[ \\t]*:");

    private Http10() {
    }

    /** Whether the line (ending in LF) is an HTTP/1.0 request line. */
    static boolean isRequestLine(BufferData line) {
        int n = line.available();
        int end = n - 1; // the LF
        if (end > 0 && line.get(end - 1) == '\r') {
            end--;
        }
        int start = end - VERSION_10.length;
        if (start <= 0 || line.get(start - 1) != ' ') {
            return false;
        }
        for (int i = 0; i < VERSION_10.length; i++) {
            if (line.get(start + i) != VERSION_10[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The bytes of the connection's first request rewritten to HTTP/1.1, then the end of the stream (null): the
     * request line (ending at {@code lf}) is consumed from the reader at once, the rest is read on as it comes.
     * The end matters: Helidon 4 keeps a connection open after answering "Connection: close" (it only says so),
     * and an HTTP/1.0 client may read its answer until the connection closes.
     */
    static Supplier<byte[]> asHttp11(DataReader reader, int lf, int maxHead) {
        Head head = peekHead(reader, maxHead);
        String line = new String(reader.readBytes(lf + 1), StandardCharsets.ISO_8859_1);
        String ending = line.endsWith("\r\n") ? "\r\n" : "\n";
        String requestLine = line.substring(0, line.length() - ending.length() - VERSION_10.length) + "HTTP/1.1";
        String added = requestLine + "\r\nConnection: close\r\n" + (head.hasHost() ? "" : "Host: " + Destination.IMDS.address(IpFamily.IPV4).getHostAddress() + "\r\n");
        long[] left = {Long.MAX_VALUE};
        if (head.headBytes() >= 0) {
            // The whole head is here: hand it on with CRLF line ends (hand-written HTTP/1.0 often ends lines with
            // LF alone, which HTTP/1.1 parsers refuse), then the body by its Content-Length, then the end.
            String fields = new String(reader.readBytes(head.headBytes() - line.length()), StandardCharsets.ISO_8859_1);
            added += fields.replaceAll("\r?\n", "\r\n");
            left[0] = head.bodyBytes();
        }
        byte[] prefix = added.getBytes(StandardCharsets.ISO_8859_1);
        boolean[] first = {true};
        return () -> {
            if (first[0]) {
                first[0] = false;
                return prefix;
            }
            if (left[0] <= 0) {
                return null; // the request is read: the connection ends after the answer
            }
            reader.ensureAvailable();
            byte[] bytes = reader.readBytes((int) Math.min(reader.available(), left[0]));
            left[0] -= bytes.length;
            return bytes;
        };
    }

    /**
     * @param hasHost    whether the head has a Host header
     * @param headBytes  the head's length with its blank line, or -1 when it is longer than the limit (Helidon
     *                   refuses it for its size)
     * @param bodyBytes  the body's length by Content-Length, or unlimited with chunked framing (Helidon reads it)
     */
    private record Head(boolean hasHost, int headBytes, long bodyBytes) {
    }

    /** Looks (without consuming) at the request's head, up to the blank line that ends it. */
    private static Head peekHead(DataReader reader, int maxHead) {
        reader.ensureAvailable();
        while (true) {
            int available = reader.available();
            String seen = reader.getBuffer(available).readString(available, StandardCharsets.ISO_8859_1);
            int end = seen.indexOf("\r\n\r\n");
            int blank = 4;
            int bare = seen.indexOf("\n\n");
            if (end < 0 || (bare >= 0 && bare < end)) {
                end = bare;
                blank = 2;
            }
            if (end >= 0) {
                String fields = seen.substring(0, end);
                Matcher length = CONTENT_LENGTH.matcher(fields);
                long body = length.find() ? Long.parseLong(length.group(1)) : 0;
                boolean chunked = TRANSFER_ENCODING.matcher(fields).find();
                return new Head(HOST.matcher(fields).find(), end + blank, chunked ? Long.MAX_VALUE : body);
            }
            if (available > maxHead) {
                return new Head(true, -1, Long.MAX_VALUE);
            }
            reader.pullData();
        }
    }
}
