package io.iamlet.control.pods;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** The node-wide API read budget: never more reads started in any one second than it allows, at any request rate. */
class ReadBudgetTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aFullSecondRefusesUntilItsOldestReadIsASecondOld() {
        AtomicLong now = new AtomicLong(42);
        ReadBudget budget = new ReadBudget(3, now::get);
        assertTrue(budget.tryAcquire());
        now.addAndGet(100_000_000);
        assertTrue(budget.tryAcquire());
        assertTrue(budget.tryAcquire());
        assertFalse(budget.tryAcquire(), "3 reads in this second already");
        now.set(42 + ReadBudget.WINDOW_NANOS - 1);
        assertFalse(budget.tryAcquire(), "the first read is not yet a second (and the margin) old");
        now.set(42 + ReadBudget.WINDOW_NANOS);
        assertTrue(budget.tryAcquire(), "the first read has left the window");
        assertFalse(budget.tryAcquire(), "the other two are still in it");
    }

    @Test
    void zeroMeansNoReadsAndNegativeIsRefused() {
        assertFalse(new ReadBudget(0).tryAcquire());
        assertThrows(IllegalArgumentException.class, () -> new ReadBudget(-1));
    }

    /**
     * Requests arriving at 2, 1,000 and 100,000 per second for 20 simulated seconds, at random moments: every
     * one-second window holds at most the budget's reads, and at high rates the budget is used in full.
     */
    @Test
    void noOneSecondWindowHoldsMoreReadsThanTheBudgetAtAnyRequestRate() {
        Random random = new Random(24);
        for (int rate : new int[] {2, 1_000, 100_000}) {
            AtomicLong now = new AtomicLong();
            ReadBudget budget = new ReadBudget(5, now::get);
            List<Long> reads = new ArrayList<>();
            long requests = 0;
            while (now.get() < 20 * SECOND) {
                now.addAndGet(1 + (long) (random.nextDouble() * 2 * SECOND / rate));
                requests++;
                if (budget.tryAcquire()) {
                    reads.add(now.get());
                }
            }
            for (int i = 0; i < reads.size(); i++) {
                int inWindow = 0;
                for (int j = i; j < reads.size() && reads.get(j) - reads.get(i) < SECOND; j++) {
                    inWindow++;
                }
                assertTrue(inWindow <= 5, rate + " requests/s: " + inWindow + " reads within one second of read " + i);
            }
            if (rate >= 1_000) {
                assertTrue(reads.size() >= 5 * 19, rate + " requests/s, " + requests + " requests: " + reads.size() + " reads in 20 s");
            } else {
                assertEquals(requests, reads.size(), "below the budget every request gets its read");
            }
        }
    }

    @Test
    void concurrentCallersNeverTakeMoreThanTheBudget() throws Exception {
        ReadBudget budget = new ReadBudget(7, () -> 0L); // a clock that stands still: one window, forever
        AtomicInteger granted = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    if (budget.tryAcquire()) {
                        granted.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(7, granted.get(), "160,000 attempts in one instant");
    }
}
