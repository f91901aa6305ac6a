package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** bin/bench, small and short, so it cannot rot: every row of its table, exit 0 (all answers 2xx, no STS call). */
class BenchSmokeE2eTest {
    @Test
    void aShortBenchPrintsTheWholeTableAndExitsZero() {
        Command.Result bench = Command.run(Duration.ofMinutes(2),
                TestJvm.command(Bench.class, "--pods=50", "--duration=2", "--warmup=1", "--after-ready=1"));
        assertEquals(0, bench.exitCode(), bench.output());
        String out = bench.stdout();
        for (String row : List.of("| 1 connection | ", "| 16 connections | ", "| process start → /readyz 200 (CPU time used by then) | | ",
                "| RSS after the load (anonymous / file-backed) | | ", "| RSS 10 s after the load (anonymous / file-backed) | | ",
                "| STS calls from start to the load / during the load | | ", "bench OK")) {
            assertTrue(out.contains(row), "the table has '" + row + "':\n" + out);
        }
        assertTrue(out.matches("(?s).*\\| rule install / remove \\(one transaction, in process\\) \\| \\| [0-9.]+ ms / [0-9.]+ ms \\|.*"),
                "the agent logged both transactions' durations:\n" + out);
        assertTrue(out.matches("(?s).*\\| STS calls from start to the load / during the load \\| \\| [0-9]+ / 0 \\|.*"), out);
        assertTrue(out.matches("(?s).*\\| process start → /readyz 200 \\(CPU time used by then\\) \\| \\| [0-9.]+ s \\([0-9.]+ s\\) \\|.*"),
                "the agent's CPU time was found:\n" + out);
        assertTrue(out.matches("(?s).*\\| RSS after the load \\(anonymous / file-backed\\) \\| \\| [0-9]+ MiB \\([1-9][0-9]* / [1-9][0-9]*\\) \\|.*"), out);
        assertTrue(out.matches("(?s).*\\| 16 connections \\| [0-9]+ req/s, .* \\| [0-9]+ req/s, .*"), out);
        assertTrue(out.matches("(?s).*\\| 1 connection, the first 1 s after ready \\([0-9]+ STS calls made by its end\\) \\| \\| [0-9]+ req/s, .*"),
                "measured right after ready too:\n" + out);
    }

    /**
     * 1000 pods of 4.7 KiB each (ProductionPods): before the informer parsed pods straight into SlimPod, the first list
     * of them as fabric8's whole Pod objects ran the agent out of its 48 MiB heap (OutOfMemoryError, never ready).
     */
    @Test
    void aNodeWithAThousandProductionSizedPodsStartsWithinTheAgentsHeap() {
        Command.Result bench = Command.run(Duration.ofMinutes(3), TestJvm.command(Bench.class, "--pods=1000", "--pod-size=production",
                "--duration=1", "--warmup=1", "--after-ready=0", "--connections=1"));
        assertEquals(0, bench.exitCode(), bench.output());
        String out = bench.stdout();
        assertTrue(out.contains("1000 pods in the API (1000 indexed at sync, production-sized pods)"), out);
        assertFalse(bench.output().contains("OutOfMemoryError"), bench.output());
        assertTrue(out.contains("bench OK"), out);
    }

    @Test
    void theKernelIdentityComparisonPrintsItsBlocksAndExitsZero() {
        Command.Result bench = Command.run(Duration.ofMinutes(2), TestJvm.command(Bench.class, "--backend=ebpf", "--pods=50",
                "--duration=1", "--warmup=1", "--after-ready=1", "--connections=1", "--blocks=3", "--block-seconds=1"));
        assertEquals(0, bench.exitCode(), bench.output());
        String out = bench.stdout();
        assertTrue(out.contains("in 3 ABBA blocks (address, kernel, kernel, address) of 1 s loads"), out);
        assertTrue(out.matches("(?s).*\\| 1 connection \\| [0-9]+ req/s, [^|]+ µs CPU \\| [0-9]+ req/s, [^|]+ µs CPU \\| [0-9.]+×, [0-9.]+×"
                + " \\| [0-9.]+× \\([0-9.]+×, [0-9.]+×\\) \\|.*"), "both paths measured, with the blocks' median and range:\n" + out);
        assertTrue(out.contains("bench OK"), out);
    }
}
