package io.iamlet.e2e.sandbox;

import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A sandbox run that Ctrl-C or a crash ends halfway leaves nothing behind, at once or by the next run. */
class SandboxCleanupE2eTest {
    private record Held(Process process, String nodeNamespace) {
    }

    /** Starts {@link SandboxHolder} in a JVM of its own and waits until its sandbox and agent are up. */
    private static Held hold() throws Exception {
        Process p = new ProcessBuilder(TestJvm.command(SandboxHolder.class)).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.startsWith("held ")) {
                Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
                return new Held(p, line.substring(5));
            }
        }
        throw new AssertionError("the sandbox holder ended before its sandbox was up:\n" + seen);
    }

    private static List<String> namespacesOf(Process p) {
        String prefix = "iamlet-t" + p.pid() + "-";
        return Command.run("ip", "netns", "list").ok().stdout().lines()
                .map(l -> l.split("\\s+")[0]).filter(n -> n.startsWith(prefix)).toList();
    }

    private static List<java.nio.file.Path> temporaryDirectoriesOf(Process p) throws java.io.IOException {
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("iamlet-sandbox-" + p.pid() + "-")).toList();
        }
    }

    private static List<ProcessHandle> agentsIn(String namespace) {
        return Command.run("ip", "netns", "pids", namespace).stdout().lines().map(String::strip).filter(s -> !s.isEmpty())
                .map(Long::parseLong).map(ProcessHandle::of).flatMap(java.util.Optional::stream).toList();
    }

    @Test
    void ctrlCTearsTheSandboxDownAtOnce() throws Exception {
        Held held = hold();
        try {
            assertEquals(3, namespacesOf(held.process()).size(), "world, node, one pod: " + namespacesOf(held.process()));
            List<ProcessHandle> agents = agentsIn(held.nodeNamespace());
            assertFalse(agents.isEmpty(), "the agent runs in the node");
            Command.run("kill", "-INT", Long.toString(held.process().pid())).ok();
            assertTrue(held.process().waitFor(60, TimeUnit.SECONDS), "the holder did not end on SIGINT");
            assertEquals(List.of(), namespacesOf(held.process()), "SIGINT deleted every namespace");
            assertEquals(List.of(), temporaryDirectoriesOf(held.process()), "and the temporary directory");
            for (ProcessHandle agent : agents) {
                agent.onExit().get(30, TimeUnit.SECONDS);
                assertFalse(agent.isAlive(), "the agent ended");
            }
        } finally {
            held.process().destroyForcibly();
        }
    }

    @Test
    void theNextRunCleansUpAfterACrash() throws Exception {
        Held held = hold();
        List<ProcessHandle> agents = agentsIn(held.nodeNamespace());
        held.process().destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        List<String> left = namespacesOf(held.process());
        assertFalse(left.isEmpty(), "a crash leaves the namespaces behind");
        assertTrue(agents.stream().anyMatch(ProcessHandle::isAlive), "and the agent still running in the node");

        assertFalse(temporaryDirectoriesOf(held.process()).isEmpty(), "and its temporary directory");

        try (Sandbox next = Sandbox.start()) {
            assertEquals(List.of(), namespacesOf(held.process()), "the next run deleted the crashed run's namespaces");
            assertEquals(List.of(), temporaryDirectoriesOf(held.process()), "and its temporary directory");
            for (ProcessHandle agent : agents) {
                agent.onExit().get(30, TimeUnit.SECONDS);
                assertFalse(agent.isAlive(), "the orphaned agent was killed");
            }
            assertTrue(next.nodeRuleset().isEmpty());
        }
    }
}
