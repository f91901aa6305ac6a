package io.iamlet.netlink.nft.expr;


import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.NetlinkConstants.NFT_CMP_EQ;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/** {@code cmp OP reg SREG DATA}. */
public record Cmp(int sreg, int op, Bytes data) implements NftExpr {
    static final String NAME = "cmp";
    private static final short SREG = 1, OP = 2, DATA = 3;

    /** {@code cmp eq reg DATA}. */
    public static Cmp equal(Reg reg, Bytes data) {
        return new Cmp(reg.number, NFT_CMP_EQ, data);
    }

    public String name() {
        return NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, SREG, sreg);
        nftnl_expr_set_u32(e, OP, op);
        Attrs.setData(e, DATA, data, arena);
    }

    static Cmp decode(MemorySegment e, Arena arena) {
        return new Cmp(Attrs.u32(e, SREG), Attrs.u32(e, OP), Attrs.data(e, DATA, arena));
    }
}
