package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.NetlinkConstants.NFT_JUMP;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/** {@code immediate reg 0 VERDICT [CHAIN]}: accept, drop, jump to a chain, ...; an immediate into the verdict register. */
public record Verdict(int verdict, String chain) implements NftExpr {
    private static final int VERDICT_REGISTER = 0;
    private static final short VERDICT = 3, CHAIN = 4;

    /** {@code jump CHAIN}. */
    public static Verdict jump(String chain) {
        return new Verdict(NFT_JUMP, chain);
    }

    public String name() {
        return Immediate.NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, Immediate.DREG, VERDICT_REGISTER);
        nftnl_expr_set_u32(e, VERDICT, verdict);
        if (chain != null) {
            Attrs.setString(e, CHAIN, chain, arena);
        }
    }

    static boolean holdsVerdict(MemorySegment e) {
        return Attrs.u32(e, Immediate.DREG) == VERDICT_REGISTER;
    }

    static Verdict decode(MemorySegment e) {
        return new Verdict(Attrs.u32(e, VERDICT), Attrs.has(e, CHAIN) ? Attrs.string(e, CHAIN) : null);
    }
}
