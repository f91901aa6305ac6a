package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.nft.NftRule;
import io.iamlet.netlink.nft.expr.Bytes;
import io.iamlet.netlink.nft.expr.Cmp;
import io.iamlet.netlink.nft.expr.Counter;
import io.iamlet.netlink.nft.expr.Immediate;
import io.iamlet.netlink.nft.expr.Meta;
import io.iamlet.netlink.nft.expr.Nat;
import io.iamlet.netlink.nft.expr.NftExpr;
import io.iamlet.netlink.nft.expr.Payload;
import io.iamlet.netlink.nft.expr.Reg;
import io.iamlet.netlink.nft.expr.Reject;
import io.iamlet.redirect.Destination;
import io.iamlet.redirect.InterfacePattern;
import io.iamlet.redirect.IpFamily;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.iamlet.netlink.NetlinkConstants.*;

/**
 * The expression sequence of one redirect rule, the same nft itself emits for
 * {@code iifname "cali*" meta nfproto ipv4 ip daddr 169.254.169.254 tcp dport 80 counter dnat ip to HOST:PORT}
 * (or {@code ip daddr 169.254.170.23} for the container-credentials endpoint),
 * and the way back from a rule read from the kernel to the redirect it performs.
 */
public final class NftRedirectRules {
    // Positions of the values that differ between redirect rules; everything else is fixed.
    private static final int IFACE = 1;
    private static final int NFPROTO = 3;
    private static final int DADDR = 5;
    private static final int TARGET = 11;
    private static final int TARGET_PORT = 12;
    private static final int LENGTH = 14;

    private NftRedirectRules() {
    }

    public static List<NftExpr> expressions(RedirectRule rule) {
        IpFamily family = rule.family();
        return List.of(
                Meta.load(Meta.Key.IIFNAME, Reg.R1),
                Cmp.equal(Reg.R1, rule.iface().matchBytes()),
                Meta.load(Meta.Key.NFPROTO, Reg.R1),
                Cmp.equal(Reg.R1, Bytes.of(family.nfproto())),
                Payload.load(Payload.Header.NETWORK, family.daddrOffset(), family.addressLength(), Reg.R1),
                Cmp.equal(Reg.R1, new Bytes(rule.destinationAddress().getAddress())),
                Meta.load(Meta.Key.L4PROTO, Reg.R1),
                Cmp.equal(Reg.R1, Bytes.of(IPPROTO_TCP)),
                Payload.load(Payload.Header.TRANSPORT, 2, 2, Reg.R1),
                Cmp.equal(Reg.R1, Bytes.port(Destination.PORT)),
                Counter.zero(),
                Immediate.set(Reg.R1, new Bytes(rule.target().getAddress())),
                Immediate.set(Reg.R2, Bytes.port(rule.port())),
                Nat.dnat(family.nfproto(), Reg.R1, Reg.R2));
    }

    /** The same matches, ending in a TCP reset instead of the DNAT: pods get a refusal, never the node's IMDS. */
    public static List<NftExpr> blockExpressions(RedirectRule rule) {
        List<NftExpr> matches = new ArrayList<>(expressions(rule).subList(0, TARGET));
        matches.add(Reject.tcpReset());
        return matches;
    }

    /** The interface, family and destination a block rule of ours covers, when the rule has exactly that shape. */
    public static Optional<RedirectRule> blockFromNft(NftRule rule) {
        List<NftExpr> exprs = rule.content().expressions();
        if (exprs.size() != TARGET + 1 || !(exprs.get(IFACE) instanceof Cmp ifaceCmp)
                || !(exprs.get(NFPROTO) instanceof Cmp protoCmp) || protoCmp.data().length() != 1
                || !(exprs.get(DADDR) instanceof Cmp daddrCmp)) {
            return Optional.empty();
        }
        IpFamily family = IpFamily.ofNfproto(protoCmp.data().unsignedAt(0));
        InterfacePattern iface = InterfacePattern.fromMatchBytes(ifaceCmp.data());
        Optional<Destination> destination = family == null ? Optional.empty() : Destination.of(family, daddrCmp.data().value());
        if (iface == null || destination.isEmpty()) {
            return Optional.empty();
        }
        RedirectRule candidate = blocked(family, iface, destination.get());
        return blockExpressions(candidate).equals(exprs) ? Optional.of(candidate) : Optional.empty();
    }

    /** A block has no target; the destination's own address and port stand in for it. */
    public static RedirectRule blocked(IpFamily family, InterfacePattern iface, Destination destination) {
        return new RedirectRule(family, iface, destination.address(family), Destination.PORT, destination);
    }

    public static NftRule toNft(RedirectRule rule, String table, String chain, OwnershipMarker marker) {
        return NftRule.of(NFPROTO_INET, table, chain, expressions(rule), marker.text());
    }

    /**
     * The redirect a kernel rule performs, when it has exactly the shape we write; empty for anything
     * else. The candidate values are taken from their positions and the whole sequence rebuilt and
     * compared, so a rule that merely resembles ours is not taken for one.
     */
    public static Optional<RedirectRule> fromNft(NftRule rule) {
        List<NftExpr> exprs = rule.content().expressions();
        if (exprs.size() != LENGTH
                || !(exprs.get(IFACE) instanceof Cmp ifaceCmp)
                || !(exprs.get(NFPROTO) instanceof Cmp protoCmp) || protoCmp.data().length() != 1
                || !(exprs.get(DADDR) instanceof Cmp daddrCmp)
                || !(exprs.get(TARGET) instanceof Immediate target)
                || !(exprs.get(TARGET_PORT) instanceof Immediate port) || port.data().length() != 2) {
            return Optional.empty();
        }
        IpFamily family = IpFamily.ofNfproto(protoCmp.data().unsignedAt(0));
        InterfacePattern iface = InterfacePattern.fromMatchBytes(ifaceCmp.data());
        if (family == null || iface == null || target.data().length() != family.addressLength()) {
            return Optional.empty();
        }
        Optional<Destination> destination = Destination.of(family, daddrCmp.data().value());
        if (destination.isEmpty()) {
            return Optional.empty();
        }
        try {
            RedirectRule candidate = new RedirectRule(family, iface, InetAddress.getByAddress(target.data().value()),
                    (port.data().unsignedAt(0) << 8) | port.data().unsignedAt(1), destination.get());
            return expressions(candidate).equals(exprs) ? Optional.of(candidate) : Optional.empty();
        } catch (UnknownHostException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public static long packets(NftRule rule) {
        return rule.expressions().stream()
                .filter(e -> e instanceof Counter)
                .mapToLong(e -> ((Counter) e).packets())
                .sum();
    }
}
