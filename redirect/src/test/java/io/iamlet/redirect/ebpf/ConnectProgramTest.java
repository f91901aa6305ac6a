package io.iamlet.redirect.ebpf;

import io.iamlet.bpf.Bpf;
import io.iamlet.bpf.Insn;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

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
    void withContainerCredentialsEitherAddressGoesOnToThePortCheck() {
        for (ConnectProgram.Kind kind : ConnectProgram.Kind.values()) {
            List<Insn> p = new ConnectProgram(kind, HOST, 8181, 0x1234_5678_9abcL, true).instructions();
            int imds = p.indexOf(new Insn(0x16, 2, 0, 1, 0xfea9fea9));
            assertTrue(imds > 0, kind + ": 169.254.169.254 jumps over the next check");
            assertEquals(new Insn(0x56, 2, 0, p.size() - 2 - (imds + 2), 0x17aafea9), p.get(imds + 1),
                    kind + ": anything but 169.254.170.23 jumps to the final allow");
            assertTrue(p.get(imds + 2).code() == 0x61 && p.get(imds + 2).off() == 24, "both go on to load user_port");
        }
        assertFalse(program(ConnectProgram.Kind.REDIRECT, 8181).instructions().stream().anyMatch(i -> i.imm() == 0x17aafea9),
                "off by default");
        assertNotEquals(program(ConnectProgram.Kind.REDIRECT, 8181).tags(),
                new ConnectProgram(ConnectProgram.Kind.REDIRECT, HOST, 8181, 0x1234_5678_9abcL, true).tags());
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

    @Test
    void connect6MatchesOnlyTheIpv4MappedAddressAndRewritesItsIpv4Part() {
        List<Insn> p = program(ConnectProgram.Kind.REDIRECT, 8181).instructions(ConnectProgram.Hook.CONNECT6);
        int allow = p.size() - 2;
        List<Integer> loads = p.stream().filter(i -> i.code() == 0x61 && i.src() == 6).map(Insn::off).toList();
        assertEquals(List.of(8, 12, 16, 20, 24, 36), loads, "user_ip6[0..3], then user_port and protocol");
        assertEquals(new Insn(0x56, 2, 0, allow - 3, 0), p.get(2), "a non-zero first word is not IPv4-mapped: allowed");
        assertTrue(p.stream().anyMatch(i -> i.code() == 0x56 && i.imm() == 0xffff0000), "::ffff: in the third word");
        assertTrue(p.contains(Insn.storeWord(6, 20, 2)), "the host address goes to user_ip6[3], keeping ::ffff:");
        assertFalse(p.contains(Insn.storeWord(6, 4, 2)), "user_ip4 is not there for AF_INET6 sockets");
        assertNotEquals(program(ConnectProgram.Kind.REDIRECT, 8181).tags(), program(ConnectProgram.Kind.REDIRECT, 8181).tags(ConnectProgram.Hook.CONNECT6));
        assertEquals(Bpf.ATTACH_CGROUP_INET6_CONNECT, program(ConnectProgram.Kind.BLOCK, 8181).spec(ConnectProgram.Hook.CONNECT6).attachType());
    }

    @Test
    void withAnIpv6HostConnect6AlsoRewritesNativeIpv6MetadataConnectsWholly() {
        Optional<Inet6Address> v6 = Optional.of((Inet6Address) InetAddress.ofLiteral("fd00:10:200::10"));
        ConnectProgram without = new ConnectProgram(ConnectProgram.Kind.REDIRECT, HOST, 8181, 0x1234_5678_9abcL, true, 0);
        ConnectProgram with = new ConnectProgram(ConnectProgram.Kind.REDIRECT, HOST, 8181, 0x1234_5678_9abcL, true, 0, v6);
        assertEquals(without.instructions(), with.instructions(), "connect4 is the same program");
        assertEquals(without.instructions(ConnectProgram.Hook.CONNECT6),
                new ConnectProgram(ConnectProgram.Kind.REDIRECT, HOST, 8181, 0x1234_5678_9abcL, true, 0, Optional.empty())
                        .instructions(ConnectProgram.Hook.CONNECT6), "without an IPv6 host, connect6 is the program it always was");
        List<Insn> p = with.instructions(ConnectProgram.Hook.CONNECT6);
        int allow = p.size() - 2;
        assertEquals(Insn.movImm(0, 1), p.get(allow));
        assertTrue(p.stream().anyMatch(i -> i.code() == 0x56 && i.imm() == 0xc20e00fd), "fd00:0ec2 as the first word's load");
        assertTrue(p.stream().anyMatch(i -> i.code() == 0x16 && i.imm() == 0x54020000), "::254 in the last word");
        assertTrue(p.stream().anyMatch(i -> i.code() == 0x56 && i.imm() == 0x23000000), "::23 in the last word");
        assertTrue(p.contains(Insn.mov32(2, 0x100000fd)) && p.contains(Insn.mov32(2, 0x10000000)), "fd00:10:200::10, word by word");
        for (int word = 0; word < 4; word++) {
            assertTrue(p.contains(Insn.storeWord(6, 8 + 4 * word, 2)), "user_ip6[" + word + "] rewritten");
        }
        assertEquals(2, p.stream().filter(i -> i.equals(Insn.storeWord(6, 24, 2))).count(), "the port, on both paths");
        assertNotEquals(without.tags(ConnectProgram.Hook.CONNECT6), with.tags(ConnectProgram.Hook.CONNECT6));
        assertNotEquals(with.tags(ConnectProgram.Hook.CONNECT6), new ConnectProgram(ConnectProgram.Kind.REDIRECT, HOST, 8181, 0x1234_5678_9abcL,
                true, 0, Optional.of((Inet6Address) InetAddress.ofLiteral("fd00:10:200::11"))).tags(ConnectProgram.Hook.CONNECT6),
                "the IPv6 host is part of the tag");
        List<Insn> block = new ConnectProgram(ConnectProgram.Kind.BLOCK, HOST, 8181, 0x1234_5678_9abcL, true, 0, v6)
                .instructions(ConnectProgram.Hook.CONNECT6);
        assertEquals(2, block.stream().filter(i -> i.equals(Insn.movImm(0, 0))).count(), "the block refuses both the mapped and the native form");
        assertFalse(block.stream().anyMatch(i -> i.code() == 0x63 && i.src() == 2 && i.dst() == 6), "and rewrites nothing");
    }
}
