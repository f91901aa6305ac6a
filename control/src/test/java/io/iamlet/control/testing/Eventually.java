package io.iamlet.control.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waiting in tests for what another thread makes true, failing with what was awaited once the limit passes. */
public final class Eventually {
    private Eventually() {
    }

    public static void within(Duration limit, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("waited " + limit.toSeconds() + " s until " + what);
            }
            Thread.sleep(5);
        }
    }
}
