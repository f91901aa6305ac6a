package io.iamlet.agent.server;

import java.time.Duration;

/**
 * What one client may hold of the metadata server: how long an idle or half-sent request keeps its
 * connection, how many connections one source address and all together may have open, and how large a
 * request may be. The defaults are far above what an SDK's IMDS client uses (one or two connections,
 * requests of a few hundred bytes, a new request well within seconds), and low enough that a pod holding
 * thousands of connections open cannot exhaust the agent's file handles.
 *
 * @param idleTimeout     a connection with no request in progress is closed after this long
 * @param perSource       connections one source address may have open at once
 * @param total           connections all clients together may have open at once
 * @param maxHeaderBytes  request line and headers, together
 * @param maxBodyBytes    request body (the metadata API takes none)
 */
public record ServerLimits(Duration idleTimeout, int perSource, int total, int maxHeaderBytes, long maxBodyBytes) {
    public static ServerLimits defaults() {
        return new ServerLimits(Duration.ofSeconds(30), 64, 4096, 16 * 1024, 64 * 1024);
    }

    public ServerLimits {
        if (idleTimeout.isNegative() || idleTimeout.isZero() || perSource < 1 || total < perSource || maxHeaderBytes < 1024
                || maxBodyBytes < 0) {
            throw new IllegalArgumentException("server limits must be positive, with the total at least the per-source cap: " + this);
        }
    }
}
