package io.iamlet.redirect;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

import static io.iamlet.netlink.NetlinkConstants.NFPROTO_IPV4;
import static io.iamlet.netlink.NetlinkConstants.NFPROTO_IPV6;

/** The two address families of the metadata service, with where their destination address sits (the addresses are {@link Destination}'s). */
public enum IpFamily {
    IPV4(NFPROTO_IPV4, 16, 4),
    IPV6(NFPROTO_IPV6, 24, 16);

    private final int nfproto;
    private final int daddrOffset;
    private final int addressLength;

    IpFamily(int nfproto, int daddrOffset, int addressLength) {
        this.nfproto = nfproto;
        this.daddrOffset = daddrOffset;
        this.addressLength = addressLength;
    }

    public int nfproto() {
        return nfproto;
    }

    /** Offset of the destination address in the network header (IPv4: 16, IPv6: 24). */
    public int daddrOffset() {
        return daddrOffset;
    }

    public int addressLength() {
        return addressLength;
    }

    public static IpFamily of(InetAddress address) {
        return switch (address) {
            case Inet4Address ignored -> IPV4;
            case Inet6Address ignored -> IPV6;
            default -> throw new IllegalArgumentException("unknown address type " + address);
        };
    }

    public static IpFamily ofNfproto(int nfproto) {
        for (IpFamily f : values()) {
            if (f.nfproto == nfproto) {
                return f;
            }
        }
        return null;
    }

    public String label() {
        return this == IPV4 ? "ip" : "ip6";
    }
}
