package io.iamlet.control.credentials;

import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Credentials per {@link CredentialKey}, fetched once and refreshed in the background ahead of expiry, so
 * requests are answered from memory. Concurrent requests for one key share one STS call. While STS fails,
 * credentials that are still valid (minus a safety margin) keep being served; an error is only returned
 * when there is nothing valid left to serve.
 */
public final class CredentialCache implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CredentialCache.class.getName());

    /**
     * @param minRemaining  credentials with less left than this are not served while fresh ones can be had
     *                      (SDKs refresh on every call below 15 minutes)
     * @param refreshAhead  the background refresh starts this long before {@code minRemaining} is reached
     * @param refreshJitter up to this much earlier still, at random, so many roles do not refresh at once
     * @param safetyMargin  during an STS outage, cached credentials are served until this close to expiry
     * @param errorTtl      an STS error is repeated without calling STS for this long (0: always call again)
     * @param idleGrace     a key that no pod wants and nobody asked for in this long is dropped instead of refreshed
     * @param maxWait       how long a request waits for an STS call in flight
     */
    public record Settings(Duration minRemaining, Duration refreshAhead, Duration refreshJitter, Duration safetyMargin,
                           Duration errorTtl, Duration idleGrace, Duration maxWait) {
        public static Settings defaults() {
            return new Settings(Duration.ofMinutes(15), Duration.ofMinutes(5), Duration.ofMinutes(2), Duration.ofMinutes(1),
                    Duration.ZERO, Duration.ofMinutes(15), Duration.ofSeconds(10));
        }

        /**
         * The shortest session these margins work with: fresh credentials must have more than {@code minRemaining}
         * left even after the refresh started early (refreshAhead, refreshJitter) and a minute of STS latency and
         * retry. Shorter sessions would be served with less than minRemaining left, or refreshed every second.
         */
        public Duration shortestSession() {
            return minRemaining.plus(refreshAhead).plus(refreshJitter).plus(Duration.ofMinutes(1));
        }

        public Settings withErrorTtl(Duration ttl) {
            return new Settings(minRemaining, refreshAhead, refreshJitter, safetyMargin, ttl, idleGrace, maxWait);
        }
    }

    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration MAX_RETRY = Duration.ofSeconds(60);
    /**
     * Background fetches under way at once. At start-up every pod of the node is prefetched: 1000 STS calls
     * started together kept both cores busy (signing, parsing) for seconds, and the virtual threads of pods'
     * requests and /readyz waited behind them for seconds (docs/performance.md). A pod's
     * own request never waits for a slot: it starts its call at once.
     */
    private static final int PREFETCH_SLOTS = 8;

    private final CredentialSource source;
    private final Settings settings;
    private final Clock clock;
    private final Predicate<CredentialKey> wanted;
    private final Map<CredentialKey, Entry> entries = new ConcurrentHashMap<>();
    private final CacheStats stats = new CacheStats();
    private final ScheduledExecutorService timer;
    /** Prefetches waiting for a slot: virtual threads, as a thousand of them may wait at once at start-up. */
    private final ExecutorService waiting = Executors.newVirtualThreadPerTaskExecutor();
    /**
     * The STS calls themselves, on platform threads (made as needed, reused, gone after a minute idle; at most
     * the prefetch slots plus the pods' own misses at once). On virtual threads a call's signing and parsing
     * ran on the agent's one carrier thread, and pods' requests queued behind the prefetches' CPU work
     * (bin/bench's first seconds after ready, docs/performance.md); on threads of their own the kernel shares
     * the cores between them and the carrier.
     */
    private final ExecutorService calls = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("sts-call-", 0).factory());
    private final Semaphore prefetchSlots = new Semaphore(PREFETCH_SLOTS);
    private final AtomicBoolean prefetchesHeld = new AtomicBoolean();
    private volatile CacheListener listener = CacheListener.NONE;

    /** @param wanted whether some live pod still needs this key (keeps it refreshed even when idle) */
    public CredentialCache(CredentialSource source, Settings settings, Clock clock, Predicate<CredentialKey> wanted) {
        this.source = source;
        this.settings = settings;
        this.clock = clock;
        this.wanted = wanted;
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("credential-refresh").factory());
    }

    /** Per-role events go to {@code listener} from now on (metrics). */
    public void listen(CacheListener listener) {
        this.listener = listener;
    }

    /** Credentials for the key, from memory when possible. Throws {@link CredentialException} when none can be had. */
    public Credentials get(CredentialKey key) {
        Entry entry = entries.computeIfAbsent(key, Entry::new);
        Instant now = clock.instant();
        entry.lastUsed = now;
        Credentials current = entry.current;
        if (current != null && servable(current, now)) {
            stats.hits.increment();
            listener.hit(key.role());
            return current;
        }
        stats.misses.increment();
        CredentialException recent = entry.recentError(now);
        if (recent != null) {
            return staleOr(entry, current, recent);
        }
        try {
            return entry.fetchUnless(c -> servable(c, now)).get(settings.maxWait().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            CredentialException cause = e.getCause() instanceof CredentialException ce
                    ? ce
                    : new CredentialException(500, "Internal", "fetching credentials for " + key + " failed: " + e.getCause(), e.getCause());
            return staleOr(entry, current, cause);
        } catch (TimeoutException e) {
            return staleOr(entry, current, new CredentialException(504, "Timeout",
                    "STS did not answer AssumeRole of " + key.role() + " within " + settings.maxWait().toSeconds() + "s"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CredentialException(503, "Interrupted", "interrupted while fetching credentials for " + key);
        }
    }

    /**
     * Background prefetches queue until {@link #releasePrefetches()}; a pod's own request still fetches at once.
     * At start-up the node's prefetches (1000 STS calls: signing, parsing, and the JIT compiling all that) took
     * CPU from the start itself (docs/performance.md); the agent holds them until it is ready.
     */
    public void holdPrefetches() {
        if (prefetchesHeld.compareAndSet(false, true)) {
            prefetchSlots.acquireUninterruptibly(PREFETCH_SLOTS);
        }
    }

    public void releasePrefetches() {
        if (prefetchesHeld.compareAndSet(true, false)) {
            prefetchSlots.release(PREFETCH_SLOTS);
        }
    }

    /** Starts fetching in the background (a pod with this role appeared), so its first request is a hit. */
    public void prefetch(CredentialKey key) {
        Entry entry = entries.computeIfAbsent(key, Entry::new);
        entry.lastUsed = clock.instant();
        if (entry.current == null) {
            waiting.execute(() -> prefetchInTurn(entry));
        }
    }

    private void prefetchInTurn(Entry entry) {
        try {
            prefetchSlots.acquire();
        } catch (InterruptedException e) {
            return; // closing
        }
        try {
            // Skipped when a request fetched it meanwhile, or its pod left before its turn came.
            if (entries.get(entry.key) == entry) {
                entry.fetchUnless(c -> true).join(); // the slot is held for as long as the call runs
            }
        } catch (RuntimeException e) {
            // The entry has recorded the failure and retries; a request for the key sees it.
        } finally {
            prefetchSlots.release();
        }
    }

    public CacheStats.Snapshot stats() {
        return stats.snapshot(entries.size());
    }

    /** True when the key has credentials in memory that are good to serve now. */
    public boolean has(CredentialKey key) {
        Entry e = entries.get(key);
        return e != null && e.current != null && servable(e.current, clock.instant());
    }

    /** Long enough left to hand to a pod: its SDK refreshes well before expiry and never sees it lapse. */
    private boolean servable(Credentials credentials, Instant now) {
        return credentials.remaining(now).compareTo(settings.minRemaining()) > 0;
    }

    private Credentials staleOr(Entry entry, Credentials current, CredentialException error) {
        if (current != null && current.remaining(clock.instant()).compareTo(settings.safetyMargin()) > 0) {
            stats.staleServed.increment();
            LOG.log(Level.WARNING, "serving cached credentials for {0} (expire {1}) while STS fails: {2}",
                    entry.key, current.expiration(), error.getMessage());
            return current;
        }
        throw error;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        waiting.shutdownNow();
        calls.shutdownNow();
    }

    /** One key's state. Fetch bookkeeping is guarded by the entry's monitor; reads of current are lock-free. */
    private final class Entry {
        final CredentialKey key;
        volatile Credentials current;
        volatile Instant lastUsed;
        private CompletableFuture<Credentials> inflight;
        private CredentialException lastError;
        private Instant lastErrorAt;
        private int failures;
        private ScheduledFuture<?> next;

        Entry(CredentialKey key) {
            this.key = key;
            this.lastUsed = clock.instant();
        }

        synchronized CredentialException recentError(Instant now) {
            if (lastError == null || settings.errorTtl().isZero() || inflight != null) {
                return null;
            }
            return lastErrorAt.plus(settings.errorTtl()).isAfter(now) ? lastError : null;
        }

        /**
         * The credentials held when {@code enough} accepts them, else the call in flight or a new one. One step under
         * the entry's lock: a call may finish between a separate check and fetch(), and a second STS call would follow.
         */
        synchronized CompletableFuture<Credentials> fetchUnless(Predicate<Credentials> enough) {
            return current != null && enough.test(current) ? CompletableFuture.completedFuture(current) : fetch();
        }

        /** The STS call in flight for this key, starting one if there is none (singleflight). */
        synchronized CompletableFuture<Credentials> fetch() {
            if (inflight != null) {
                return inflight;
            }
            CompletableFuture<Credentials> call = CompletableFuture.supplyAsync(this::callSource, calls);
            inflight = call;
            call.whenComplete((credentials, error) -> completed(call, credentials, error));
            return call;
        }

        private Credentials callSource() {
            stats.stsCalls.increment();
            long start = System.nanoTime();
            String code = "Success";
            try {
                return source.assume(key);
            } catch (RuntimeException e) {
                stats.stsErrors.increment();
                code = e instanceof CredentialException ce ? ce.code() : "UnknownError";
                throw e;
            } finally {
                long nanos = System.nanoTime() - start;
                stats.stsNanos.add(nanos);
                listener.stsCall(key.role(), code, nanos / 1e9);
            }
        }

        private synchronized void completed(CompletableFuture<Credentials> call, Credentials credentials, Throwable error) {
            if (inflight == call) {
                inflight = null;
            }
            Instant now = clock.instant();
            if (error == null) {
                current = credentials;
                lastError = null;
                failures = 0;
                schedule(refreshDelay(credentials, now));
                return;
            }
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            lastError = cause instanceof CredentialException ce ? ce
                    : new CredentialException(500, "Internal", "fetching credentials for " + key + " failed: " + cause, cause);
            lastErrorAt = now;
            failures++;
            // Keep trying in the background while someone still needs this key.
            if (current != null || wanted.test(key)) {
                long backoff = Math.min(MAX_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(failures - 1, 10));
                // kube2iam's --iam-role-error-ttl: one STS call per TTL for a failing role, background retries included.
                backoff = Math.max(backoff, settings.errorTtl().toMillis());
                schedule(Duration.ofMillis(backoff + ThreadLocalRandom.current().nextLong(backoff / 4 + 1)));
            }
            LOG.log(Level.WARNING, "AssumeRole for {0} failed ({1} in a row): {2}", key, failures, lastError.getMessage());
        }

        private Duration refreshDelay(Credentials credentials, Instant now) {
            long jitter = settings.refreshJitter().isZero() ? 0 : ThreadLocalRandom.current().nextLong(settings.refreshJitter().toMillis());
            Duration delay = credentials.remaining(now).minus(settings.minRemaining()).minus(settings.refreshAhead())
                    .minusMillis(jitter);
            // Credentials shorter-lived than our margins would otherwise be refreshed in a tight loop.
            return delay.compareTo(FIRST_RETRY) < 0 ? FIRST_RETRY : delay;
        }

        private void schedule(Duration delay) {
            if (next != null) {
                next.cancel(false);
            }
            if (!timer.isShutdown()) {
                next = timer.schedule(this::refreshOrEvict, delay.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        private void refreshOrEvict() {
            Instant now = clock.instant();
            boolean idle = Duration.between(lastUsed, now).compareTo(settings.idleGrace()) > 0;
            if (idle && !wanted.test(key)) {
                entries.remove(key, this);
                stats.evictions.increment();
                return;
            }
            stats.refreshes.increment();
            fetch();
        }
    }
}
