package io.iamlet.agent.http.conn;

import java.time.Duration;

/**
 * What clients may hold of the metadata server: how long a connection may sit idle between requests, how
 * long a request's head may take to arrive, how many connections may be open together and from one address,
 * and how large a request may be. The defaults are far above what an SDK's IMDS client uses (one or two
 * connections, requests of a few hundred bytes sent at once, a new request within seconds or a new
 * connection), and low enough that a pod cannot keep thousands of connections open, silent or trickling,
 * nor exhaust the agent's file handles.
 *
 * @param idleTimeout              a connection with no request in progress is closed after about this long
 * @param maxConnections           connections open at once, all clients together
 * @param maxHeaderBytes           request headers, together (the request line has its own limit of 2 KiB)
 * @param maxBodyBytes             request body: none by default, as the metadata API reads none (a request that
 *                                 declares one gets 413 and the connection closes, so no body can be trickled)
 * @param headerTimeout            from a connection's start, or from a request line, to the end of the request's
 *                                 headers; a connection slower than that is closed
 * @param maxConnectionsPerSource  connections open at once from one address (one pod); more get 429
 */
public record ServerLimits(Duration idleTimeout, int maxConnections, int maxHeaderBytes, long maxBodyBytes,
                           Duration headerTimeout, int maxConnectionsPerSource) {
    public static final int MAX_REQUEST_LINE = 2048;

    public static ServerLimits defaults() {
        return new ServerLimits(Duration.ofSeconds(60), 10_000, 16 * 1024, 0, Duration.ofSeconds(10), 128);
    }

    public ServerLimits {
        if (idleTimeout.isNegative() || idleTimeout.isZero() || maxConnections < 16
                || maxHeaderBytes < 1024 || maxBodyBytes < 0 || headerTimeout.toMillis() < 100 || maxConnectionsPerSource < 4) {
            throw new IllegalArgumentException("server limits must be positive (connections at least 16, at least 4 per source,"
                    + " headers at least 1024 bytes, header timeout at least 100ms): " + this);
        }
    }

    /** How often idle connections are looked for: often enough that one lives at most about 1.5 × the timeout. */
    public Duration idleCheckPeriod() {
        Duration half = idleTimeout.dividedBy(2);
        return half.compareTo(Duration.ofMillis(200)) < 0 ? Duration.ofMillis(200) : half;
    }
}
