package io.iamlet.agent.http.conn;

import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;

import java.io.UncheckedIOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import io.helidon.http.HeaderValues;

/**
 * How long a client may take to send a request's head (request line and headers): a connection that has not
 * finished it in time is closed, whether it never sent a byte (silent) or sends a header line now and then
 * (slowloris). Helidon bounds only the time between requests, and only once a request line was read.
 *
 * <p>Each connection is served by a virtual thread of its own, which blocks in the socket read while the head
 * is incomplete; interrupting a virtual thread blocked in a socket read closes the socket (JEP 444), so
 * expiry is an interrupt of that thread. One sweeper thread looks at the open deadlines a few times per
 * timeout: a map update per request instead of a timer task per request, on the hot path.
 */
public final class RequestDeadlines implements Http1ConnectionListener, AutoCloseable {
    private final Duration timeout;
    private final Map<Thread, Long> due = new ConcurrentHashMap<>();
    private final LongAdder expired = new LongAdder();
    private final Thread sweeper;
    private volatile boolean open = true;

    public RequestDeadlines(Duration timeout) {
        this.timeout = timeout;
        long period = Math.max(50, Math.min(1000, timeout.toMillis() / 4));
        this.sweeper = Thread.ofPlatform().daemon().name("iamlet-request-deadlines").start(() -> sweep(period));
    }

    /** Connections closed because their request head was not complete in time. */
    public long expired() {
        return expired.sum();
    }

    /** The calling connection thread must have its request head within the timeout from now. */
    void start() {
        due.put(Thread.currentThread(), System.nanoTime() + timeout.toNanos());
    }

    /**
     * The calling thread has its request head. Throws when the deadline passed first (the sweeper is closing
     * the connection): the request is not served on a connection that is going away.
     */
    void finish() {
        if (due.remove(Thread.currentThread()) == null) {
            throw new UncheckedIOException(new SocketException(
                    "the request head was not complete within " + timeout.toMillis() + " ms (--header-timeout)"));
        }
    }

    /** The calling thread's connection ended before a request head: nothing to watch any more. */
    void cancel() {
        due.remove(Thread.currentThread());
    }

    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        // The request line is in: the headers must follow within the timeout. (The time before the request
        // line is watched by the gate for a connection's first request and by Helidon's idle check after.)
        start();
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        finish();
        if (ctx instanceof GatedContext gated && headers.contains(HeaderValues.CONNECTION_CLOSE)) {
            gated.closeAfterThisRequest();
        }
    }

    private void sweep(long periodMillis) {
        while (open) {
            try {
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Map.Entry<Thread, Long> e : due.entrySet()) {
                // remove(key, value): a thread that finished, or started its next request, in the meantime keeps it.
                if (now - e.getValue() > 0 && due.remove(e.getKey(), e.getValue())) {
                    expired.increment();
                    e.getKey().interrupt();
                }
            }
        }
    }

    @Override
    public void close() {
        open = false;
        sweeper.interrupt();
    }
}
