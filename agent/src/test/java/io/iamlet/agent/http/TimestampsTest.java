package io.iamlet.agent.http;

import io.iamlet.agent.log.RequestLog;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TimestampsTest {
    @Test
    void sameTextAsIsoInstant() {
        RequestLog.Timestamps timestamps = new RequestLog.Timestamps();
        Random random = new Random(3);
        long second = Instant.parse("2026-11-25T10:00:00Z").getEpochSecond();
        for (int i = 0; i < 100_000; i++) {
            // Mostly the same few seconds (the cache), sometimes far away; fractions of every shape.
            long s = random.nextInt(10) == 0 ? random.nextLong(0, 4_000_000_000L) : second + random.nextInt(3);
            int nanos = switch (random.nextInt(4)) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            Instant instant = Instant.ofEpochSecond(s, nanos);
            assertEquals(DateTimeFormatter.ISO_INSTANT.format(instant), timestamps.format(instant));
        }
    }
}
