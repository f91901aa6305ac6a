package io.iamlet.redirect;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Optional;

/**
 * The link-local services pods' traffic may be redirected away from: the EC2 instance metadata service, and
 * (optionally) the EKS Pod Identity container-credentials endpoint, which SDKs reach through
 * AWS_CONTAINER_CREDENTIALS_FULL_URI. Both listen on port 80 at one address per family.
 */
public enum Destination {
    IMDS(InetAddress.ofLiteral("169.254.169.254"), InetAddress.ofLiteral("fd00:ec2::254")),
    CONTAINER_CREDENTIALS(InetAddress.ofLiteral("169.254.170.23"), InetAddress.ofLiteral("fd00:ec2::23"));

    public static final int PORT = 80;

    private final InetAddress ipv4;
    private final InetAddress ipv6;

    Destination(InetAddress ipv4, InetAddress ipv6) {
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
    }

    /** The address in {@code family}: 169.254.169.254 and fd00:ec2::254 for the metadata service. */
    public InetAddress address(IpFamily family) {
        return family == IpFamily.IPV4 ? ipv4 : ipv6;
    }

    /** The destination whose address in {@code family} is {@code address}, if any. */
    public static Optional<Destination> of(IpFamily family, byte[] address) {
        return Arrays.stream(values()).filter(d -> Arrays.equals(d.address(family).getAddress(), address)).findFirst();
    }

    /** Whether {@code address} is one of these services' own addresses (a redirect target there would loop). */
    public static boolean isServiceAddress(InetAddress address) {
        return Arrays.stream(values()).anyMatch(d -> d.ipv4.equals(address) || d.ipv6.equals(address));
    }
}
