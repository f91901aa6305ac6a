package io.iamlet.agent.server;

import java.time.Duration;

/**
 * What clients may hold of the metadata server: how long a connection may sit idle between requests, how
 * many connections may be open together, and how large a request may be. The defaults are
 * far above what an SDK's IMDS client uses (one or two connections, requests of a few hundred bytes sent at
 * once, a new request within seconds or a new connection), and low enough that a pod keeping thousands of
 * connections open after a request cannot keep them, nor exhaust the agent's file handles. (Helidon's idle
 * check sees only connections that have sent a first request: see docs/security.md for what remains.)
 *
 * @param idleTimeout     a connection with no request in progress is closed after about this long
 * @param maxConnections  connections open at once, all clients together
 * @param maxHeaderBytes  request headers, together (the request line has its own limit of 2 KiB)
 * @param maxBodyBytes    request body (the metadata API takes none)
 */
public record ServerLimits(Duration idleTimeout, int maxConnections, int maxHeaderBytes, long maxBodyBytes) {
    public static final int MAX_REQUEST_LINE = 2048;

    public static ServerLimits defaults() {
        return new ServerLimits(Duration.ofSeconds(60), 10_000, 16 * 1024, 64 * 1024);
    }

    public ServerLimits {
        if (idleTimeout.isNegative() || idleTimeout.isZero() || maxConnections < 16
                || maxHeaderBytes < 1024 || maxBodyBytes < 0) {
            throw new IllegalArgumentException("server limits must be positive (connections at least 16, headers at least 1024 bytes): "
                    + this);
        }
    }

    /** How often idle connections are looked for: often enough that one lives at most about 1.5 × the timeout. */
    Duration idleCheckPeriod() {
        Duration half = idleTimeout.dividedBy(2);
        return half.compareTo(Duration.ofMillis(200)) < 0 ? Duration.ofMillis(200) : half;
    }
}
