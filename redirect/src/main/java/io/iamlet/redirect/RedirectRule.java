package io.iamlet.redirect;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * What one redirect rule does: traffic of {@code family} from {@code iface} to {@code destination} (port 80)
 * goes to {@code target:port}.
 */
public record RedirectRule(IpFamily family, InterfacePattern iface, InetAddress target, int port, Destination destination) {
    public RedirectRule {
        if (IpFamily.of(target) != family) {
            throw new IllegalArgumentException("target " + target.getHostAddress() + " is not an " + family + " address");
        }
        if (destination == null) {
            throw new IllegalArgumentException("no destination");
        }
    }

    /** A redirect of the instance metadata service. */
    public RedirectRule(IpFamily family, InterfacePattern iface, InetAddress target, int port) {
        this(family, iface, target, port, Destination.IMDS);
    }

    /** The address this rule matches: the destination's address in the rule's family. */
    public InetAddress destinationAddress() {
        return destination.address(family);
    }

    @Override
    public String toString() {
        return String.format("%-4s iifname %-10s %s -> %s", family.label(), iface,
                endpoint(destinationAddress(), Destination.PORT), endpoint(target, port));
    }

    private static String endpoint(InetAddress address, int port) {
        return address instanceof Inet6Address
                ? "[" + address.getHostAddress() + "]:" + port
                : address.getHostAddress() + ":" + port;
    }
}
