package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClientException;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The pod index's reads of the API server, one per key at a time: lookups that need the same read while it is
 * in flight wait for it and share its answer (or its failure). During an outage of the watches, the answer is
 * also kept for a short window ({@code keep}, at most a second) in which lookups take it without asking again,
 * and a new read needs room in the node's {@link ReadBudget}; without it the caller is told so and decides
 * from the index alone. While the watches run, the index is newer than any kept answer, and reads are rare
 * (an IMDSv2 token's binding): neither applies then.
 *
 * @param <T> what one read returns (a pod, or null when it is gone; the node's pods)
 */
public final class SharedReads<T> {
    /** The longest a kept answer may stand in for the API server: what docs/security.md promises. */
    public static final Duration MAX_KEEP = Duration.ofSeconds(1);

    private final ReadBudget budget;
    private final long keepNanos;
    private final LongSupplier nanoClock;
    private final BiConsumer<String, T> answered;
    private final Map<String, Flight<T>> flights = new ConcurrentHashMap<>();
    private final LongAdder started = new LongAdder();
    private final LongAdder shared = new LongAdder();
    private final LongAdder overBudget = new LongAdder();

    /** What a lookup got: the read's answer (its own, one in flight, or one kept), or no read at all. */
    public sealed interface Read<T> {
        record Answered<T>(T value) implements Read<T> {
        }

        /** The budget had no room for a new read and no answer was in flight or kept. */
        record OverBudget<T>() implements Read<T> {
        }

        /** A read is on its way (perhaps started by this lookup) and the lookup did not wait for it. */
        record Pending<T>() implements Read<T> {
        }
    }

    /** Reads started, lookups that took another's read (in flight or kept), lookups refused a read. */
    public record Counts(long started, long shared, long overBudget) {
    }

    private static final class Flight<T> {
        final CompletableFuture<T> answer = new CompletableFuture<>();
        volatile long doneNanos;
        /** The read that refreshes this kept answer ahead of its window's end, once started. */
        volatile Flight<T> next;

        boolean usable(long now, long keepNanos) {
            return !answer.isDone() || now - doneNanos <= keepNanos;
        }
    }

    public SharedReads(ReadBudget budget, Duration keep, LongSupplier nanoClock) {
        this(budget, keep, nanoClock, (key, value) -> {
        });
    }

    /** @param answered told of every read's answer (not of failures), on the reading thread, before any lookup gets it */
    public SharedReads(ReadBudget budget, Duration keep, LongSupplier nanoClock, BiConsumer<String, T> answered) {
        if (keep.isNegative() || keep.compareTo(MAX_KEEP) > 0) {
            throw new IllegalArgumentException("an API answer may be kept for 0 to " + MAX_KEEP.toMillis() + " ms, not " + keep.toMillis() + " ms");
        }
        this.budget = budget;
        this.keepNanos = keep.toNanos();
        this.nanoClock = nanoClock;
        this.answered = answered;
    }

    /** {@link #read(String, boolean, Supplier)} during an outage. */
    public Read<T> read(String key, Supplier<T> call) {
        return read(key, true, call);
    }

    /**
     * The answer for {@code key}: from a read in flight, else from {@code call} run on this thread. During an {@code outage}, also from an answer kept, and a new read only if
     * the budget has room. A failure of the read is thrown to every lookup that shares it.
     */
    public Read<T> read(String key, boolean outage, Supplier<T> call) {
        return read(key, outage, call, true);
    }

    /**
     * Like {@link #read(String, boolean, Supplier)}, but never waits for a read: an answer kept (or a failure) is
     * returned as such, a read in flight or one this lookup starts (on a thread of its own) as {@link Read.Pending}.
     */
    public Read<T> readWithoutWaiting(String key, boolean outage, Supplier<T> call) {
        return read(key, outage, call, false);
    }

    private Read<T> read(String key, boolean outage, Supplier<T> call, boolean wait) {
        long keep = outage ? keepNanos : -1;
        Flight<T> mine = new Flight<>();
        Flight<T> flight = flights.compute(key, (k, old) -> {
            if (old != null && old.usable(nanoClock.getAsLong(), keep)) {
                return old;
            }
            if (old != null && old.next != null && outage) {
                return old.next; // its window ended while the refresh was on its way: wait for the refresh
            }
            return !outage || budget.tryAcquire() ? mine : old;
        });
        if (flight == mine) {
            started.increment();
            forgetOld();
            if (wait) {
                return new Read.Answered<>(run(key, mine, call));
            }
            inBackground(key, mine, call);
            return new Read.Pending<>();
        }
        if (flight == null || !flight.usable(nanoClock.getAsLong(), keep)) {
            overBudget.increment();
            return new Read.OverBudget<>();
        }
        shared.increment();
        if (outage) {
            refreshAhead(key, flight, call);
        }
        if (!wait && !flight.answer.isDone()) {
            return new Read.Pending<>();
        }
        return new Read.Answered<>(await(flight));
    }

    /** Runs {@code call} for {@code flight} on this thread: its answer or failure is also every sharer's. */
    private T run(String key, Flight<T> flight, Supplier<T> call) {
        try {
            T value = call.get();
            answered.accept(key, value);
            finish(flight, () -> flight.answer.complete(value));
            return value;
        } catch (RuntimeException e) {
            finish(flight, () -> flight.answer.completeExceptionally(e));
            throw e;
        }
    }

    /**
     * In the last quarter of a kept answer's window, one lookup starts the next read (within the budget) on a
     * thread of its own and takes the kept answer meanwhile, as every other lookup does. Otherwise the pod's
     * requests all wait for the read that replaces it once a window (a read's time in the API server, which
     * on its bad day is long): the tail of the latency during an outage. The window itself does not grow: a
     * lookup after it ends waits for the refresh.
     */
    private void refreshAhead(String key, Flight<T> kept, Supplier<T> call) {
        if (!kept.answer.isDone() || kept.next != null || nanoClock.getAsLong() - kept.doneNanos < keepNanos - keepNanos / 4) {
            return;
        }
        Flight<T> next = new Flight<>();
        flights.computeIfPresent(key, (k, current) -> {
            if (current == kept && kept.next == null && budget.tryAcquire()) {
                kept.next = next;
            }
            return current;
        });
        if (kept.next != next) {
            return;
        }
        started.increment();
        inBackground(key, next, call, () -> flights.replace(key, kept, next));
    }

    /** A read nobody waits for: its answer or failure is in the flight, for the lookups that share it. */
    private void inBackground(String key, Flight<T> flight, Supplier<T> call) {
        inBackground(key, flight, call, () -> {
        });
    }

    private void inBackground(String key, Flight<T> flight, Supplier<T> call, Runnable then) {
        Thread.ofVirtual().name("api-read").start(() -> {
            try {
                run(key, flight, call);
            } catch (RuntimeException e) {
                // The failure is in the flight, for the lookups that wait for it.
            }
            then.run();
        });
    }

    private void finish(Flight<T> flight, Runnable complete) {
        flight.doneNanos = nanoClock.getAsLong();
        complete.run();
    }

    private static <T> T await(Flight<T> flight) {
        try {
            return flight.answer.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof KubernetesClientException k ? k
                    : new KubernetesClientException("asking the API server failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KubernetesClientException("interrupted while waiting for the API server");
        }
    }

    /** Answers past their window are of no use; the keys are the node's pods and addresses, but drop them anyway. */
    private void forgetOld() {
        if (flights.size() > 1024) {
            long now = nanoClock.getAsLong();
            flights.values().removeIf(f -> !f.usable(now, keepNanos));
        }
    }

    public Counts counts() {
        return new Counts(started.sum(), shared.sum(), overBudget.sum());
    }
}
