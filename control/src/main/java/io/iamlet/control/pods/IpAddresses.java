package io.iamlet.control.pods;

import java.net.InetAddress;

/** IP addresses as the index keys them. */
public final class IpAddresses {
    private IpAddresses() {
    }

    /** IPv6 addresses arrive in more than one spelling; index them in one. */
    public static String normalize(String ip) {
        if (ip.indexOf(':') < 0) {
            return ip;
        }
        try {
            return InetAddress.ofLiteral(ip).getHostAddress();
        } catch (IllegalArgumentException e) {
            return ip;
        }
    }
}
