package io.iamlet.netlink.nft.expr;


import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/** {@code immediate reg DREG DATA}: loads data into a data register. A verdict is the other form, {@link Verdict}. */
public record Immediate(int dreg, Bytes data) implements NftExpr {
    static final String NAME = "immediate";
    static final short DREG = 1, DATA = 2;

    /** {@code immediate reg DATA}. */
    public static Immediate set(Reg reg, Bytes data) {
        return new Immediate(reg.number, data);
    }

    public String name() {
        return NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, DREG, dreg);
        Attrs.setData(e, DATA, data, arena);
    }

    static Immediate decode(MemorySegment e, Arena arena) {
        return new Immediate(Attrs.u32(e, DREG), Attrs.data(e, DATA, arena));
    }
}
