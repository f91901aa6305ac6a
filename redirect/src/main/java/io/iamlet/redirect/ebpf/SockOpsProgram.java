package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Asm;
import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Fd;
import io.iamlet.bpf.Insn;
import io.iamlet.bpf.ProgramSpec;
import io.iamlet.bpf.Reg;

import java.net.Inet4Address;
import java.util.List;

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
 * map, and asks for state callbacks; when that socket reaches TCP_CLOSE the entry is deleted. The agent
 * looks up the peer address and port of each accepted connection.
 * <p>Why TCP_CONNECT_CB: it runs inside connect(2), in the calling process, after the local port is chosen
 * and before the SYN leaves, so the entry exists before the agent can accept, and "current" is the socket's
 * caller (the established callback on the active side runs in softirq, where it is not).
 */
record SockOpsProgram(Inet4Address hostIp, int port, int ownersMapFd) {
    static final String NAME = "iamlet_owners";

    // struct bpf_sock_ops fields.
    private static final int OP = 0;
    private static final int ARG1 = 8;
    private static final int FAMILY = 20;
    private static final int REMOTE_IP4 = 24;
    private static final int LOCAL_IP4 = 28;
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
    /** The key (address, port) at fp-16, the value (cgroup id) at fp-8. */
    private static final int KEY = -16;
    private static final int VALUE = -8;

    List<Insn> instructions() {
        Asm a = new Asm();
        Asm.Label connect = a.label("connect");
        Asm.Label state = a.label("state");
        Asm.Label done = a.label("done");
        Asm.Label shift = a.label("shift");
        Asm.Label comparePort = a.label("compare port");
        a.mov(R6, R1);
        a.loadWord(R2, R6, OP);
        a.jumpIfEqual32(R2, OP_TCP_CONNECT_CB, connect);
        a.jumpIfEqual32(R2, OP_STATE_CB, state);
        a.jump(done);

        // An AF_INET6 socket connected to an IPv4-mapped address (a JVM's) runs the IPv4 path underneath: its
        // remote_ip4 and local_ip4 hold the IPv4 ends, as an AF_INET socket's do. A pure IPv6 connection's
        // remote_ip4 is never the agent's IPv4 address.
        Asm.Label ipv4 = a.label("ipv4");
        a.place(connect).loadWord(R2, R6, FAMILY);
        a.jumpIfEqual32(R2, AF_INET6, ipv4);
        a.jumpIfNot32(R2, AF_INET, done);
        a.place(ipv4).loadWord(R2, R6, REMOTE_IP4);
        a.jumpIfNot32(R2, ConnectProgram.wordOf(hostIp.getAddress()), done);
        // remote_port is in network order; little-endian kernels hand it over in the upper 16 bits.
        a.loadWord(R2, R6, REMOTE_PORT);
        a.jumpIfGreater32(R2, 0xffff, shift);
        a.jump(comparePort);
        a.place(shift).rsh32(R2, 16);
        a.place(comparePort).jumpIfNot32(R2, ConnectProgram.portWord(port), done);
        key(a);
        a.call(HELPER_GET_CURRENT_CGROUP_ID);
        a.storeDouble(FP, VALUE, R0);
        a.loadMap(R1, ownersMapFd);
        a.mov(R2, FP).addImm(R2, KEY);
        a.mov(R3, FP).addImm(R3, VALUE);
        a.mov(R4, 0);
        a.call(HELPER_MAP_UPDATE_ELEM);
        // Ask for the state callbacks of this socket only, keeping whatever another program asked for.
        a.loadWord(R2, R6, CB_FLAGS);
        a.orImm(R2, STATE_CB_FLAG);
        a.mov(R1, R6);
        a.call(HELPER_SOCK_OPS_CB_FLAGS_SET);
        a.jump(done);

        // args[1] is the new state; the socket still has its local address and port here.
        a.place(state).loadWord(R2, R6, ARG1);
        a.jumpIfNot32(R2, TCP_CLOSE, done);
        key(a);
        a.loadMap(R1, ownersMapFd);
        a.mov(R2, FP).addImm(R2, KEY);
        a.call(HELPER_MAP_DELETE_ELEM);

        // sock_ops programs return 1; the value is not a verdict for these callbacks.
        a.place(done).ret(1);
        return a.build();
    }

    /** The map key on the stack: local_ip4 (network order) then local_port (host order), 4 bytes each. */
    private static void key(Asm a) {
        a.loadWord(R2, R6, LOCAL_IP4).storeWord(FP, KEY, R2);
        a.loadWord(R2, R6, LOCAL_PORT).storeWord(FP, KEY + 4, R2);
    }

    ProgramSpec spec() {
        return new ProgramSpec(Bpf.PROG_TYPE_SOCK_OPS, Bpf.ATTACH_CGROUP_SOCK_OPS, NAME, "Dual MIT/GPL", Insn.encode(instructions()));
    }
}
