package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * bin/bench --api-outage, small and short: the real agent, the fake API server dropping and refusing watches
 * while six pods ask. Asserts the counts, never the timings: every pod its own role, the API reads within the
 * budget in every second, the unknown pod never answered with a role, and the agent current again afterwards.
 */
class ApiOutageBenchE2eTest {
    @Test
    void duringAWatchOutageTheApiReadsStayWithinTheBudgetAndEveryPodGetsItsOwnRole() {
        Command.Result bench = Command.run(Duration.ofMinutes(3),
                TestJvm.command(Bench.class, "--api-outage", "--pods=30", "--real-pods=6", "--connections=1", "--duration=3"));
        assertEquals(0, bench.exitCode(), bench.output());
        String out = bench.stdout();
        for (String row : List.of("| requests (req/s) | ", "| latency p50 / p99 / p999, worst pod | ", "| answers not 2xx | 0 | 0 | 0 |",
                "| API reads (GET one pod / list) | ", "| unknown pod: requests / 503 with Retry-After (the others 404) | | ",
                "| agent not ready after the watches dropped / ready after they were allowed again | | ", "bench OK")) {
            assertTrue(out.contains(row), "the table has '" + row + "':\n" + out);
        }
        Matcher perSecond = Pattern.compile("\\| API reads per second: mean / most in any one second \\| \\| ([0-9.]+) / (\\d+) \\|").matcher(out);
        assertTrue(perSecond.find(), out);
        int worst = Integer.parseInt(perSecond.group(2));
        assertTrue(worst >= 1 && worst <= 10, "the outage cost API reads, at most 10 in any second: " + worst + "\n" + out);
        Matcher reads = Pattern.compile("\\| API reads \\(GET one pod / list\\) \\| (\\d+) \\| (\\d+) \\((\\d+) / (\\d+)\\) \\| (\\d+) \\|").matcher(out);
        assertTrue(reads.find(), out);
        assertEquals(0, Integer.parseInt(reads.group(1)), "no reads while the watches ran:\n" + out);
        assertEquals(0, Integer.parseInt(reads.group(5)), "nor once they were back:\n" + out);
    }
}
