package io.iamlet.agent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The `iamlet run` process of this network namespace, as /proc shows it: its arguments after `run` and its
 * environment. `kubectl exec ds/iamlet -- iamlet doctor` runs in the agent's container, which sees the agent's
 * process (same PID namespace) and shares its network namespace; doctor then checks what the agent was started
 * with (--host-interface=cali+ from the chart, the kubeconfig, the STS endpoint), not doctor's own defaults.
 */
record RunningAgent(long pid, List<String> args, Map<String, String> env) {
    /** The agents running in this process's network namespace, oldest first (by PID). */
    static List<RunningAgent> inThisNetworkNamespace(Path proc) {
        // thread-self: a thread can be in another namespace than its process (setns in a test JVM, DoctorE2eTest).
        Optional<String> ownNet = netns(proc.resolve("thread-self")).or(() -> netns(proc.resolve("self")));
        List<RunningAgent> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(proc)) {
            for (Path dir : entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .sorted((a, b) -> Long.compare(Long.parseLong(a.getFileName().toString()), Long.parseLong(b.getFileName().toString()))).toList()) {
                Optional<List<String>> args = runArgs(dir);
                if (args.isEmpty() || (ownNet.isPresent() && !ownNet.equals(netns(dir)))) {
                    continue;
                }
                found.add(new RunningAgent(Long.parseLong(dir.getFileName().toString()), args.get(), environ(dir)));
            }
        } catch (IOException e) {
            return List.of();
        }
        return found;
    }

    /** The agent's flags when this process is the agent (java … -jar …/iamlet.jar [run] FLAGS). */
    private static Optional<List<String>> runArgs(Path dir) {
        try {
            List<String> cmdline = Arrays.asList(Files.readString(dir.resolve("cmdline")).split("\0"));
            for (int i = 1; i < cmdline.size(); i++) {
                if (!cmdline.get(i).endsWith("iamlet.jar") || !cmdline.get(i - 1).equals("-jar")) {
                    continue;
                }
                List<String> rest = cmdline.subList(i + 1, cmdline.size());
                // `iamlet run FLAGS`, or `iamlet FLAGS` as a DaemonSet written for kube2iam starts it.
                if (!rest.isEmpty() && rest.getFirst().equals("run")) {
                    return Optional.of(List.copyOf(rest.subList(1, rest.size())));
                }
                if (rest.isEmpty() || rest.getFirst().startsWith("-")) {
                    return Optional.of(List.copyOf(rest));
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not ours to read
        }
        return Optional.empty();
    }

    private static Optional<String> netns(Path dir) {
        try {
            return Optional.of(Files.readSymbolicLink(dir.resolve("ns/net")).toString());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Map<String, String> environ(Path dir) {
        Map<String, String> env = new LinkedHashMap<>();
        try {
            for (String entry : Files.readString(dir.resolve("environ")).split("\0")) {
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    env.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            // the environment is not readable without the agent's privileges: its arguments still are
        }
        return env;
    }

    /** Whether this agent installs the redirect (--iptables): the one whose rules doctor should compare. */
    boolean installsRules() {
        try {
            return Flags.parse(RunCommand.FLAGS, args).bool("iptables");
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The agent's flags that doctor also takes, as --name=value, for doctor's own parser. */
    List<String> flagsFor(List<Flags.Spec> doctorFlags) {
        Map<String, String> given = Flags.parse(RunCommand.FLAGS, args).given();
        List<String> out = new ArrayList<>();
        for (Flags.Spec spec : doctorFlags) {
            if (given.containsKey(spec.name())) {
                out.add("--" + spec.name() + "=" + given.get(spec.name()));
            }
        }
        return out;
    }
}
