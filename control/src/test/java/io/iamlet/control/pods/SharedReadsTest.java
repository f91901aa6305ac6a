package io.iamlet.control.pods;

import io.fabric8.kubernetes.client.KubernetesClientException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** One API read per key at a time, shared by the lookups that need it, kept ≤ 1 s, started only within the budget. */
class SharedReadsTest {
    private static final long MS = 1_000_000L;
    private final AtomicLong now = new AtomicLong(1_000 * MS);

    private SharedReads<String> reads(int perSecond, Duration keep) {
        return new SharedReads<>(new ReadBudget(perSecond, now::get), keep, now::get);
    }

    private static String value(SharedReads.Read<String> read) {
        return read instanceof SharedReads.Read.Answered<String>(String v) ? v : "over budget";
    }

    @Test
    void concurrentLookupsOfOneKeyShareOneRead() throws Exception {
        SharedReads<String> reads = reads(100, Duration.ofSeconds(1));
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Future<String>> answers = new ArrayList<>();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            answers.add(threads.submit(() -> value(reads.read("team/a", () -> {
                calls.incrementAndGet();
                inFlight.countDown();
                await(release);
                return "pod a";
            }))));
            assertTrue(inFlight.await(5, TimeUnit.SECONDS));
            for (int i = 0; i < 199; i++) {
                answers.add(threads.submit(() -> value(reads.read("team/a", () -> {
                    calls.incrementAndGet();
                    return "a second read";
                }))));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (reads.counts().shared() < 199 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            release.countDown();
            for (Future<String> a : answers) {
                assertEquals("pod a", a.get(5, TimeUnit.SECONDS));
            }
        }
        assertEquals(1, calls.get(), "200 concurrent lookups, one read");
        assertEquals(new SharedReads.Counts(1, 199, 0), reads.counts());
    }

    @Test
    void anAnswerIsKeptForItsWindowAndNoLonger() {
        SharedReads<String> reads = reads(100, Duration.ofMillis(1000));
        AtomicInteger calls = new AtomicInteger();
        assertEquals("read 1", value(reads.read("k", () -> "read " + calls.incrementAndGet())));
        now.addAndGet(1000 * MS);
        assertEquals("read 1", value(reads.read("k", () -> "read " + calls.incrementAndGet())), "1 s old: still kept");
        now.addAndGet(1);
        assertEquals("read 2", value(reads.read("k", () -> "read " + calls.incrementAndGet())), "older than 1 s: read again");
        assertEquals("other 3", value(reads.read("other", () -> "other " + calls.incrementAndGet())), "another key has its own read");
    }

    /**
     * The outage's latency tail: every pod's requests waited for the read that replaced its kept answer, once
     * a window. In the window's last quarter one lookup starts that read in the background; nobody waits for
     * it while the kept answer stands, and nobody gets an answer older than the window.
     */
    @Test
    void aKeptAnswerIsRefreshedAheadOfItsEndWithoutAnyLookupWaiting() throws Exception {
        SharedReads<String> reads = reads(100, Duration.ofMillis(1000));
        assertEquals("read 1", value(reads.read("k", () -> "read 1")));
        CountDownLatch refreshing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        now.addAndGet(700 * MS);
        assertEquals("read 1", value(reads.read("k", () -> "never")), "70% of the window: no refresh yet");
        now.addAndGet(100 * MS);
        assertEquals("read 1", value(reads.read("k", () -> {
            calls.incrementAndGet();
            refreshing.countDown();
            await(release);
            return "read 2";
        })), "the refresh's starter does not wait for it");
        assertTrue(refreshing.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 50; i++) {
            assertEquals("read 1", value(reads.read("k", () -> "a second refresh")), "one refresh at a time; the kept answer stands");
        }
        now.addAndGet(200 * MS + 1);
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> late = threads.submit(() -> value(reads.read("k", () -> "a read beside the refresh")));
            Thread.sleep(50);
            assertFalse(late.isDone(), "past the window a lookup waits for the refresh in flight, not for a kept answer");
            release.countDown();
            assertEquals("read 2", late.get(5, TimeUnit.SECONDS));
        }
        assertEquals(1, calls.get());
        assertEquals(2, reads.counts().started(), "the first read and one refresh");
        assertEquals("read 2", value(reads.read("k", () -> "never")), "the refresh's answer is kept from when it came");

        SharedReads<String> spent = reads(1, Duration.ofMillis(1000));
        assertEquals("read 1", value(spent.read("k", () -> "read 1")));
        now.addAndGet(900 * MS);
        assertEquals("read 1", value(spent.read("k", () -> "no room")), "a refresh needs room in the budget too");
        now.addAndGet(101 * MS);
        assertEquals("over budget", value(spent.read("k", () -> "no room")));
        assertEquals(1, spent.counts().started());
    }

