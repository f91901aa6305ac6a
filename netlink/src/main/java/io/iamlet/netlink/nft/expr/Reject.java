package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.NetlinkConstants.NFT_REJECT_TCP_RST;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_get_u8;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u8;

/** {@code reject type TYPE code CODE}; type 1 is a TCP reset. */
public record Reject(int type, int code) implements NftExpr {
    static final String NAME = "reject";
    private static final short TYPE = 1, CODE = 2;

    /** {@code reject with tcp reset}. */
    public static Reject tcpReset() {
        return new Reject(NFT_REJECT_TCP_RST, 0);
    }

    public String name() {
        return NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, TYPE, type);
        nftnl_expr_set_u8(e, CODE, (byte) code);
    }

    static Reject decode(MemorySegment e) {
        return new Reject(Attrs.u32(e, TYPE), Byte.toUnsignedInt(nftnl_expr_get_u8(e, CODE)));
    }
}
