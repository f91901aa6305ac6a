package io.iamlet.control.pods;

import java.util.function.LongSupplier;

/**
 * How many API reads the pod index may start in any one second, node-wide (--api-reads-per-second): when the
 * watches fail, every lookup would otherwise become a read, and the pods' request rate would become the API
 * server's load, on every node at once. A sliding window over the start times of the last reads rather than a
 * token bucket: a bucket lets its whole burst and its refill through within one second, twice the rate.
 */
public final class ReadBudget {
    /**
     * A second and 50 ms: reads leave here a second apart but reach the API server a few milliseconds apart
     * from that (scheduling, connection pool), and the promise is made at the API server.
     */
    static final long WINDOW_NANOS = 1_050_000_000L;

    private final long[] starts;
    private final LongSupplier nanoClock;
    private int next;
    private int used;

    /** The one check of a budget; the CLI adds which flag gave it. */
    public static int checkPerSecond(int perSecond) {
        if (perSecond < 0) {
            throw new IllegalArgumentException("API reads per second must be 0 or more (0: the index never asks the API server on a"
                    + " lookup), not " + perSecond);
        }
        return perSecond;
    }

    /** @param perSecond reads started in any one-second window; 0 means the index never asks the API server on a lookup */
    public ReadBudget(int perSecond, LongSupplier nanoClock) {
        this.starts = new long[checkPerSecond(perSecond)];
        this.nanoClock = nanoClock;
    }

    public ReadBudget(int perSecond) {
        this(perSecond, System::nanoTime);
    }

    public int perSecond() {
        return starts.length;
    }

    /** Takes one read from the budget if the last second has room for it. */
    public synchronized boolean tryAcquire() {
        if (starts.length == 0) {
            return false;
        }
        long now = nanoClock.getAsLong();
        // starts[next] is the oldest of the last perSecond reads once the ring is full.
        if (used == starts.length && now - starts[next] < WINDOW_NANOS) {
            return false;
        }
        starts[next] = now;
        next = (next + 1) % starts.length;
        used = Math.min(used + 1, starts.length);
        return true;
    }
}
