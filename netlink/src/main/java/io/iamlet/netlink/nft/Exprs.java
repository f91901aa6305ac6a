package io.iamlet.netlink.nft;

import static io.iamlet.netlink.NetlinkConstants.*;

/**
 * Typed ways to write the expressions iamlet uses, so rule code says {@code load(MetaKey.IIFNAME, Reg.R1)}
 * rather than passing kernel numbers. The records in {@link NftExpr} keep the numbers, since rules read back
 * from the kernel may carry any.
 */
public final class Exprs {
    private Exprs() {
    }

    /** The data registers iamlet uses. */
    public enum Reg {
        R1(NFT_REG_1), R2(NFT_REG_2);

        final int number;

        Reg(int number) {
            this.number = number;
        }
    }

    /** The meta keys iamlet matches on. */
    public enum MetaKey {
        IIFNAME(NFT_META_IIFNAME), NFPROTO(NFT_META_NFPROTO), L4PROTO(NFT_META_L4PROTO);

        final int number;

        MetaKey(int number) {
            this.number = number;
        }
    }

    /** Where a payload load starts. */
    public enum Header {
        NETWORK(NFT_PAYLOAD_NETWORK_HEADER), TRANSPORT(NFT_PAYLOAD_TRANSPORT_HEADER);

        final int number;

        Header(int number) {
            this.number = number;
        }
    }

    /** {@code meta load KEY => reg}. */
    public static NftExpr.Meta load(MetaKey key, Reg into) {
        return new NftExpr.Meta(key.number, into.number);
    }

    /** {@code payload load LENGTH b @ HEADER + OFFSET => reg}. */
    public static NftExpr.Payload load(Header header, int offset, int length, Reg into) {
        return new NftExpr.Payload(into.number, header.number, offset, length);
    }

    /** {@code cmp eq reg DATA}. */
    public static NftExpr.Cmp equal(Reg reg, Bytes data) {
        return new NftExpr.Cmp(reg.number, NFT_CMP_EQ, data);
    }

    /** {@code immediate reg DATA}. */
    public static NftExpr.Immediate set(Reg reg, Bytes data) {
        return new NftExpr.Immediate(reg.number, data);
    }

    /** A new counter. */
    public static NftExpr.Counter counter() {
        return new NftExpr.Counter(0, 0);
    }

    /** {@code dnat FAMILY to addr reg : port reg}, as nft writes {@code dnat ip to ADDR:PORT}. */
    public static NftExpr.Nat dnat(int nfproto, Reg address, Reg port) {
        return new NftExpr.Nat(NFT_NAT_DNAT, nfproto, address.number, address.number, port.number, port.number,
                NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
    }

    /** {@code reject with tcp reset}. */
    public static NftExpr.Reject tcpReset() {
        return new NftExpr.Reject(NFT_REJECT_TCP_RST, 0);
    }

    /** {@code jump CHAIN}. */
    public static NftExpr.Verdict jump(String chain) {
        return new NftExpr.Verdict(NFT_JUMP, chain);
    }
}
