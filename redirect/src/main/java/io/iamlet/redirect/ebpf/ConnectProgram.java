package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Asm;
import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Fd;
import io.iamlet.bpf.Insn;
import io.iamlet.bpf.ProgramSpec;
import io.iamlet.bpf.Reg;
import io.iamlet.redirect.Destination;
import io.iamlet.redirect.IpFamily;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static io.iamlet.bpf.Reg.R0;
import static io.iamlet.bpf.Reg.R1;
import static io.iamlet.bpf.Reg.R2;
import static io.iamlet.bpf.Reg.R6;

/**
 * The cgroup connect programs. For a TCP connect to 169.254.169.254:80 (and, with {@code containerCredentials},
 * to the EKS Pod Identity endpoint 169.254.170.23:80), REDIRECT rewrites the destination to the agent (the
 * pod keeps its source address), BLOCK refuses the connect (EPERM) while no agent runs. Everything else
 * passes untouched.
 * <p>Two hooks, one logic: {@link Hook#CONNECT4} sees AF_INET sockets; {@link Hook#CONNECT6} sees AF_INET6
 * sockets, where the same destinations arrive IPv4-mapped ({@code ::ffff:169.254.169.254}): a JVM opens
 * dual-stack sockets even for IPv4, so without connect6 a Java workload would pass by the agent. The kernel
 * runs only connect6 for such a socket (tcp_v6_connect hands a mapped address to the IPv4 path after the
 * hook), so the rewrite keeps the mapped prefix and replaces the IPv4 part. With {@code hostIpv6}, connect6 also
 * takes native IPv6 connects to [fd00:ec2::254]:80 (and [fd00:ec2::23]:80 with {@code containerCredentials}) and
 * rewrites all four words of the destination to the agent's IPv6 address; without it, native IPv6 passes.
 * <p>Who is exempt: with {@code agentCgroupId} (non-zero), only the agent's own cgroup, so processes of
 * hostNetwork pods, which share the node's network namespace, are redirected like any pod's; without it,
 * every socket in the node's network namespace ({@code hostNetnsCookie}), which is how the agent kept the
 * real IMDS before it could name its own cgroup.
 *
 * @param hostNetnsCookie      the node's network namespace
 * @param containerCredentials also rewrite (or refuse) connects to the container-credentials endpoint
 * @param agentCgroupId        the agent's cgroup v2 id, or 0 when it is not known
 * @param hostIpv6             the agent's IPv6 address, where native IPv6 connects go; empty: they are not redirected
 */
