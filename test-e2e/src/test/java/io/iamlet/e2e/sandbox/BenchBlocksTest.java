package io.iamlet.e2e.sandbox;

import io.iamlet.e2e.sandbox.Bench.Load;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** How bin/bench --backend=ebpf folds its ABBA blocks into the two paths' figures. */
class BenchBlocksTest {
    private static Load load(long requests) {
        return new Load(requests, 1.0, 0, 0, 100, 200, 300, requests / 10);
    }

    @Test
    void eachBlocksOuterLoadsAreTheAddressPathAndItsInnerOnesTheKernels() {
        // Block 1: address 100, 300; kernel 200, 200. Block 2: address 1000, 1000; kernel 900, 1100.
        Load[] abba = {load(100), load(200), load(200), load(300), load(1000), load(900), load(1100), load(1000)};
        assertEquals(2400, Bench.addressPart(abba).requests());
        assertEquals(4.0, Bench.addressPart(abba).seconds());
        assertEquals(2400, Bench.kernelPart(abba).requests());
        assertArrayEquals(new double[] {1.0, 1.0}, Bench.blockRatios(abba), 1e-9);
    }

    @Test
    void theMedianOfTheBlocksIsNotMovedByOneBlockTheMachineDisturbed() {
        Load[] abba = {
                load(100), load(95), load(95), load(100),
                load(100), load(97), load(97), load(100),
                load(100), load(20), load(20), load(100), // another process took the cores during this block's kernel loads
        };
        double[] ratios = Bench.blockRatios(abba);
        assertArrayEquals(new double[] {0.2, 0.95, 0.97}, ratios, 1e-9);
        assertEquals(0.95, Bench.median(ratios), 1e-9);
        assertEquals(0.96, Bench.median(new double[] {0.95, 0.97}), 1e-9);
    }
}
