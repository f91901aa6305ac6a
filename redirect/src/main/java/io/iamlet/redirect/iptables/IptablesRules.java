package io.iamlet.redirect.iptables;

import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.expr.Bytes;
import io.iamlet.netlink.nft.expr.Cmp;
import io.iamlet.netlink.nft.expr.Compat;
import io.iamlet.netlink.nft.expr.Counter;
import io.iamlet.netlink.nft.expr.Meta;
import io.iamlet.netlink.nft.expr.Nat;
import io.iamlet.netlink.nft.expr.NftExpr;
import io.iamlet.netlink.nft.expr.Payload;
import io.iamlet.netlink.nft.expr.Reg;
import io.iamlet.netlink.nft.expr.Verdict;
import io.iamlet.redirect.Destination;
import io.iamlet.redirect.InterfacePattern;
import io.iamlet.redirect.IpFamily;
import io.iamlet.redirect.OwnershipMarker;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

import static io.iamlet.netlink.NetlinkConstants.*;

/**
 * Rules exactly as iptables-nft writes them, so that {@code iptables -t nat -S} and iptables-save read them
 * as ordinary iptables rules:
 * <pre>
 * -A PREROUTING -d 169.254.169.254/32 -i cali+ -p tcp -m tcp --dport 80 -m comment --comment "iamlet ..." -j IAMLET-METADATA
 * -A PREROUTING -d 169.254.170.23/32 -i cali+ -p tcp -m tcp --dport 80 -m comment --comment "iamlet ..." -j IAMLET-METADATA
 * -A IAMLET-METADATA -p tcp -m comment --comment "iamlet ..." -j DNAT --to-destination 10.0.0.1:8181
 * </pre>
 * (the second only with the container-credentials endpoint). The matches are native expressions iptables-nft recognises; DNAT is the xtables compat target, revision 2,
 * whose payload is the kernel's struct nf_nat_range2.
 */
public final class IptablesRules {
    /** sizeof(struct nf_nat_range2) = 44, rounded up by XT_ALIGN to 8 bytes, as the kernel insists. */
    static final int NAT_RANGE2_SIZE = 48;
    private static final int JUMP_IFACE = 1;
    private static final int JUMP_DADDR = 5;
    private static final int JUMP_LENGTH = 10;

    private IptablesRules() {
    }

    /** What one jump of ours matches: pod traffic from an interface to one of the redirected services. */
    record Jump(InterfacePattern iface, Destination destination) {
    }

    static List<NftExpr> jump(IpFamily family, Jump jump, String chain) {
        return List.of(
                Meta.load(Meta.Key.IIFNAME, Reg.R1),
                Cmp.equal(Reg.R1, jump.iface().iptablesMatchBytes()),
                Meta.load(Meta.Key.L4PROTO, Reg.R1),
                Cmp.equal(Reg.R1, Bytes.of(IPPROTO_TCP)),
                Payload.load(Payload.Header.NETWORK, family.daddrOffset(), family.addressLength(), Reg.R1),
                Cmp.equal(Reg.R1, new Bytes(jump.destination().address(family).getAddress())),
                Payload.load(Payload.Header.TRANSPORT, 2, 2, Reg.R1),
                Cmp.equal(Reg.R1, Bytes.port(Destination.PORT)),
                Counter.zero(),
                Verdict.jump(chain));
    }

    static List<NftExpr> dnat(InetAddress target, int port) {
        return List.of(
                Meta.load(Meta.Key.L4PROTO, Reg.R1),
                Cmp.equal(Reg.R1, Bytes.of(IPPROTO_TCP)),
                Counter.zero(),
                Compat.target("DNAT", 2, natRange(target, port)));
    }

    /** struct nf_nat_range2 { u32 flags; nf_inet_addr min, max; u16 min_proto, max_proto, base_proto; } + padding. */
    public static Bytes natRange(InetAddress target, int port) {
        ByteBuffer b = ByteBuffer.allocate(NAT_RANGE2_SIZE).order(ByteOrder.nativeOrder());
        b.putInt(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
        byte[] address = target.getAddress();
        b.put(address).position(4 + 16);
        b.put(address).position(4 + 32);
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) port).putShort((short) port);
        return new Bytes(b.array());
    }

    /** The interface and destination a jump rule of ours matches, when the rule has exactly the shape we write. */
    static Optional<Jump> jumpOf(NftRule rule, IpFamily family, String chain) {
        List<NftExpr> exprs = rule.content().expressions();
        if (exprs.size() != JUMP_LENGTH || !(exprs.get(JUMP_IFACE) instanceof Cmp cmp)
                || !(exprs.get(JUMP_DADDR) instanceof Cmp daddr)) {
            return Optional.empty();
        }
        InterfacePattern iface = InterfacePattern.fromIptablesMatchBytes(cmp.data());
        Optional<Jump> jump = Destination.of(family, daddr.data().value()).filter(d -> iface != null).map(d -> new Jump(iface, d));
        return jump.filter(j -> jump(family, j, chain).equals(exprs));
    }

    /** Target address and port of a DNAT rule of ours, when it has exactly the shape we write. */
    static Optional<RedirectTarget> dnatTarget(NftRule rule, IpFamily family) {
        List<NftExpr> exprs = rule.content().expressions();
        if (exprs.size() != 4 || !(exprs.get(3) instanceof Compat t) || t.info().length() != NAT_RANGE2_SIZE) {
            return Optional.empty();
        }
        byte[] info = t.info().value();
        byte[] address = new byte[family.addressLength()];
        System.arraycopy(info, 4, address, 0, address.length);
        int port = ((info[36] & 0xff) << 8) | (info[37] & 0xff);
        try {
            InetAddress target = InetAddress.getByAddress(address);
            return dnat(target, port).equals(exprs) ? Optional.of(new RedirectTarget(target, port)) : Optional.empty();
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /**
     * A DNAT of metadata traffic that is not ours, such as kube2iam's
     * {@code -A PREROUTING -d 169.254.169.254/32 -i cali+ -p tcp --dport 80 -j DNAT --to-destination HOST:8181}.
     */
    static boolean isForeignMetadataDnat(NftRule rule, IpFamily family) {
        List<NftExpr> e = rule.expressions();
        boolean toMetadata = false;
        for (int i = 0; i + 1 < e.size(); i++) {
            if (e.get(i) instanceof Payload p && p.base() == NFT_PAYLOAD_NETWORK_HEADER && p.offset() == family.daddrOffset()
                    && e.get(i + 1) instanceof Cmp c && c.data().equals(new Bytes(Destination.IMDS.address(family).getAddress()))) {
                toMetadata = true;
            }
        }
        boolean dnat = e.stream().anyMatch(x -> x instanceof Compat t && t.kind() == Compat.Kind.TARGET && t.xtName().equals("DNAT")
                || x instanceof Nat n && n.type() == NFT_NAT_DNAT);
        return toMetadata && dnat && OwnershipMarker.parse(rule.comment()).isEmpty();
    }

    /** Where a DNAT sends traffic. */
    record RedirectTarget(InetAddress address, int port) {
    }
}
