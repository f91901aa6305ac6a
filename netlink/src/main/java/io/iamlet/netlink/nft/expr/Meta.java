package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.NetlinkConstants.NFT_META_IIFNAME;
import static io.iamlet.netlink.NetlinkConstants.NFT_META_L4PROTO;
import static io.iamlet.netlink.NetlinkConstants.NFT_META_NFPROTO;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/** {@code meta load KEY => reg DREG}. */
public record Meta(int key, int dreg) implements NftExpr {
    static final String NAME = "meta";
    private static final short KEY = 1, DREG = 2, SREG = 3;

    /** The meta keys iamlet matches on. */
    public enum Key {
        IIFNAME(NFT_META_IIFNAME), NFPROTO(NFT_META_NFPROTO), L4PROTO(NFT_META_L4PROTO);

        final int number;

        Key(int number) {
            this.number = number;
        }
    }

    /** {@code meta load KEY => reg}. */
    public static Meta load(Key key, Reg into) {
        return new Meta(key.number, into.number);
    }

    public String name() {
        return NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, KEY, key);
        nftnl_expr_set_u32(e, DREG, dreg);
    }

    /** A load; "meta set" (a source register instead) is not one of ours. */
    static NftExpr decode(MemorySegment e) {
        return Attrs.has(e, SREG) ? new Other("meta set") : new Meta(Attrs.u32(e, KEY), Attrs.u32(e, DREG));
    }
}
