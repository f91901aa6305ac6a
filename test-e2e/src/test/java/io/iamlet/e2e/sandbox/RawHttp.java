package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Netns;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One plain HTTP/1.1 exchange from inside a namespace, written as the SDKs' IMDS clients write it. The
 * body is read by Content-Length, not until the server closes: servers may keep the connection open.
 */
public final class RawHttp {
    private RawHttp() {
    }

    /** Status code, headers (lower-case names) and body. */
    public record Response(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        @Override
        public String toString() {
            return status + " " + headers + "\n" + body;
        }
    }

    public static Response get(Netns ns, String host, int port, String path, Map<String, String> headers) throws Exception {
        return exchange(ns, host, port, "GET", path, headers);
    }

    public static Response exchange(Netns ns, String host, int port, String method, String path, Map<String, String> headers)
            throws Exception {
        return ns.call(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.ofLiteral(host), port), 3000);
                s.setSoTimeout(10000);
                StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
                headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
                if (method.equals("PUT")) {
                    request.append("Content-Length: 0\r\n");
                }
                request.append("Connection: close\r\n\r\n");
                OutputStream out = s.getOutputStream();
                out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return read(s.getInputStream());
            }
        });
    }

    private static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        if (lines.length == 0 || !lines[0].startsWith("HTTP/1.1 ")) {
            throw new IOException("not an HTTP response: " + head.toString(StandardCharsets.ISO_8859_1));
        }
        int status = Integer.parseInt(lines[0].substring(9, 12));
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        return new Response(status, headers, new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }
}
