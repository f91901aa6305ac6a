package io.iamlet.netlink.redirect;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What iamlet redirects: pod traffic entering through {@code interfaces} and addressed to the metadata
 * service (169.254.169.254:80, and [fd00:ec2::254]:80 when {@code hostIpv6} is given) goes to the agent
 * at {@code hostIp:port} instead, keeping the pod's source address. With {@code containerCredentials}, traffic
 * to the EKS Pod Identity container-credentials endpoint (169.254.170.23:80, [fd00:ec2::23]:80) goes there too.
 */
public record RedirectSpec(Inet4Address hostIp, int port, List<InterfacePattern> interfaces, Optional<Inet6Address> hostIpv6,
                           boolean containerCredentials) {
    public static final Inet4Address IMDS_IPV4 = (Inet4Address) InetAddress.ofLiteral("169.254.169.254");
    public static final Inet6Address IMDS_IPV6 = (Inet6Address) InetAddress.ofLiteral("fd00:ec2::254");
    public static final int IMDS_PORT = 80;
    public static final int DEFAULT_APP_PORT = 8181;

    private static final Pattern DOTTED_QUAD = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    public RedirectSpec {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid app port " + port + ": must be 1..65535");
        }
        if (interfaces == null || interfaces.isEmpty()) {
            throw new IllegalArgumentException("no pod interface given: set --host-interface (e.g. cali+, eni+, docker0)");
        }
        interfaces = List.copyOf(interfaces);
        hostIpv6 = hostIpv6 == null ? Optional.empty() : hostIpv6;
        checkTarget(hostIp, "--host-ip");
        hostIpv6.ifPresent(a -> checkTarget(a, "--host-ipv6"));
    }

    /** Redirects the instance metadata service only. */
    public RedirectSpec(Inet4Address hostIp, int port, List<InterfacePattern> interfaces, Optional<Inet6Address> hostIpv6) {
        this(hostIp, port, interfaces, hostIpv6, false);
    }

    /** The services redirected, the metadata service first. */
    public List<Destination> destinations() {
        return containerCredentials ? List.of(Destination.IMDS, Destination.CONTAINER_CREDENTIALS) : List.of(Destination.IMDS);
    }

    /** The same redirect, with the container-credentials endpoint on or off. */
    public RedirectSpec withContainerCredentials(boolean on) {
        return new RedirectSpec(hostIp, port, interfaces, hostIpv6, on);
    }

    /**
     * Parses operator input with messages naming the flag; never resolves names (no DNS).
     *
     * @param hostIpv6 null or blank when the node has no IPv6 metadata redirect
     */
    public static RedirectSpec parse(String hostIp, String interfaces, int port, String hostIpv6) {
        return new RedirectSpec(parseIpv4(hostIp, "--host-ip"), port, InterfacePattern.parseList(interfaces),
                hostIpv6 == null || hostIpv6.isBlank() ? Optional.empty() : Optional.of(parseIpv6(hostIpv6, "--host-ipv6")));
    }

    public static Inet4Address parseIpv4(String text, String flag) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(flag + " is required: the node's IPv4 address pods reach the agent at"
                    + " (in a DaemonSet, from the downward API: status.hostIP)");
        }
        if (!DOTTED_QUAD.matcher(text.strip()).matches()) {
            throw new IllegalArgumentException("invalid " + flag + " '" + text + "': not an IPv4 address like 10.0.12.34");
        }
        return (Inet4Address) InetAddress.ofLiteral(text.strip());
    }

    public static Inet6Address parseIpv6(String text, String flag) {
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + flag + " '" + text + "': not an IPv6 address like fd12::34", e);
        }
        if (!(address instanceof Inet6Address v6) || !text.contains(":")) {
            throw new IllegalArgumentException("invalid " + flag + " '" + text + "': not an IPv6 address like fd12::34");
        }
        return v6;
    }

    private static void checkTarget(InetAddress address, String flag) {
        if (address == null) {
            throw new IllegalArgumentException(flag + " is required");
        }
        String why = null;
        if (address.isAnyLocalAddress()) {
            why = "the unspecified address cannot be a DNAT target";
        } else if (address.isLoopbackAddress()) {
            why = "traffic redirected to loopback from prerouting is dropped by the kernel as martian;"
                    + " use the node's own address (status.hostIP)";
        } else if (address.isMulticastAddress()) {
            why = "a multicast address cannot be a DNAT target";
        } else if (Destination.isServiceAddress(address)) {
            why = "that is a metadata or credentials service itself; redirecting to it would loop";
        } else if (address instanceof Inet4Address && address.getAddress()[0] == (byte) 255) {
            why = "a broadcast address cannot be a DNAT target";
        }
        if (why != null) {
            throw new IllegalArgumentException("invalid " + flag + " " + address.getHostAddress() + ": " + why);
        }
    }

    /** One redirect per family, destination and interface, in a stable order: IPv4 first, the metadata service first. */
    public List<RedirectRule> rules() {
        List<RedirectRule> rules = new ArrayList<>();
        addRules(rules, IpFamily.IPV4, hostIp);
        hostIpv6.ifPresent(v6 -> addRules(rules, IpFamily.IPV6, v6));
        return rules;
    }

    private void addRules(List<RedirectRule> rules, IpFamily family, InetAddress target) {
        for (Destination destination : destinations()) {
            for (InterfacePattern iface : interfaces) {
                rules.add(new RedirectRule(family, iface, target, port, destination));
            }
        }
    }
}
