package io.iamlet.redirect;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.function.Supplier;

/**
 * What iamlet redirects: pod traffic entering through {@code interfaces} and addressed to the metadata
 * service (169.254.169.254:80, and [fd00:ec2::254]:80 when {@code hostIpv6} is given) goes to the agent
 * at {@code hostIp:port} instead, keeping the pod's source address. With {@code containerCredentials}, traffic
 * to the EKS Pod Identity container-credentials endpoint (169.254.170.23:80, [fd00:ec2::23]:80) goes there too.
 */
public record RedirectSpec(Inet4Address hostIp, int port, List<InterfacePattern> interfaces, Optional<Inet6Address> hostIpv6,
                           boolean containerCredentials) {
    private static final Pattern DOTTED_QUAD = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    public RedirectSpec {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid app port " + port + ": must be 1..65535");
        }
        if (interfaces == null || interfaces.isEmpty()) {
            throw new IllegalArgumentException("no pod interface given (e.g. cali+, eni+, docker0)");
        }
        interfaces = List.copyOf(interfaces);
        hostIpv6 = hostIpv6 == null ? Optional.empty() : hostIpv6;
        named("host IP", () -> checkTarget(hostIp));
        hostIpv6.ifPresent(a -> named("host IPv6", () -> checkTarget(a)));
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
     * Parses operator input; never resolves names (no DNS). Messages start with the field's name ("host IP
     * is required ..."); the CLI parses each field itself to put the flag's name there instead.
     *
     * @param hostIpv6 null or blank when the node has no IPv6 metadata redirect
     */
    public static RedirectSpec parse(String hostIp, String interfaces, int port, String hostIpv6) {
        return new RedirectSpec(named("host IP", () -> parseHostIp(hostIp)), port,
                named("host interface", () -> InterfacePattern.parseList(interfaces)),
                hostIpv6 == null || hostIpv6.isBlank() ? Optional.empty() : Optional.of(named("host IPv6", () -> parseHostIpv6(hostIpv6))));
    }

    /** The node's IPv4 address as a redirect target; the message follows the field's name: "is required ...". */
    public static Inet4Address parseHostIp(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("is required: the node's IPv4 address pods reach the agent at");
        }
        if (!DOTTED_QUAD.matcher(text.strip()).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address like 10.0.12.34");
        }
        return checkTarget((Inet4Address) InetAddress.ofLiteral(text.strip()));
    }

    /** The node's IPv6 address as a redirect target; the message follows the field's name. */
    public static Inet6Address parseHostIpv6(String text) {
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 address like fd12::34", e);
        }
        if (!(address instanceof Inet6Address v6) || !text.contains(":")) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv6 address like fd12::34");
        }
        return checkTarget(v6);
    }

    /** Runs a parse whose message follows a name, and puts the name in front. */
    private static <T> T named(String name, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " " + e.getMessage(), e);
        }
    }

    private static void named(String name, Runnable check) {
        named(name, () -> {
            check.run();
            return null;
        });
    }

    private static <A extends InetAddress> A checkTarget(A address) {
        if (address == null) {
            throw new IllegalArgumentException("is required");
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
            throw new IllegalArgumentException(address.getHostAddress() + " cannot be used: " + why);
        }
        return address;
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
