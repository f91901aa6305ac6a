package io.iamlet.control.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A node's instance metadata service for tests: IMDSv2 tokens (required unless v1 is allowed), the node's
 * instance profile and role credentials, placement, and user-data holding a secret. Anything that leaks
 * to a pod from here is visible by its "NODE" markers.
 */
public final class FakeImds implements AutoCloseable {
    public static final String NODE_ACCESS_KEY = "ASIANODEROLE0000000";
    public static final String USER_DATA_SECRET = "node-user-data-secret";

    private final HttpServer server;
    private final Set<String> tokens = ConcurrentHashMap.newKeySet();
    private final String account;
    private final String nodeRole;
    private volatile boolean allowV1;
    private final List<String> reads = new CopyOnWriteArrayList<>();

    private FakeImds(HttpServer server, String account, String nodeRole) {
        this.server = server;
        this.account = account;
        this.nodeRole = nodeRole;
    }

    public static FakeImds start(String account, String nodeRole) throws IOException {
        return start(InetAddress.getLoopbackAddress(), 0, account, nodeRole);
    }

    public static FakeImds start(InetAddress address, int port, String account, String nodeRole) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 64);
        FakeImds imds = new FakeImds(server, account, nodeRole);
        server.createContext("/", imds::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return imds;
    }

    public URI url() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
    }

    public void allowV1(boolean allowed) {
        this.allowV1 = allowed;
    }

    /** Every non-token request as "METHOD raw-path", so tests can tell what reached the node's IMDS. */
    public List<String> reads() {
        return List.copyOf(reads);
    }

    public void clearReads() {
        reads.clear();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/latest/api/token")) {
                reads.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath());
            }
            if (exchange.getRequestMethod().equals("PUT") && path.equals("/latest/api/token")) {
                if (exchange.getRequestHeaders().containsKey("X-Forwarded-For")) {
                    reply(exchange, 403, "Forbidden");
                    return;
                }
                String ttl = exchange.getRequestHeaders().getFirst("X-aws-ec2-metadata-token-ttl-seconds");
                if (ttl == null || !ttl.matches("\\d+") || Integer.parseInt(ttl) < 1 || Integer.parseInt(ttl) > 21600) {
                    reply(exchange, 400, "Bad Request");
                    return;
                }
                String token = "imds-token-" + UUID.randomUUID();
                tokens.add(token);
                exchange.getResponseHeaders().set("X-aws-ec2-metadata-token-ttl-seconds", ttl);
                reply(exchange, 200, token);
                return;
            }
            String token = exchange.getRequestHeaders().getFirst("X-aws-ec2-metadata-token");
            if (token != null ? !tokens.contains(token) : !allowV1) {
                reply(exchange, 401, "Unauthorized");
                return;
            }
            Map<String, String> pages = Map.of(
                    "/latest/meta-data/iam/info", """
                            {"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z",\
                            "InstanceProfileArn":"arn:aws:iam::%s:instance-profile/%s-profile","InstanceProfileId":"AIPANODE"}"""
                            .formatted(account, nodeRole),
                    "/latest/meta-data/iam/security-credentials/", nodeRole,
                    "/latest/meta-data/iam/security-credentials/" + nodeRole, """
                            {"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"%s",\
                            "SecretAccessKey":"NODE-SECRET","Token":"NODE-TOKEN","Expiration":"2099-01-01T00:00:00Z"}"""
                            .formatted(NODE_ACCESS_KEY),
                    "/latest/meta-data/placement/region", "eu-west-1",
                    "/latest/meta-data/instance-id", "i-0123456789abcdef0",
                    "/latest/user-data", "#!/bin/sh\nexport SECRET=" + USER_DATA_SECRET + "\n",
                    "/latest/meta-data/", "ami-id\ninstance-id\niam/\nplacement/\n");
            if (path.equals("/latest/meta-data/iam")) {
                // Real IMDS redirects a directory asked for without its trailing slash.
                exchange.getResponseHeaders().set("Location", "http://169.254.169.254/latest/meta-data/iam/");
                reply(exchange, 301, "Moved Permanently");
                return;
            }
            String body = pages.get(path);
            reply(exchange, body == null ? 404 : 200, body == null ? "Not Found" : body);
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Server", "EC2ws");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