    @Test
    void aFailureIsSharedAndKeptTooSoADownApiServerIsNotAskedAgainAtOnce() {
        SharedReads<String> reads = reads(100, Duration.ofMillis(500));
        AtomicInteger calls = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            KubernetesClientException e = assertThrows(KubernetesClientException.class, () -> reads.read("k", () -> {
                calls.incrementAndGet();
                throw new KubernetesClientException("503 from the API server");
            }));
            assertTrue(e.getMessage().contains("503"), e.getMessage());
        }
        assertEquals(1, calls.get());
        now.addAndGet(501 * MS);
        assertEquals("back", value(reads.read("k", () -> "back")));
    }

    @Test
    void beyondTheBudgetNoReadStartsUntilTheSecondHasRoom() {
        SharedReads<String> reads = reads(2, Duration.ofMillis(100));
        AtomicInteger calls = new AtomicInteger();
        for (int pod = 0; pod < 10; pod++) {
            reads.read("pod-" + pod, () -> "read " + calls.incrementAndGet());
        }
        assertEquals(2, calls.get(), "10 pods within one instant, budget 2/s");
        assertEquals(new SharedReads.Counts(2, 0, 8), reads.counts());
        assertEquals("read 1", value(reads.read("pod-0", () -> "never")), "a kept answer needs no budget");
        now.addAndGet(200 * MS);
        assertEquals("over budget", value(reads.read("pod-0", () -> "never")), "its window is over and the second is full");
        now.addAndGet(900 * MS);
        assertEquals("read 3", value(reads.read("pod-5", () -> "read " + calls.incrementAndGet())), "a second later there is room");
    }

    @Test
    void outsideAnOutageOnlyAReadInFlightIsSharedAndTheBudgetDoesNotApply() throws Exception {
        SharedReads<String> reads = reads(100, Duration.ofSeconds(1));
        AtomicInteger calls = new AtomicInteger();
        assertEquals("read 1", value(reads.read("k", false, () -> "read " + calls.incrementAndGet())));
        assertEquals("read 2", value(reads.read("k", false, () -> "read " + calls.incrementAndGet())), "done answers are not reused");
        assertEquals("read 2", value(reads.read("k", true, () -> "read " + calls.incrementAndGet())), "unless kept ones are welcome");
        CountDownLatch inFlight = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        now.addAndGet(2000 * MS);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> first = threads.submit(() -> value(reads.read("k", false, () -> {
                inFlight.countDown();
                await(release);
                return "read " + calls.incrementAndGet();
            })));
            assertTrue(inFlight.await(5, TimeUnit.SECONDS));
            Future<String> second = threads.submit(() -> value(reads.read("k", false, () -> "read " + calls.incrementAndGet())));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (reads.counts().shared() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            release.countDown();
            assertEquals("read 3", first.get(5, TimeUnit.SECONDS));
            assertEquals("read 3", second.get(5, TimeUnit.SECONDS), "a read in flight is shared either way");
        }
        assertEquals(3, calls.get());
        SharedReads<String> none = reads(0, Duration.ofSeconds(1));
        assertEquals("read", value(none.read("k", false, () -> "read")), "the budget is for outages");
        assertEquals("over budget", value(none.read("j", true, () -> "read")));
    }

    @Test
    void anAnswerIsNeverKeptLongerThanASecond() {
        assertThrows(IllegalArgumentException.class, () -> reads(1, Duration.ofMillis(1001)));
        assertThrows(IllegalArgumentException.class, () -> reads(1, Duration.ofMillis(-1)));
        SharedReads<String> unkept = reads(100, Duration.ZERO);
        AtomicInteger calls = new AtomicInteger();
        unkept.read("k", () -> "read " + calls.incrementAndGet());
        now.addAndGet(1);
        unkept.read("k", () -> "read " + calls.incrementAndGet());
        assertEquals(2, calls.get());
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A lookup that may be answered without the API server (a request with its pod's IMDSv2 token) never waits:
     * a read it starts runs on a thread of its own, a read in flight is Pending, a kept answer is taken, and
     * every answer reaches the hook (the index's table) though nobody waited for it.
     */
    @Test
    void aLookupThatDoesNotWaitStartsTheReadInTheBackgroundAndItsAnswerStillReachesTheHook() throws Exception {
        java.util.Map<String, String> told = new java.util.concurrent.ConcurrentHashMap<>();
        SharedReads<String> reads = new SharedReads<>(new ReadBudget(5, now::get), Duration.ofSeconds(1), now::get, told::put);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        java.util.function.Supplier<String> slow = () -> {
            calls.incrementAndGet();
            await(release);
            return "gone";
        };
        assertInstanceOf(SharedReads.Read.Pending.class, reads.readWithoutWaiting("team/a", true, slow), "started, not waited for");
        assertInstanceOf(SharedReads.Read.Pending.class, reads.readWithoutWaiting("team/a", true, slow), "in flight, not waited for");
        assertEquals(Map.of(), told);
        release.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (told.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(Map.of("team/a", "gone"), told, "the answer nobody waited for");
        SharedReads.Read<String> kept = reads.readWithoutWaiting("team/a", true, slow);
        while (kept instanceof SharedReads.Read.Pending<String> && System.nanoTime() < deadline) { // the hook is told just before the flight ends
            Thread.sleep(1);
            kept = reads.readWithoutWaiting("team/a", true, slow);
        }
        assertEquals("gone", value(kept), "kept: taken as it is");
        assertEquals(1, calls.get(), "one read");
        assertEquals(1, reads.counts().started());
        assertEquals(0, reads.counts().overBudget());
    }
}
