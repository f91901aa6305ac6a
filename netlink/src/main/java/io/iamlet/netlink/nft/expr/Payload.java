package io.iamlet.netlink.nft.expr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.iamlet.netlink.NetlinkConstants.NFT_PAYLOAD_NETWORK_HEADER;
import static io.iamlet.netlink.NetlinkConstants.NFT_PAYLOAD_TRANSPORT_HEADER;
import static io.iamlet.netlink.nftnl.expr_h.nftnl_expr_set_u32;

/** {@code payload load LEN b @ BASE header + OFFSET => reg DREG}. */
public record Payload(int dreg, int base, int offset, int length) implements NftExpr {
    static final String NAME = "payload";
    private static final short DREG = 1, BASE = 2, OFFSET = 3, LEN = 4, SREG = 5;

    /** Where a payload load starts. */
    public enum Header {
        NETWORK(NFT_PAYLOAD_NETWORK_HEADER), TRANSPORT(NFT_PAYLOAD_TRANSPORT_HEADER);

        final int number;

        Header(int number) {
            this.number = number;
        }
    }

    /** {@code payload load LENGTH b @ HEADER + OFFSET => reg}. */
    public static Payload load(Header header, int offset, int length, Reg into) {
        return new Payload(into.number, header.number, offset, length);
    }

    public String name() {
        return NAME;
    }

    public void encode(MemorySegment e, Arena arena) {
        nftnl_expr_set_u32(e, DREG, dreg);
        nftnl_expr_set_u32(e, BASE, base);
        nftnl_expr_set_u32(e, OFFSET, offset);
        nftnl_expr_set_u32(e, LEN, length);
    }

    /** A load; "payload set" (a source register instead) is not one of ours. */
    static NftExpr decode(MemorySegment e) {
        return Attrs.has(e, SREG) ? new Other("payload set")
                : new Payload(Attrs.u32(e, DREG), Attrs.u32(e, BASE), Attrs.u32(e, OFFSET), Attrs.u32(e, LEN));
    }
}
