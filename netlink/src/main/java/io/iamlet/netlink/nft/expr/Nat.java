package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.NetlinkConstants.NFT_NAT_DNAT;
import static io.iamlet.netlink.NetlinkConstants.NF_NAT_RANGE_MAP_IPS;
import static io.iamlet.netlink.NetlinkConstants.NF_NAT_RANGE_PROTO_SPECIFIED;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/** {@code nat TYPE FAMILY addr_min reg .. proto_min reg .. flags ..}; absent registers are 0. */
public record Nat(int type, int family, int regAddrMin, int regAddrMax, int regProtoMin, int regProtoMax, int flags)
        implements NftExpr {
    static final String NAME = "nat";
    private static final short TYPE = 1, FAMILY = 2, REG_ADDR_MIN = 3, REG_ADDR_MAX = 4, REG_PROTO_MIN = 5,
            REG_PROTO_MAX = 6, FLAGS = 7;

    /** {@code dnat FAMILY to addr reg : port reg}, as nft writes {@code dnat ip to ADDR:PORT}. */
    public static Nat dnat(int nfproto, Reg address, Reg port) {
        return new Nat(NFT_NAT_DNAT, nfproto, address.number, address.number, port.number, port.number,
                NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
    }

    public String name() {
        return NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, TYPE, type);
        nftnl_expr_set_u32(e, FAMILY, family);
        Attrs.setUnlessZero(e, REG_ADDR_MIN, regAddrMin);
        Attrs.setUnlessZero(e, REG_ADDR_MAX, regAddrMax);
        Attrs.setUnlessZero(e, REG_PROTO_MIN, regProtoMin);
        Attrs.setUnlessZero(e, REG_PROTO_MAX, regProtoMax);
        Attrs.setUnlessZero(e, FLAGS, flags);
    }

    static Nat decode(MemorySegment e) {
        return new Nat(Attrs.u32(e, TYPE), Attrs.u32(e, FAMILY), Attrs.u32OrZero(e, REG_ADDR_MIN), Attrs.u32OrZero(e, REG_ADDR_MAX),
                Attrs.u32OrZero(e, REG_PROTO_MIN), Attrs.u32OrZero(e, REG_PROTO_MAX), Attrs.u32OrZero(e, FLAGS));
    }
}
