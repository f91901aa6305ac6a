package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Insn;
import io.iamlet.bpf.ProgramSpec;
import io.iamlet.redirect.Destination;
import io.iamlet.redirect.IpFamily;
import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The cgroup connect4 program. For a TCP connect to 169.254.169.254:80 (and, with {@code containerCredentials},
 * to the EKS Pod Identity endpoint 169.254.170.23:80) from any network namespace but the node's own, REDIRECT
 * rewrites the destination to the agent (the pod keeps its source address), BLOCK refuses the connect (EPERM)
 * while no agent runs. Everything else passes untouched.
 *
 * @param hostNetnsCookie      the node's network namespace: its processes (the agent among them) keep the real IMDS
 * @param containerCredentials also rewrite (or refuse) connects to the container-credentials endpoint
 */
public record ConnectProgram(Kind kind, Inet4Address hostIp, int port, long hostNetnsCookie, boolean containerCredentials) {
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
    private static final int USER_PORT = 24;
    private static final int PROTOCOL = 36;
    private static final int IPPROTO_TCP = 6;
    private static final int HELPER_GET_NETNS_COOKIE = 122;
    private static final byte[] IMDS = Destination.IMDS.address(IpFamily.IPV4).getAddress();
    private static final byte[] CONTAINER_CREDENTIALS = Destination.CONTAINER_CREDENTIALS.address(IpFamily.IPV4).getAddress();

    public ConnectProgram {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("the eBPF backend supports little-endian machines (x86_64, arm64) only");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535, not " + port);
        }
    }

    /** A program for the metadata service only. */
    public ConnectProgram(Kind kind, Inet4Address hostIp, int port, long hostNetnsCookie) {
        this(kind, hostIp, port, hostNetnsCookie, false);
    }

    /** A network-order address as the program's 32-bit loads see it on a little-endian machine. */
    private static int wordOf(byte[] networkOrder) {
        return ByteBuffer.wrap(networkOrder).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** user_port holds the port in network order in its low 16 bits. */
    private static int portWord(int port) {
        return ((port & 0xff) << 8) | (port >>> 8);
    }

    public List<Insn> instructions() {
        List<Insn> p = new ArrayList<>();
        // Jumps to the final "allow" (r0 = 1; exit), taken when the connect is not ours; patched once it is placed.
        List<Integer> toAllow = new ArrayList<>();
        p.add(Insn.movReg(6, 1));
        p.add(Insn.loadWord(2, 6, USER_IP4));
        if (containerCredentials) {
            // Either address goes on to the port check.
            p.add(Insn.jumpIfEqual32(2, wordOf(IMDS), 1));
            toAllow.add(p.size());
            p.add(Insn.jumpIfNot32(2, wordOf(CONTAINER_CREDENTIALS), 0));
        } else {
            toAllow.add(p.size());
            p.add(Insn.jumpIfNot32(2, wordOf(IMDS), 0));
        }
        p.add(Insn.loadWord(2, 6, USER_PORT));
        toAllow.add(p.size());
        p.add(Insn.jumpIfNot32(2, portWord(Destination.PORT), 0));
        p.add(Insn.loadWord(2, 6, PROTOCOL));
        toAllow.add(p.size());
        p.add(Insn.jumpIfNot32(2, IPPROTO_TCP, 0));
        p.add(Insn.movReg(1, 6));
        p.add(Insn.call(HELPER_GET_NETNS_COOKIE));
        p.addAll(Insn.load64(1, hostNetnsCookie));
        toAllow.add(p.size());
        p.add(Insn.jumpIfEqual(0, 1, 0));
        if (kind == Kind.REDIRECT) {
            // Rewrite the destination, then fall through to "allow".
            p.add(Insn.mov32(2, wordOf(hostIp.getAddress())));
            p.add(Insn.storeWord(6, USER_IP4, 2));
            p.add(Insn.mov32(2, portWord(port)));
            p.add(Insn.storeWord(6, USER_PORT, 2));
        } else {
            p.add(Insn.movImm(0, 0));
            p.add(Insn.exit());
        }
        int allow = p.size();
        p.add(Insn.movImm(0, 1));
        p.add(Insn.exit());
        for (int at : toAllow) {
            p.set(at, p.get(at).withOffset(allow - at - 1));
        }
        return List.copyOf(p);
    }

    public byte[] bytes() {
        return Insn.encode(instructions());
    }

    /** What the kernel loads: a cgroup connect4 program. */
    public ProgramSpec spec() {
        return new ProgramSpec(Bpf.PROG_TYPE_CGROUP_SOCK_ADDR, Bpf.ATTACH_CGROUP_INET4_CONNECT, kind.programName(), "Dual MIT/GPL", bytes());
    }

    /**
     * The tags the kernel may report for this program: the first 8 bytes of a digest of its instructions as
     * loaded (SHA-1 until Linux 6.17, SHA-256 since). Reading one back proves the kernel runs exactly this
     * program, host IP, port and namespace cookie included.
     */
    public Set<String> tags() {
        return Set.of(tag("SHA-1"), tag("SHA-256"));
    }

    private String tag(String algorithm) {
        try {
            byte[] digest = MessageDigest.getInstance(algorithm).digest(bytes());
            return HexFormat.of().formatHex(Arrays.copyOf(digest, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }
}
