package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Asm;
import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Fd;
import io.iamlet.bpf.Insn;
import io.iamlet.bpf.ProgramSpec;
import io.iamlet.bpf.Reg;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.List;
import java.util.Optional;

import static io.iamlet.bpf.Reg.FP;
import static io.iamlet.bpf.Reg.R0;
import static io.iamlet.bpf.Reg.R1;
import static io.iamlet.bpf.Reg.R2;
import static io.iamlet.bpf.Reg.R3;
import static io.iamlet.bpf.Reg.R4;
import static io.iamlet.bpf.Reg.R6;

/**
 * The cgroup sock_ops program that tells the agent who is calling. When a TCP socket under the pods' cgroup
 * connects to the agent (after a connect program rewrote its destination, or directly; an AF_INET socket or
 * an AF_INET6 one with an IPv4-mapped address), it records
 * <em>(the socket's local IPv4 address, local port) → the connecting process's cgroup id</em> in the owners
 * map, and asks for state callbacks; when that socket reaches TCP_CLOSE the entry is deleted. With
 * {@code hostIpv6}, a native IPv6 connection to [hostIpv6]:port is recorded the same way in the second map,
 * keyed by <em>(local IPv6 address, local port)</em>. The agent looks up the peer address and port of each
 * accepted connection in the map of its family.
 * <p>Why TCP_CONNECT_CB: it runs inside connect(2), in the calling process, after the local port is chosen
 * and before the SYN leaves, so the entry exists before the agent can accept, and "current" is the socket's
 * caller (the established callback on the active side runs in softirq, where it is not).
 * <p>Why a second map rather than a wider key: the IPv4 map's 8-byte key stays as it was, so an agent of the
 * previous version and the pins it made keep working across an upgrade.
 *
 * @param owners6MapFd the IPv6 owners map; used only with {@code hostIpv6}
 */
record SockOpsProgram(Inet4Address hostIp, int port, int ownersMapFd, Optional<Inet6Address> hostIpv6, int owners6MapFd) {
    static final String NAME = "iamlet_owners";

    // struct bpf_sock_ops fields.
    private static final int OP = 0;
    private static final int ARG1 = 8;
    private static final int FAMILY = 20;
    private static final int REMOTE_IP4 = 24;
    private static final int LOCAL_IP4 = 28;
    /** remote_ip6[0..3] and local_ip6[0..3]: four network-order words each. */
    private static final int REMOTE_IP6 = 32;
    private static final int LOCAL_IP6 = 48;
    private static final int REMOTE_PORT = 64;
    private static final int LOCAL_PORT = 68;
    private static final int CB_FLAGS = 84;
    private static final int OP_TCP_CONNECT_CB = 3;
    private static final int OP_STATE_CB = 10;
    private static final int STATE_CB_FLAG = 4;
    private static final int TCP_CLOSE = 7;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int HELPER_MAP_UPDATE_ELEM = 2;
    private static final int HELPER_MAP_DELETE_ELEM = 3;
    private static final int HELPER_SOCK_OPS_CB_FLAGS_SET = 59;
    private static final int HELPER_GET_CURRENT_CGROUP_ID = 80;
    /** The IPv4 key (address, port) at fp-16, the IPv6 key (address, port: 20 bytes) at fp-32, the value (cgroup id) at fp-8. */
    private static final int KEY = -16;
    private static final int KEY6 = -32;
    private static final int VALUE = -8;

    SockOpsProgram {
        hostIpv6 = hostIpv6 == null ? Optional.empty() : hostIpv6;
    }

    /** IPv4 connections only. */
    SockOpsProgram(Inet4Address hostIp, int port, int ownersMapFd) {
        this(hostIp, port, ownersMapFd, Optional.empty(), -1);
    }

