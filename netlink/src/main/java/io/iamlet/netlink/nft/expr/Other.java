package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Any expression iamlet does not write: read back, never built. */
public record Other(String name) implements NftExpr {
    public void encode(MemorySegment e, Arena arena) {
        throw new IllegalArgumentException("cannot build expression '" + name + "': iamlet only reads it");
    }
}
