package io.iamlet.netlink.testing;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A throwaway network namespace for a kernel test. Names carry the test JVM's pid, so a run that died
 * without cleaning up is recognised and its namespaces deleted by the next run.
 */
public final class Netns implements AutoCloseable {
    private static final String PREFIX = "iamlet-t";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long PID = ProcessHandle.current().pid();

    private final String name;

    private Netns(String name) {
        this.name = name;
    }

    /** Kernel tests need root; say so loudly instead of skipping. */
    public static void requireRoot() {
        try {
            String status = Files.readString(Path.of("/proc/self/status"));
            for (String line : status.split("\n")) {
                if (line.startsWith("Uid:") && !line.split("\\s+")[2].equals("0")) {
                    throw new AssertionError("kernel tests need root (they create network namespaces and nftables rules):"
                            + " run the test command as root, e.g. sudo ./bin/test");
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/self/status to check for root", e);
        }
    }

    public static Netns create() {
        return create("");
    }

    /** A namespace whose name ends in a label, so `ip netns list` during a sandbox run says what each one is. */
    public static Netns create(String label) {
        requireRoot();
        removeLeftovers();
        String name = PREFIX + PID + "-" + COUNTER.incrementAndGet() + (label.isEmpty() ? "" : "-" + label);
        Command.run("ip", "netns", "add", name).ok();
        Netns ns = new Netns(name);
        ns.exec("ip", "link", "set", "lo", "up").ok();
        return ns;
    }

    private static void removeLeftovers() {
        String list = Command.run("ip", "netns", "list").ok().stdout();
        for (String line : list.split("\n")) {
            String ns = line.split("\\s+")[0];
            if (!ns.startsWith(PREFIX)) {
                continue;
            }
            String pid = ns.substring(PREFIX.length(), ns.indexOf('-', PREFIX.length()));
            if (ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                delete(ns);
            }
        }
    }

    public String name() {
        return name;
    }

    public Path path() {
        return NetworkNamespace.named(name);
    }

    /** Runs a tool inside this namespace. */
    public Command.Result exec(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return Command.run(Duration.ofSeconds(60), full);
    }

    /** Runs Java code inside this namespace on a thread of its own. */
    public <T> T call(Callable<T> body) throws Exception {
        return NetworkNamespace.call(path(), body);
    }

    public void run(ThrowingRunnable body) throws Exception {
        call(() -> {
            body.run();
            return null;
        });
    }

    /** A veth pair between two namespaces, each end named as given and up. */
    public static void veth(Netns a, String aName, Netns b, String bName) {
        Command.run("ip", "link", "add", aName, "netns", a.name, "type", "veth", "peer", "name", bName, "netns", b.name).ok();
        a.exec("ip", "link", "set", aName, "up").ok();
        b.exec("ip", "link", "set", bName, "up").ok();
    }

    @FunctionalInterface
    public interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * Kills what still runs inside (an agent a crashed run left behind would otherwise outlive its
     * namespace's name), then deletes the namespace.
     */
    private static void delete(String ns) {
        for (String pid : Command.run("ip", "netns", "pids", ns).stdout().split("\\s+")) {
            if (!pid.isBlank()) {
                ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        Command.run("ip", "netns", "del", ns);
    }

    @Override
    public void close() {
        delete(name);
    }
}