public record ConnectProgram(Kind kind, Inet4Address hostIp, int port, long hostNetnsCookie, boolean containerCredentials,
                             long agentCgroupId, Optional<Inet6Address> hostIpv6) {
    /** Which cgroup hook the program is for: the socket's family, not the destination's. */
    public enum Hook {
        CONNECT4(Bpf.ATTACH_CGROUP_INET4_CONNECT), CONNECT6(Bpf.ATTACH_CGROUP_INET6_CONNECT);

        private final int attachType;

        Hook(int attachType) {
            this.attachType = attachType;
        }

        public int attachType() {
            return attachType;
        }
    }

    public enum Kind {
        REDIRECT("iamlet_redirect"), BLOCK("iamlet_block");

        private final String programName;

        Kind(String programName) {
            this.programName = programName;
        }

        /** The name the kernel shows for the program (at most 15 characters). */
        public String programName() {
            return programName;
        }
    }

    // struct bpf_sock_addr fields the program reads or writes.
    private static final int USER_IP4 = 4;
    /** user_ip6[0..3]: four network-order words. */
    private static final int USER_IP6 = 8;
    private static final int USER_PORT = 24;
    /** The third word of an IPv4-mapped address, 0:0:0:0:0:ffff, as a 32-bit load sees it on a little-endian machine. */
    private static final int MAPPED_PREFIX = 0xffff0000;
    private static final int PROTOCOL = 36;
    private static final int IPPROTO_TCP = 6;
    private static final int HELPER_GET_CURRENT_CGROUP_ID = 80;
    private static final int HELPER_GET_NETNS_COOKIE = 122;
    private static final byte[] IMDS = Destination.IMDS.address(IpFamily.IPV4).getAddress();
    private static final byte[] CONTAINER_CREDENTIALS = Destination.CONTAINER_CREDENTIALS.address(IpFamily.IPV4).getAddress();
    private static final byte[] IMDS6 = Destination.IMDS.address(IpFamily.IPV6).getAddress();
    private static final byte[] CONTAINER_CREDENTIALS6 = Destination.CONTAINER_CREDENTIALS.address(IpFamily.IPV6).getAddress();

    public ConnectProgram {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("the eBPF backend supports little-endian machines (x86_64, arm64) only");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535, not " + port);
        }
        hostIpv6 = hostIpv6 == null ? Optional.empty() : hostIpv6;
    }

    /** A program for IPv4 destinations only (native IPv6 connects pass). */
    public ConnectProgram(Kind kind, Inet4Address hostIp, int port, long hostNetnsCookie, boolean containerCredentials, long agentCgroupId) {
        this(kind, hostIp, port, hostNetnsCookie, containerCredentials, agentCgroupId, Optional.empty());
    }

    /** A program that exempts the node's network namespace (no agent cgroup known). */
    public ConnectProgram(Kind kind, Inet4Address hostIp, int port, long hostNetnsCookie, boolean containerCredentials) {
        this(kind, hostIp, port, hostNetnsCookie, containerCredentials, 0);
    }

    /** A program for the metadata service only. */
    public ConnectProgram(Kind kind, Inet4Address hostIp, int port, long hostNetnsCookie) {
        this(kind, hostIp, port, hostNetnsCookie, false, 0);
    }

    /** A network-order address as the program's 32-bit loads see it on a little-endian machine. */
    static int wordOf(byte[] networkOrder) {
        return ByteBuffer.wrap(networkOrder).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** The four 32-bit loads of a network-order IPv6 address, as words[0..3] on a little-endian machine. */
    static int[] wordsOf(byte[] ipv6) {
        int[] words = new int[4];
        for (int i = 0; i < 4; i++) {
            words[i] = wordOf(Arrays.copyOfRange(ipv6, 4 * i, 4 * i + 4));
        }
        return words;
    }

    /** A port in network order in the low 16 bits, as user_port holds it. */
    static int portWord(int port) {
        return ((port & 0xff) << 8) | (port >>> 8);
    }

    /** The connect4 program. */
    public List<Insn> instructions() {
        return instructions(Hook.CONNECT4);
    }

    public List<Insn> instructions(Hook hook) {
        Asm a = new Asm();
        Asm.Label allow = a.label("allow");
        Asm.Label checkPort = a.label("port");
        boolean native6 = hook == Hook.CONNECT6 && hostIpv6.isPresent();
        // Where a destination that is not IPv4-mapped goes: the native IPv6 checks, or straight to "allow".
        Asm.Label notMapped = native6 ? a.label("native") : allow;
        a.mov(R6, R1);
        // Where the IPv4 destination sits: user_ip4, or the last word of an IPv4-mapped user_ip6.
        int ip4 = USER_IP4;
        if (hook == Hook.CONNECT6) {
            a.loadWord(R2, R6, USER_IP6).jumpIfNot32(R2, 0, notMapped);
            a.loadWord(R2, R6, USER_IP6 + 4).jumpIfNot32(R2, 0, notMapped);
            a.loadWord(R2, R6, USER_IP6 + 8).jumpIfNot32(R2, MAPPED_PREFIX, notMapped);
            ip4 = USER_IP6 + 12;
        }
        a.loadWord(R2, R6, ip4);
        if (containerCredentials) {
            a.jumpIfEqual32(R2, wordOf(IMDS), checkPort);
            a.jumpIfNot32(R2, wordOf(CONTAINER_CREDENTIALS), allow);
        } else {
            a.jumpIfNot32(R2, wordOf(IMDS), allow);
        }
        a.place(checkPort);
        portProtocolAndCaller(a, allow);
        if (kind == Kind.REDIRECT) {
            // Rewrite the destination, then go on to "allow".
            a.mov32(R2, wordOf(hostIp.getAddress())).storeWord(R6, ip4, R2);
            a.mov32(R2, portWord(port)).storeWord(R6, USER_PORT, R2);
        } else {
            a.ret(0);
        }
        if (native6) {
            if (kind == Kind.REDIRECT) {
                a.jump(allow);
            }
            nativeIpv6(a, notMapped, allow);
        }
        a.place(allow).ret(1);
        return a.build();
    }

    /** From the port check on, the same for every destination: port 80, TCP, and a caller that is not exempt. */
    private void portProtocolAndCaller(Asm a, Asm.Label allow) {
        a.loadWord(R2, R6, USER_PORT);
        a.jumpIfNot32(R2, portWord(Destination.PORT), allow);
        a.loadWord(R2, R6, PROTOCOL);
        a.jumpIfNot32(R2, IPPROTO_TCP, allow);
        if (agentCgroupId != 0) {
            a.call(HELPER_GET_CURRENT_CGROUP_ID);
            a.load64(R1, agentCgroupId);
        } else {
            a.mov(R1, R6).call(HELPER_GET_NETNS_COOKIE);
            a.load64(R1, hostNetnsCookie);
        }
        a.jumpIfEqual(R0, R1, allow);
    }

    /**
     * A native IPv6 destination (connect6 with {@code hostIpv6}): fd00:ec2::254 (or fd00:ec2::23), which share
     * their first three words, then the same checks as for IPv4, then all four words and the port rewritten.
     */
    private void nativeIpv6(Asm a, Asm.Label start, Asm.Label allow) {
        int[] imds = wordsOf(IMDS6);
        int[] credentials = wordsOf(CONTAINER_CREDENTIALS6);
        Asm.Label checkPort = a.label("port6");
        a.place(start);
        for (int i = 0; i < 3; i++) {
            if (imds[i] != credentials[i]) {
                throw new IllegalStateException("fd00:ec2::254 and fd00:ec2::23 share their first 96 bits");
            }
            a.loadWord(R2, R6, USER_IP6 + 4 * i).jumpIfNot32(R2, imds[i], allow);
        }
        a.loadWord(R2, R6, USER_IP6 + 12);
        if (containerCredentials) {
            a.jumpIfEqual32(R2, imds[3], checkPort);
            a.jumpIfNot32(R2, credentials[3], allow);
        } else {
            a.jumpIfNot32(R2, imds[3], allow);
        }
        a.place(checkPort);
        portProtocolAndCaller(a, allow);
        if (kind == Kind.REDIRECT) {
            int[] host = wordsOf(hostIpv6.orElseThrow().getAddress());
            for (int i = 0; i < 4; i++) {
                a.mov32(R2, host[i]).storeWord(R6, USER_IP6 + 4 * i, R2);
            }
            a.mov32(R2, portWord(port)).storeWord(R6, USER_PORT, R2);
        } else {
            a.ret(0);
        }
    }

    public byte[] bytes() {
        return bytes(Hook.CONNECT4);
    }

    public byte[] bytes(Hook hook) {
        return Insn.encode(instructions(hook));
    }

    /** What the kernel loads: a cgroup connect4 program. */
    public ProgramSpec spec() {
        return spec(Hook.CONNECT4);
    }

    public ProgramSpec spec(Hook hook) {
        return new ProgramSpec(Bpf.PROG_TYPE_CGROUP_SOCK_ADDR, hook.attachType(), kind.programName(), "Dual MIT/GPL", bytes(hook));
    }

    /**
     * The tags the kernel may report for this program: the first 8 bytes of a digest of its instructions as
     * loaded (SHA-1 until Linux 6.17, SHA-256 since). Reading one back proves the kernel runs exactly this
     * program, host IP, port and namespace cookie included.
     */
    public Set<String> tags() {
        return tags(Hook.CONNECT4);
    }

    public Set<String> tags(Hook hook) {
        return Set.of(tag(hook, "SHA-1"), tag(hook, "SHA-256"));
    }

    private String tag(Hook hook, String algorithm) {
        try {
            byte[] digest = MessageDigest.getInstance(algorithm).digest(bytes(hook));
            return HexFormat.of().formatHex(Arrays.copyOf(digest, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }
}
