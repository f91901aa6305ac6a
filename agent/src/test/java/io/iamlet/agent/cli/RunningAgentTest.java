package io.iamlet.agent.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** doctor's view of /proc: the agents of its own network namespace, their flags and environment (a /proc made here). */
class RunningAgentTest {
    @TempDir
    Path proc;

    private void process(String pid, String netns, List<String> cmdline, String environ) throws Exception {
        Path dir = Files.createDirectories(proc.resolve(pid));
        Files.createDirectories(dir.resolve("ns"));
        Files.createSymbolicLink(dir.resolve("ns/net"), Path.of(netns));
        Files.writeString(dir.resolve("cmdline"), String.join("\0", cmdline) + "\0");
        Files.writeString(dir.resolve("environ"), environ);
    }

    private static List<String> java(String... runArgs) {
        List<String> line = new ArrayList<>(List.of("/opt/iamlet/runtime/bin/java", "--enable-native-access=ALL-UNNAMED", "-Xmx48m",
                "-jar", "/opt/iamlet/iamlet.jar", "run"));
        line.addAll(List.of(runArgs));
        return line;
    }

    @Test
    void findsTheAgentOfThisNetworkNamespaceWithItsFlagsAndEnvironment() throws Exception {
        Files.createDirectories(proc.resolve("self/ns"));
        Files.createSymbolicLink(proc.resolve("self/ns/net"), Path.of("net:[4026531840]"));
        process("1", "net:[4026531840]", java("--iptables=true", "--host-interface=cali+", "--backend", "iptables", "--app-port=8181"),
                "HOST_IP=10.0.3.7\0NODE_NAME=ip-10-0-3-7\0");
        process("7", "net:[4026531840]", List.of("/bin/bash", "-c", "sleep 1"), "");
        process("9", "net:[4026532999]", java("--iptables=true", "--host-interface=eni+"), "");
        // kube2iam's DaemonSet starts it without `run`; `iamlet doctor` itself is no agent.
        List<String> kube2iamStyle = new ArrayList<>(java("--iptables=false", "--app-port=8183"));
        kube2iamStyle.remove("run");
        process("12", "net:[4026531840]", kube2iamStyle, "");
        process("15", "net:[4026531840]", List.of("/opt/iamlet/runtime/bin/java", "-jar", "/opt/iamlet/iamlet.jar", "doctor"), "");
        Files.createDirectories(proc.resolve("sys"));

        List<RunningAgent> agents = RunningAgent.inThisNetworkNamespace(proc);
        assertEquals(List.of(1L, 12L), agents.stream().map(RunningAgent::pid).toList(), "another namespace's agent and other programs are not ours");
        RunningAgent agent = agents.getFirst();
        assertTrue(agent.installsRules());
        assertFalse(agents.get(1).installsRules());
        assertEquals(List.of("--iptables=false", "--app-port=8183"), agents.get(1).args());
        assertEquals(Map.of("HOST_IP", "10.0.3.7", "NODE_NAME", "ip-10-0-3-7"), agent.env());
        List<Flags.Spec> doctorFlags = RunCommand.FLAGS.stream().filter(s -> List.of("host-interface", "backend", "app-port").contains(s.name())).toList();
        assertEquals(List.of("--app-port=8181", "--host-interface=cali+", "--backend=iptables"), agent.flagsFor(doctorFlags),
                "the agent's flags doctor takes, in doctor's order, whichever spelling the agent was given");
    }

    @Test
    void noAgentNoProcIsNoAgent() {
        assertEquals(List.of(), RunningAgent.inThisNetworkNamespace(proc.resolve("absent")));
    }
}
