package io.iamlet.netlink.redirect;

import java.net.Inet6Address;
import java.net.InetAddress;

/** What one redirect rule does: metadata traffic of {@code family} from {@code iface} goes to {@code target:port}. */
public record RedirectRule(IpFamily family, InterfacePattern iface, InetAddress target, int port) {
    public RedirectRule {
        if (IpFamily.of(target) != family) {
            throw new IllegalArgumentException("target " + target.getHostAddress() + " is not an " + family + " address");
        }
    }

    @Override
    public String toString() {
        return String.format("%-4s iifname %-10s %s -> %s", family.label(), iface,
                endpoint(family.metadataAddress(), RedirectSpec.IMDS_PORT), endpoint(target, port));
    }

    private static String endpoint(InetAddress address, int port) {
        return address instanceof Inet6Address
                ? "[" + address.getHostAddress() + "]:" + port
                : address.getHostAddress() + ":" + port;
    }
}
