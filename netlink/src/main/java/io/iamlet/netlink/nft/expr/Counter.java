package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_get_u64;

/** {@code counter}; packets and bytes are what the kernel reports, zero when building. */
public record Counter(long packets, long bytes) implements NftExpr {
    static final String NAME = "counter";
    private static final short PACKETS = 1, BYTES = 2;

    /** A new counter. */
    public static Counter zero() {
        return new Counter(0, 0);
    }

    public String name() {
        return NAME;
    }

    /** A new counter starts at zero: nothing to set. */
    public void encode(MemorySegment e, Arena arena) {
    }

    static Counter decode(MemorySegment e) {
        return new Counter(nftnl_expr_get_u64(e, PACKETS), nftnl_expr_get_u64(e, BYTES));
    }
}
