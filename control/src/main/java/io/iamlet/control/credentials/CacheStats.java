package io.iamlet.control.credentials;

import java.util.concurrent.atomic.LongAdder;

/** Counters of the credential cache, read by the agent's /metrics. */
public final class CacheStats {
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder stsCalls = new LongAdder();
    final LongAdder stsErrors = new LongAdder();
    final LongAdder refreshes = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder staleServed = new LongAdder();
    final LongAdder stsNanos = new LongAdder();

    /** A consistent-enough copy for exporting. */
    public record Snapshot(long hits, long misses, long stsCalls, long stsErrors, long refreshes, long evictions,
                           long staleServed, int entries, double stsSeconds) {
    }

    Snapshot snapshot(int entries) {
        return new Snapshot(hits.sum(), misses.sum(), stsCalls.sum(), stsErrors.sum(), refreshes.sum(), evictions.sum(),
                staleServed.sum(), entries, stsNanos.sum() / 1e9);
    }
}