    List<Insn> instructions() {
        Asm a = new Asm();
        Asm.Label connect = a.label("connect");
        Asm.Label state = a.label("state");
        Asm.Label done = a.label("done");
        Asm.Label ipv4 = a.label("ipv4");
        Asm.Label maybe6 = a.label("maybe ipv6");
        a.mov(R6, R1);
        a.loadWord(R2, R6, OP);
        a.jumpIfEqual32(R2, OP_TCP_CONNECT_CB, connect);
        a.jumpIfEqual32(R2, OP_STATE_CB, state);
        a.jump(done);

        // An AF_INET6 socket connected to an IPv4-mapped address (a JVM's) runs the IPv4 path underneath: its
        // remote_ip4 and local_ip4 hold the IPv4 ends, as an AF_INET socket's do. A pure IPv6 connection's
        // remote_ip4 is never the agent's IPv4 address, and its remote_ip6 is the agent's IPv6 one.
        a.place(connect).loadWord(R2, R6, FAMILY);
        a.jumpIfEqual32(R2, AF_INET6, hostIpv6.isPresent() ? maybe6 : ipv4);
        a.jumpIfNot32(R2, AF_INET, done);
        a.place(ipv4).loadWord(R2, R6, REMOTE_IP4);
        a.jumpIfNot32(R2, ConnectProgram.wordOf(hostIp.getAddress()), done);
        remotePortIsAgents(a, done, "4");
        key(a);
        record(a, ownersMapFd, KEY);
        a.jump(done);
        if (hostIpv6.isPresent()) {
            a.place(maybe6);
            remoteIsAgentsIpv6(a, ipv4);
            remotePortIsAgents(a, done, "6");
            key6(a);
            record(a, owners6MapFd, KEY6);
            a.jump(done);
        }

        // args[1] is the new state; the socket still has its addresses and ports here. Only sockets the connect
        // callback recorded asked for state callbacks: a native IPv6 one is in the second map, any other in the first.
        Asm.Label delete4 = a.label("delete ipv4");
        a.place(state).loadWord(R2, R6, ARG1);
        a.jumpIfNot32(R2, TCP_CLOSE, done);
        if (hostIpv6.isPresent()) {
            a.loadWord(R2, R6, FAMILY);
            a.jumpIfNot32(R2, AF_INET6, delete4);
            remoteIsAgentsIpv6(a, delete4);
            key6(a);
            a.loadMap(R1, owners6MapFd);
            a.mov(R2, FP).addImm(R2, KEY6);
            a.call(HELPER_MAP_DELETE_ELEM);
            a.jump(done);
        }
        a.place(delete4);
        key(a);
        a.loadMap(R1, ownersMapFd);
        a.mov(R2, FP).addImm(R2, KEY);
        a.call(HELPER_MAP_DELETE_ELEM);

        // sock_ops programs return 1; the value is not a verdict for these callbacks.
        a.place(done).ret(1);
        return a.build();
    }

    /** Goes to {@code otherwise} unless remote_port is the agent's port. */
    private void remotePortIsAgents(Asm a, Asm.Label otherwise, String family) {
        Asm.Label shift = a.label("shift " + family);
        Asm.Label comparePort = a.label("compare port " + family);
        // remote_port is in network order; little-endian kernels hand it over in the upper 16 bits.
        a.loadWord(R2, R6, REMOTE_PORT);
        a.jumpIfGreater32(R2, 0xffff, shift);
        a.jump(comparePort);
        a.place(shift).rsh32(R2, 16);
        a.place(comparePort).jumpIfNot32(R2, ConnectProgram.portWord(port), otherwise);
    }

    /** Goes to {@code otherwise} unless remote_ip6 is the agent's IPv6 address. */
    private void remoteIsAgentsIpv6(Asm a, Asm.Label otherwise) {
        int[] host = ConnectProgram.wordsOf(hostIpv6.orElseThrow().getAddress());
        for (int i = 0; i < 4; i++) {
            a.loadWord(R2, R6, REMOTE_IP6 + 4 * i).jumpIfNot32(R2, host[i], otherwise);
        }
    }

    /** map[key at fp+keyOffset] = the current cgroup id; then the state callbacks for this socket. */
    private void record(Asm a, int mapFd, int keyOffset) {
        a.call(HELPER_GET_CURRENT_CGROUP_ID);
        a.storeDouble(FP, VALUE, R0);
        a.loadMap(R1, mapFd);
        a.mov(R2, FP).addImm(R2, keyOffset);
        a.mov(R3, FP).addImm(R3, VALUE);
        a.mov(R4, 0);
        a.call(HELPER_MAP_UPDATE_ELEM);
        // Ask for the state callbacks of this socket only, keeping whatever another program asked for.
        a.loadWord(R2, R6, CB_FLAGS);
        a.orImm(R2, STATE_CB_FLAG);
        a.mov(R1, R6);
        a.call(HELPER_SOCK_OPS_CB_FLAGS_SET);
    }

    /** The map key on the stack: local_ip4 (network order) then local_port (host order), 4 bytes each. */
    private static void key(Asm a) {
        a.loadWord(R2, R6, LOCAL_IP4).storeWord(FP, KEY, R2);
        a.loadWord(R2, R6, LOCAL_PORT).storeWord(FP, KEY + 4, R2);
    }

    /** The IPv6 map key on the stack: local_ip6[0..3] (network order) then local_port (host order), 20 bytes. */
    private static void key6(Asm a) {
        for (int i = 0; i < 4; i++) {
            a.loadWord(R2, R6, LOCAL_IP6 + 4 * i).storeWord(FP, KEY6 + 4 * i, R2);
        }
        a.loadWord(R2, R6, LOCAL_PORT).storeWord(FP, KEY6 + 16, R2);
    }

    ProgramSpec spec() {
        return new ProgramSpec(Bpf.PROG_TYPE_SOCK_OPS, Bpf.ATTACH_CGROUP_SOCK_OPS, NAME, "Dual MIT/GPL", Insn.encode(instructions()));
    }
}
