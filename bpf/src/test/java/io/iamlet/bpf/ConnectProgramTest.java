package io.iamlet.bpf;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The program's shape, without a kernel: what the verifier and the kernel tests then check for real. */
class ConnectProgramTest {
    private static final Inet4Address HOST = (Inet4Address) InetAddress.ofLiteral("10.200.0.10");

    private static ConnectProgram program(ConnectProgram.Kind kind, int port) {
        return new ConnectProgram(kind, HOST, port, 0x1234_5678_9abcL);
    }

    @Test
    void everyCheckJumpsToTheFinalAllow() {
        for (ConnectProgram.Kind kind : ConnectProgram.Kind.values()) {
            List<Insn> p = program(kind, 8181).instructions();
            int allow = p.size() - 2;
            assertEquals(Insn.movImm(0, 1), p.get(allow));
            assertEquals(Insn.exit(), p.get(allow + 1));
            long jumps = 0;
            for (int at = 0; at < p.size(); at++) {
                int code = p.get(at).code();
                if (code == 0x56 || code == 0x1d) {
                    assertEquals(allow, at + 1 + p.get(at).off(), kind + ": the jump at " + at);
                    jumps++;
                }
            }
            assertEquals(4, jumps, "address, port, protocol and the node's namespace");
        }
    }

    @Test
    void theRedirectWritesTheHostAddressAndPortInNetworkOrder() {
        List<Insn> p = program(ConnectProgram.Kind.REDIRECT, 8181).instructions();
        assertTrue(p.contains(Insn.mov32(2, 0x0a00c80a)), "10.200.0.10 as the 32-bit load of its network-order bytes");
        assertTrue(p.contains(Insn.mov32(2, 0xf51f)), "8181 = 0x1ff5, swapped");
        assertTrue(p.stream().anyMatch(i -> i.code() == 0x56 && i.imm() == 0xfea9fea9), "compared with 169.254.169.254");
        assertTrue(p.stream().anyMatch(i -> i.code() == 0x56 && i.imm() == 0x5000), "compared with port 80");
        assertTrue(p.contains(Insn.storeWord(6, 4, 2)) && p.contains(Insn.storeWord(6, 24, 2)));
        assertFalse(program(ConnectProgram.Kind.BLOCK, 8181).instructions().contains(Insn.storeWord(6, 4, 2)),
                "the block rewrites nothing");
    }

    @Test
    void tagsTellProgramsApart() {
        ConnectProgram a = program(ConnectProgram.Kind.REDIRECT, 8181);
        assertEquals(a.tags(), program(ConnectProgram.Kind.REDIRECT, 8181).tags());
        assertNotEquals(a.tags(), program(ConnectProgram.Kind.REDIRECT, 8182).tags());
        assertNotEquals(a.tags(), program(ConnectProgram.Kind.BLOCK, 8181).tags());
        assertEquals(8 * a.instructions().size(), a.bytes().length);
        assertEquals(0x18, a.bytes()[8 * a.instructions().indexOf(Insn.load64(1, 0x1234_5678_9abcL).getFirst())], "ld_imm64");
    }
}
