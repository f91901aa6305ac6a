package io.iamlet.redirect;

import io.iamlet.netlink.nft.expr.Bytes;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

import static io.iamlet.netlink.NetlinkConstants.IFNAMSIZ;

/**
 * A pod-side interface name as kube2iam's --host-interface takes it: {@code cali+} matches every name
 * starting with "cali" (iptables' {@code +}), {@code docker0} exactly that name.
 */
public record InterfacePattern(String name, boolean prefix) {
    public InterfacePattern {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty interface name");
        }
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name '" + name + "' is longer than " + (IFNAMSIZ - 1) + " bytes");
        }
        for (char c : name.toCharArray()) {
            // The kernel refuses '/', ':' and white space in interface names; '*' '+' would be ambiguous.
            if (c <= ' ' || c == '/' || c == ':' || c == '+' || c == '*' || c == ',' || c > '~') {
                throw new IllegalArgumentException("interface name '" + name + "' contains '" + c + "'");
            }
        }
    }

    /** Parses {@code cali+}, {@code eni+}, {@code docker0}, ... ; {@code *} is accepted as nft's spelling of {@code +}. */
    public static InterfacePattern parse(String text) {
        String t = text.strip();
        boolean prefix = t.endsWith("+") || t.endsWith("*");
        String name = prefix ? t.substring(0, t.length() - 1) : t;
        try {
            return new InterfacePattern(name, prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid interface pattern '" + text + "': " + e.getMessage()
                    + " (expected a name like docker0, or a prefix like cali+)", e);
        }
    }

    /** A comma-separated list such as {@code cali+,eni+}; duplicates collapse, order is kept. */
    public static List<InterfacePattern> parseList(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("no interface given (expected e.g. cali+ or docker0 or cali+,eni+)");
        }
        LinkedHashSet<InterfacePattern> patterns = new LinkedHashSet<>();
        for (String part : text.split(",", -1)) {
            if (part.isBlank()) {
                throw new IllegalArgumentException("empty entry in interface list '" + text + "'");
            }
            patterns.add(parse(part));
        }
        return List.copyOf(new ArrayList<>(patterns));
    }

    /**
     * The bytes nft writes for an iifname match: a prefix without its NUL, an exact name padded with NULs to
     * IFNAMSIZ (the NUL is what makes it exact).
     */
    public Bytes matchBytes() {
        return encoded(IFNAMSIZ);
    }

    /** The bytes iptables-nft writes: "cali+" as the 4 bytes "cali", "docker0" as its 7 bytes and one NUL. */
    public Bytes iptablesMatchBytes() {
        return encoded(name.getBytes(StandardCharsets.UTF_8).length + 1);
    }

    private Bytes encoded(int exactLength) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[prefix ? bytes.length : exactLength];
        System.arraycopy(bytes, 0, data, 0, bytes.length);
        return new Bytes(data);
    }

    /** The inverse of {@link #matchBytes}, or null when the bytes are not an interface match we write. */
    public static InterfacePattern fromMatchBytes(Bytes data) {
        return decoded(data, true);
    }

    /** The inverse of {@link #iptablesMatchBytes}, or null when the bytes are not an interface match we write. */
    public static InterfacePattern fromIptablesMatchBytes(Bytes data) {
        return decoded(data, false);
    }

    private static InterfacePattern decoded(Bytes data, boolean padded) {
        byte[] b = data.value();
        int nul = 0;
        while (nul < b.length && b[nul] != 0) {
            nul++;
        }
        for (int i = nul; i < b.length; i++) {
            if (b[i] != 0) {
                return null;
            }
        }
        boolean exact = nul < b.length && (padded ? b.length == IFNAMSIZ : b.length == nul + 1);
        if (nul < b.length && !exact) {
            return null;
        }
        try {
            return new InterfacePattern(new String(b, 0, nul, StandardCharsets.UTF_8), !exact);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return prefix ? name + "+" : name;
    }
}
