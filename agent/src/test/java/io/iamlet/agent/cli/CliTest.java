package io.iamlet.agent.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Command-line handling that needs no kernel. */
class CliTest {
    record Run(int exit, String out, String err) {
    }

    static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = new Cli(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env)
                .run(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void helpAndVersion() {
        assertEquals(0, run("help").exit());
        assertTrue(run("help").out().contains("rules"));
        assertEquals(64, run().exit(), "no command is a usage error");
        Run version = run("version");
        assertEquals(0, version.exit());
        assertTrue(version.out().startsWith("iamlet "), version.out());
        assertEquals(0, run("rules", "--help").exit());
        assertTrue(run("rules", "--help").out().contains("--host-interface"));
    }

    @Test
    void usageErrorsNameTheProblem() {
        record Case(List<String> args, String expected) {
        }
        for (Case c : List.of(
                new Case(List.of("nope"), "unknown command 'nope'"),
                new Case(List.of("rules", "install", "--host-ip", "10.0.0.1", "--bogus"), "unknown flag --bogus"),
                new Case(List.of("rules", "install", "--host-ip", "node-1"), "--host-ip 'node-1' is not an IPv4 address"),
                new Case(List.of("rules", "install"), "--host-ip is required"),
                new Case(List.of("rules", "install", "--host-ip=10.0.0.1", "--app-port=http"), "--app-port takes a number"),
                new Case(List.of("rules", "install", "--host-ip=10.0.0.1", "--host-interface=cali+,,eni+"), "empty entry"),
                new Case(List.of("rules", "show", "--backend=bpf"), "--backend must be nftables, iptables or ebpf, not 'bpf'"),
                new Case(List.of("rules", "install", "--host-ip"), "--host-ip needs a value"),
                new Case(List.of("rules"), "expected one action"),
                new Case(List.of("rules", "flush"), "unknown action 'flush'"))) {
            Run r = run(c.args().toArray(String[]::new));
            assertEquals(64, r.exit(), c.args() + ": " + r.err());
            assertTrue(r.err().contains(c.expected()), c.args() + " should say '" + c.expected() + "': " + r.err());
        }
    }

    @Test
    void flagsAcceptKube2iamSpellings() {
        List<Flags.Spec> specs = List.of(Flags.Spec.string("host-ip", "", "x"), Flags.Spec.bool("iptables", "x"),
                Flags.Spec.string("app-port", "8181", "x"));
        Flags f = Flags.parse(specs, List.of("--host-ip=1.2.3.4", "--iptables", "run"));
        assertEquals("1.2.3.4", f.require("host-ip"));
        assertTrue(f.bool("iptables"));
        assertEquals(8181, f.integer("app-port"));
        assertEquals(List.of("run"), f.positional());
        Flags g = Flags.parse(specs, List.of("-host-ip", "5.6.7.8", "--iptables=false"));
        assertEquals("5.6.7.8", g.require("host-ip"));
        assertFalse(g.bool("iptables"));
        assertThrows(UsageException.class, () -> Flags.parse(specs, List.of("--iptables=maybe")));
    }
}
