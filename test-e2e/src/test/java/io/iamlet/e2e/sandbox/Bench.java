package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.iamlet.control.testing.Pods;
import io.iamlet.netlink.testing.Command;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bin/bench: iamlet against nginx, the floor, in the sandbox, as a user measures it. N pods in the fake API,
 * one real pod behind a cali veth; from it, wrk asks iamlet (169.254.169.254 → the agent's DNAT rule) and nginx
 * (its own DNAT rule, same interface) for the very same credential bytes, at 1 and 16 connections. Prints one
 * table. Exits 1 only when a count is wrong (answers that are not 2xx, socket errors, STS calls during load):
 * timings are reported, never asserted.
 * <p>
 * {@code Bench [--pods=N] [--duration=SECONDS] [--warmup=SECONDS] [--connections=1,16] [--agent-log=FILE]
 * [--backend=nftables|ebpf] [--pod-size=small|production]}; with {@code --api-outage}, {@link ApiOutageBench} instead. With {@code --backend=ebpf}
 * the agent names each caller by its cgroup (the kernel identity): the client pod and wrk run in a container
 * cgroup as a kubelet makes it, and the nginx floor keeps its own DNAT rule; the same agent is then also asked
 * by address alone (issue #22 compares the two paths), and each iamlet load reports the agent's CPU per request.
 */
public final class Bench {
    private static final String ROLE = "bench-role-0";
    private static final int ROLES = 10;
    private static final int NAMESPACES = 10;
    private static final String PATH = "/latest/meta-data/iam/security-credentials/" + ROLE;
    /** Where the pod reaches nginx: an address of its own, DNATed to the node as the agent's rule does. */
    private static final String FLOOR_IP = "169.254.170.254";
    private static final int FLOOR_PORT = 8190;
    /**
     * With --backend=ebpf, the address-only path to the same agent: wrk in the client pod's network namespace
     * but outside the pods' cgroup (so no connect program and no owners entry), through a DNAT rule of the
     * bench's own to the app port. The agent then finds no kernel entry and names the pod by its address.
     */
    private static final String ADDRESS_IP = "169.254.171.254";
    private static final int APP_PORT = 8181;
    private static final int MANAGEMENT_PORT = 8182;

    private Bench() {
    }

    /**
     * {@code blocks} and {@code blockSeconds}: with --backend=ebpf, how many ABBA blocks (address, kernel, kernel,
     * address) compare the two paths at each connection count, and how long each of their loads runs. Many short
     * blocks rather than one long one: the machine's other load moves on a scale of seconds, and within a short
     * block it weighs on both paths alike, so the median of the blocks' ratios is steady where one pair is not.
     */
    record Options(int pods, int durationSeconds, int warmupSeconds, List<Integer> connections, Optional<Path> agentLog,
                   Optional<Path> diagnostics, String backend, int blocks, int blockSeconds, int afterReadySeconds, boolean productionPods) {
        static Options parse(String[] args) {
            int pods = 1000;
            int duration = 10;
            Integer warmup = null;
            List<Integer> connections = List.of(1, 16);
            Path agentLog = null;
            Path diagnostics = null;
            String backend = "nftables";
            int blocks = 8;
            int blockSeconds = 3;
            int afterReadySeconds = 5;
            boolean productionPods = false;
            for (String a : args) {
                String[] kv = a.split("=", 2);
                if (kv.length != 2) {
                    throw new IllegalArgumentException("unknown argument " + a);
                }
                switch (kv[0]) {
                    case "--pods" -> pods = Integer.parseInt(kv[1]);
                    case "--duration" -> duration = Integer.parseInt(kv[1]);
                    case "--warmup" -> warmup = Integer.parseInt(kv[1]);
                    case "--agent-log" -> agentLog = Path.of(kv[1]);
                    case "--diagnostics" -> diagnostics = Path.of(kv[1]);
                    case "--backend" -> backend = switch (kv[1]) {
                        case "nftables", "ebpf" -> kv[1];
                        default -> throw new IllegalArgumentException("--backend is nftables or ebpf, not " + kv[1]);
                    };
                    case "--blocks" -> blocks = positive(kv);
                    case "--after-ready" -> afterReadySeconds = Integer.parseInt(kv[1]);
                    case "--block-seconds" -> blockSeconds = positive(kv);
                    case "--pod-size" -> productionPods = switch (kv[1]) {
                        case "small" -> false;
                        case "production" -> true;
                        default -> throw new IllegalArgumentException("--pod-size is small or production, not " + kv[1]);
                    };
                    case "--connections" -> connections = List.of(kv[1].split(",")).stream().map(Integer::parseInt).toList();
                    default -> throw new IllegalArgumentException("unknown flag " + kv[0]);
                }
            }
            return new Options(pods, duration, warmup == null ? duration : warmup, connections, Optional.ofNullable(agentLog),
                    Optional.ofNullable(diagnostics), backend, blocks, blockSeconds, afterReadySeconds, productionPods);
        }

        private static int positive(String[] kv) {
            int n = Integer.parseInt(kv[1]);
            if (n < 1) {
                throw new IllegalArgumentException(kv[0] + " is at least 1, not " + n);
            }
            return n;
        }
    }

    /**
     * What wrk's done() hook prints for one run (latencies in microseconds), and the agent's CPU time in that
     * run (clock ticks, -1 when not measured): CPU per request moves far less than req/s when other work
     * shares the machine.
     */
    record Load(long requests, double seconds, long non2xx, long socketErrors, long p50, long p99, long p999, long agentTicks) {
        double rate() {
            return requests / seconds;
        }

        Load withAgentTicks(long ticks) {
            return new Load(requests, seconds, non2xx, socketErrors, p50, p99, p999, ticks);
        }

        /** Two runs of the same kind as one: their requests over their time; the worse of each latency. */
        Load and(Load other) {
            return new Load(requests + other.requests, seconds + other.seconds, non2xx + other.non2xx, socketErrors + other.socketErrors,
                    Math.max(p50, other.p50), Math.max(p99, other.p99), Math.max(p999, other.p999),
                    agentTicks < 0 || other.agentTicks < 0 ? -1 : agentTicks + other.agentTicks);
        }

        /** The agent's CPU time per request in microseconds (user + system; ticks of 10 ms). */
        double cpuMicrosPerRequest() {
            return agentTicks * 10_000.0 / requests;
        }

        private static final Pattern LINE = Pattern.compile(
                "BENCH requests=(\\d+) duration_us=(\\d+) non2xx=(\\d+) errors=(\\d+) p50=(\\d+) p99=(\\d+) p999=(\\d+)");

        static Load parse(String output) {
            Matcher m = LINE.matcher(output);
            if (!m.find()) {
                throw new IllegalStateException("wrk printed no result:\n" + output);
            }
            return new Load(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)) / 1e6, Long.parseLong(m.group(3)),
                    Long.parseLong(m.group(4)), Long.parseLong(m.group(5)), Long.parseLong(m.group(6)), Long.parseLong(m.group(7)), -1);
        }
    }

    public static void main(String[] args) {
        try {
            if (List.of(args).contains("--api-outage")) {
                System.exit(ApiOutageBench.run(args) ? 0 : 1);
            }
            System.exit(run(Options.parse(args)) ? 0 : 1);
        } catch (Exception | AssertionError e) {
            System.out.println("bench FAILED: " + e);
            e.printStackTrace(System.out);
            System.exit(2);
        }
    }

    private static void say(String text) {
        System.out.println("==> " + text);
    }

    private static boolean run(Options options) throws Exception {
        say("building the sandbox with " + options.pods() + " pods in the fake API");
        try (Sandbox sandbox = Sandbox.start().closeOnExit()) {
            Path dir = Files.createTempDirectory("iamlet-bench-");
            try {
                return measure(sandbox, dir, options);
            } finally {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static boolean measure(Sandbox sandbox, Path dir, Options options) throws Exception {
        for (int n = 0; n < NAMESPACES; n++) {
            sandbox.namespace("bench-" + n, "bench-*");
        }
        List<String> backendFlags = options.backend().equals("ebpf") ? sandbox.enableEbpf() : List.of();
        SandboxPod client = sandbox.addPod(InterfaceStyle.CALI, "bench-0", "client", ROLE);
        for (int i = 1; i < options.pods(); i++) {
            String ns = "bench-" + (i % NAMESPACES);
            // Addresses outside the sandbox's pod routes: these pods exist only in the API, as on a full node.
            String ip = "10.250." + (i / 250) + "." + (i % 250 + 1);
            Pod pod = Pods.pod(ns, "pod-" + i, Sandbox.NODE_NAME, "Running", Map.of("iam.amazonaws.com/role", "bench-role-" + (i % ROLES)), ip);
            sandbox.api().client().pods().inNamespace(ns).resource(options.productionPods() ? ProductionPods.dress(pod) : pod).create();
        }

        // The fake API server's own share of the start: one LIST like the agent's informer sends (the second of two,
        // as a real API server is warm).
        for (int i = 0; i < 2; i++) {
            long listStarted = System.nanoTime();
            int listed = sandbox.api().client().pods().inAnyNamespace().withField("spec.nodeName", Sandbox.NODE_NAME).list().getItems().size();
            if (i == 1) {
                say("the fake API server lists the node's %d pods in %.0f ms (from this JVM, with parsing)".formatted(listed,
                        (System.nanoTime() - listStarted) / 1e6));
            }
        }
        say("starting the agent: bin/iamlet run (start → /readyz 200 timed from outside)");
        AtomicLong readyNanos = new AtomicLong();
        AtomicLong readyCpuTicks = new AtomicLong(-1);
        long started = System.nanoTime();
        Thread poller = Thread.ofPlatform().daemon().start(() -> pollReady(sandbox, started, readyNanos, readyCpuTicks));
        List<String> agentFlags = new ArrayList<>(List.of("--on-exit=remove"));
        agentFlags.addAll(backendFlags);
        AgentProcess agent = sandbox.startAgent(agentFlags.toArray(String[]::new));
        poller.join(Duration.ofSeconds(30));
        double startToReady = readyNanos.get() / 1e9;
        // Wall-clock times, to line up with the agent's log (--agent-log) and the JVM's -Xlog:startuptime.
        say("agent started at %s, /readyz 200 after %.3f s, load average %s".formatted(
                java.time.Instant.now().minusNanos(System.nanoTime() - started), startToReady, loadAverage()));

        RawHttp.Response credentials = credentials(sandbox, client);
        if (credentials.status() != 200) {
            throw new IllegalStateException("the pod did not get its credentials from iamlet: " + credentials);
        }
        Path script = reportScript(dir);
        String kernelUrl = "http://" + Sandbox.IMDS_IP + PATH;
        // The first seconds after ready, before any warm-up: the start-up prefetch still calls STS for the node's
        // pods and the JIT has seen no load yet. A pod that starts with the node meets this, not the steady state.
        List<Load> afterReady = new ArrayList<>();
        List<Integer> stsAfterReady = new ArrayList<>();
        for (int c : options.connections()) {
            if (options.afterReadySeconds() > 0) {
                say("wrk right after ready, " + c + " connection(s), " + options.afterReadySeconds() + " s (the start-up prefetch running)");
                afterReady.add(timed(agent, () -> wrk(sandbox, client, script, kernelUrl, c, options.afterReadySeconds())));
                stsAfterReady.add(sandbox.sts().assumeRoleCalls());
            }
        }
        boolean paired = options.backend().equals("ebpf");
        Process nginx = startNginx(sandbox, dir, credentials, paired);
        try {
            RawHttp.Response floor = RawHttp.get(client.ns(), FLOOR_IP, 80, PATH, Map.of());
            if (floor.status() != 200 || !floor.body().equals(credentials.body())) {
                throw new IllegalStateException("nginx does not serve iamlet's bytes: " + floor);
            }
            if (paired) {
                RawHttp.Response byAddress = RawHttp.get(client.ns(), ADDRESS_IP, 80, PATH, Map.of());
                if (byAddress.status() != 200 || !byAddress.body().equals(credentials.body())) {
                    throw new IllegalStateException("the agent named the client by its address with another answer: " + byAddress);
                }
            }
            String addressUrl = "http://" + ADDRESS_IP + PATH;
            say("warming both up: " + options.warmupSeconds() + " s each at 16 connections");
            wrk(sandbox, client, script, "http://" + FLOOR_IP + PATH, 16, options.warmupSeconds());
            wrk(sandbox, client, script, kernelUrl, 16, options.warmupSeconds());
            if (paired) {
                wrkOutsidePods(sandbox, client, script, addressUrl, 16, options.warmupSeconds());
            }
            // And at each other measured count: the JIT compiles for the load it has seen. Warmed at 16 connections
            // only, the socket and routing methods a request at 1 connection runs on its own were still C1 code and
            // C2 compiled them during the measured load (-Xlog:jit+compilation, 2026-12-03, docs/performance.md).
            int shortWarmup = Math.max(1, options.warmupSeconds() / 2);
            for (int c : options.connections()) {
                if (c != 16) {
                    say("warming both up: " + shortWarmup + " s each at " + c + " connection(s)");
                    wrk(sandbox, client, script, "http://" + FLOOR_IP + PATH, c, shortWarmup);
                    wrk(sandbox, client, script, kernelUrl, c, shortWarmup);
                    if (paired) {
                        wrkOutsidePods(sandbox, client, script, addressUrl, c, shortWarmup);
                    }
                }
            }

            // Warm means the agent has stopped calling STS for the pods it learnt of after start: the count must
            // hold still before the measured loads begin, or their calls would be counted as the load's.
            int stsBefore = settledStsCalls(sandbox);
            List<Load[]> loads = new ArrayList<>();
            List<Load[]> addressLoads = new ArrayList<>();
            int seconds = options.durationSeconds();
            for (int c : options.connections()) {
                Load floorLoad;
                Load iamletLoad;
                if (paired) {
                    // The two paths in ABBA blocks, so that a drift of the machine's other load within a block weighs
                    // on both alike; nginx runs as long as one path does in all.
                    int blockSeconds = options.blockSeconds();
                    say("wrk, " + c + " connection(s): nginx " + 2 * options.blocks() * blockSeconds + " s, then iamlet in "
                            + options.blocks() + " blocks of " + blockSeconds + " s loads: by address, by kernel identity, by kernel identity, by address");
                    floorLoad = wrk(sandbox, client, script, "http://" + FLOOR_IP + PATH, c, 2 * options.blocks() * blockSeconds);
                    List<Load> blocks = new ArrayList<>();
                    for (int b = 0; b < options.blocks(); b++) {
                        blocks.add(timed(agent, () -> wrkOutsidePods(sandbox, client, script, addressUrl, c, blockSeconds)));
                        blocks.add(timed(agent, () -> wrk(sandbox, client, script, kernelUrl, c, blockSeconds)));
                        blocks.add(timed(agent, () -> wrk(sandbox, client, script, kernelUrl, c, blockSeconds)));
                        blocks.add(timed(agent, () -> wrkOutsidePods(sandbox, client, script, addressUrl, c, blockSeconds)));
                    }
                    Load[] abba = blocks.toArray(Load[]::new);
                    iamletLoad = kernelPart(abba);
                    addressLoads.add(abba);
                } else {
                    say("wrk, " + c + " connection(s), " + seconds + " s: nginx, then iamlet");
                    floorLoad = timed(nginx.toHandle(), () -> wrk(sandbox, client, script, "http://" + FLOOR_IP + PATH, c, seconds));
                    iamletLoad = timed(agent, () -> wrk(sandbox, client, script, kernelUrl, c, seconds));
                }
                loads.add(new Load[] {floorLoad, iamletLoad});
            }
            int stsDuringLoad = sandbox.sts().assumeRoleCalls() - stsBefore;
            long rssKib = rssKib(agent.pid());
            Map<String, Long> rssParts = rssParts(agent.pid());
            // Idle for a while: what the JVM gives back (malloc trimming, compiler arenas) once the load is over.
            Thread.sleep(10_000);
            Map<String, Long> rssIdle = rssParts(agent.pid());
            if (options.diagnostics().isPresent()) {
                saveDiagnostics(agent.pid(), options.diagnostics().get());
            }
            int indexed = podsAtSync(agent.log());
            agent.stop();
            String log = agent.log();
            if (options.agentLog().isPresent()) {
                Files.writeString(options.agentLog().get(), log);
            }

            List<String> problems = new ArrayList<>();
            StringBuilder table = new StringBuilder();
            table.append("iamlet benchmark, %s, %d cores, %s, load average %s, %d pods in the API (%d indexed at sync, %s), %d s per load, wrk -t1, --backend=%s%n"
                    .formatted(java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC).withNano(0), Runtime.getRuntime().availableProcessors(),
                    cpuModel(), loadAverage(), options.pods(), indexed, options.productionPods() ? "production-sized pods" : "small pods",
                    options.durationSeconds(), options.backend()));
            table.append("| | nginx (floor) | iamlet | iamlet / nginx |\n|---|---|---|---|\n");
            for (int i = 0; i < loads.size(); i++) {
                int c = options.connections().get(i);
                Load f = loads.get(i)[0];
                Load a = loads.get(i)[1];
                table.append("| %d connection%s | %s | %s | %.2f×%s |%n".formatted(c, c == 1 ? "" : "s", cell(f), cell(a), a.rate() / f.rate(),
                        f.agentTicks() < 0 || a.agentTicks() < 0 ? "" : ", CPU per request %.2f×".formatted(a.cpuMicrosPerRequest() / f.cpuMicrosPerRequest())));
                List<Load> checked = new ArrayList<>(List.of(f, a));
                if (paired) {
                    checked.addAll(List.of(addressLoads.get(i)));
                }
                for (Load l : checked) {
                    if (l.non2xx() > 0 || l.socketErrors() > 0) {
                        problems.add("%s at %d connections: %d answers not 2xx, %d socket errors".formatted(l == f ? "nginx" : "iamlet", c,
                                l.non2xx(), l.socketErrors()));
                    }
                }
            }
            for (int i = 0; i < afterReady.size(); i++) {
                int c = options.connections().get(i);
                Load a = afterReady.get(i);
                table.append("| %d connection%s, the first %d s after ready (%d STS calls made by its end) | | %s | %.2f× |%n".formatted(c,
                        c == 1 ? "" : "s", options.afterReadySeconds(), stsAfterReady.get(i), cell(a), a.rate() / loads.get(i)[0].rate()));
                if (a.non2xx() > 0 || a.socketErrors() > 0) {
                    problems.add("iamlet right after ready at %d connections: %d answers not 2xx, %d socket errors".formatted(c, a.non2xx(),
                            a.socketErrors()));
                }
            }
            StringBuilder pairs = new StringBuilder();
            if (paired) {
                pairs.append(("\nThe same agent, kernel identity against the address-only path (wrk outside the pods' cgroup, through a DNAT"
                        + " rule), in %d ABBA blocks (address, kernel, kernel, address) of %d s loads; agent CPU per request from /proc\n")
                        .formatted(options.blocks(), options.blockSeconds()));
                pairs.append("| | by address (all blocks) | kernel identity (all blocks) | kernel / address: req/s over all blocks, CPU per request"
                        + " | kernel / address req/s: median of the blocks (lowest, highest) |\n|---|---|---|---|---|\n");
                for (int i = 0; i < addressLoads.size(); i++) {
                    int c = options.connections().get(i);
                    Load[] abba = addressLoads.get(i);
                    Load address = addressPart(abba);
                    Load kernel = kernelPart(abba);
                    double[] ratios = blockRatios(abba);
                    pairs.append("| %d connection%s | %s | %s | %.3f×, %.3f× | %.3f× (%.3f×, %.3f×) |%n".formatted(c, c == 1 ? "" : "s",
                            cell(address), cell(kernel), kernel.rate() / address.rate(),
                            kernel.cpuMicrosPerRequest() / address.cpuMicrosPerRequest(), median(ratios), ratios[0], ratios[ratios.length - 1]));
                }
            }
            table.append("| process start → /readyz 200 (CPU time used by then) | | %.2f s (%.2f s) | |%n".formatted(startToReady,
                    readyCpuTicks.get() / 100.0));
            table.append("| RSS after the load (anonymous / file-backed) | | %.0f MiB (%.0f / %.0f) | |%n".formatted(rssKib / 1024.0,
                    rssParts.getOrDefault("Rss_Anon", 0L) / 1024.0, rssParts.getOrDefault("Rss_File", 0L) / 1024.0));
            table.append("| RSS 10 s after the load (anonymous / file-backed) | | %.0f MiB (%.0f / %.0f) | |%n".formatted(
                    (rssIdle.getOrDefault("Rss_Anon", 0L) + rssIdle.getOrDefault("Rss_File", 0L) + rssIdle.getOrDefault("Rss_Shmem", 0L)) / 1024.0,
                    rssIdle.getOrDefault("Rss_Anon", 0L) / 1024.0, rssIdle.getOrDefault("Rss_File", 0L) / 1024.0));
            table.append("| STS calls from start to the load / during the load | | %d / %d | |%n".formatted(stsBefore, stsDuringLoad));
            table.append("| rule install / remove (one transaction, in process) | | %s ms / %s ms | |%n".formatted(
                    durationField(log, "metadata redirect installed").orElse("?"), durationField(log, "metadata redirect removed").orElse("?")));
            if (stsDuringLoad != 0) {
                problems.add(stsDuringLoad + " STS calls during the load: the cache was warm, there should be none");
            }
            System.out.println();
            System.out.print(table);
            System.out.println("(latencies p50 / p99 / p999 in ms; req/s over the whole run)");
            System.out.print(pairs);
            System.out.println();
            problems.forEach(p -> System.out.println("bench FAILED: " + p));
            if (problems.isEmpty()) {
                System.out.println("bench OK: every answer 2xx, no STS call during the load");
            }
            return problems.isEmpty();
        } finally {
            nginx.destroy();
            nginx.waitFor();
        }
    }

    /** wrk's done() hook that prints the line {@link Load#parse} reads (every request in the latency histogram). */
    static Path reportScript(Path dir) throws IOException {
        Path script = dir.resolve("report.lua");
        Files.writeString(script, """
                done = function(summary, latency, requests)
                  local e = summary.errors
                  io.write(string.format("BENCH requests=%d duration_us=%d non2xx=%d errors=%d p50=%d p99=%d p999=%d\\n",
                    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
                    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
                end
                """);
        return script;
    }

    /** The address-only loads of ABBA blocks (each block's first and last) as one. */
    static Load addressPart(Load[] abba) {
        return part(abba, 0, 3);
    }

    /** The kernel-identity loads of ABBA blocks (each block's two middle ones) as one. */
    static Load kernelPart(Load[] abba) {
        return part(abba, 1, 2);
    }

    private static Load part(Load[] abba, int first, int second) {
        Load all = null;
        for (int b = 0; b + 3 < abba.length; b += 4) {
            Load block = abba[b + first].and(abba[b + second]);
            all = all == null ? block : all.and(block);
        }
        return all;
    }

    /** Each ABBA block's kernel / address req/s, sorted. */
    static double[] blockRatios(Load[] abba) {
        double[] ratios = new double[abba.length / 4];
        for (int b = 0; b < ratios.length; b++) {
            Load[] block = java.util.Arrays.copyOfRange(abba, 4 * b, 4 * b + 4);
            ratios[b] = kernelPart(block).rate() / addressPart(block).rate();
        }
        java.util.Arrays.sort(ratios);
        return ratios;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static int settledStsCalls(Sandbox sandbox) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        int calls = sandbox.sts().assumeRoleCalls();
        while (System.nanoTime() < deadline) {
            Thread.sleep(2000);
            int now = sandbox.sts().assumeRoleCalls();
            if (now == calls) {
                return now;
            }
            calls = now;
        }
        return calls;
    }

    private static String cell(Load l) {
        return "%.0f req/s, %.2f / %.2f / %.2f ms".formatted(l.rate(), l.p50() / 1e3, l.p99() / 1e3, l.p999() / 1e3)
                + (l.agentTicks() < 0 ? "" : ", %.1f µs CPU".formatted(l.cpuMicrosPerRequest()));
    }

    /**
     * One load, with the CPU time over it of a process and its descendants: nginx's, master and workers, so that
     * the floor has a CPU time per request to set the agent's against.
     */
    private static Load timed(ProcessHandle root, java.util.function.Supplier<Load> load) {
        long before = treeCpuTicks(root);
        Load l = load.get();
        long after = treeCpuTicks(root);
        return l.withAgentTicks(before < 0 || after < 0 ? -1 : after - before);
    }

    private static long treeCpuTicks(ProcessHandle root) {
        long sum = cpuTicks(root.pid());
        for (ProcessHandle p : root.descendants().toList()) {
            long t = cpuTicks(p.pid());
            sum = sum < 0 || t < 0 ? -1 : sum + t;
        }
        return sum;
    }

    /** One load, with the agent's CPU time over it. */
    private static Load timed(AgentProcess agent, java.util.function.Supplier<Load> load) {
        long before = cpuTicks(agent.pid());
        Load l = load.get();
        long after = cpuTicks(agent.pid());
        return l.withAgentTicks(before < 0 || after < 0 ? -1 : after - before);
    }

    /** CPU time (user + system, in clock ticks) the process has used so far; -1 when it cannot be read. */
    private static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * CPU time (user + system, in clock ticks) the agent's JVM has used so far; -1 when it cannot be found.
     * Unlike the wall-clock start, this barely moves with what else runs on the machine.
     */
    private static long agentCpuTicks() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().map(c -> c.contains("iamlet.jar")).orElse(false))
                .findFirst()
                .map(p -> cpuTicks(p.pid())).orElse(-1L);
    }

    private static void pollReady(Sandbox sandbox, long started, AtomicLong readyNanos, AtomicLong readyCpuTicks) {
        long deadline = started + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (RawHttp.get(sandbox.node(), Sandbox.HOST_IP, MANAGEMENT_PORT, "/readyz", Map.of()).status() == 200) {
                    readyNanos.set(System.nanoTime() - started);
                    readyCpuTicks.set(agentCpuTicks());
                    return;
                }
            } catch (ConnectException notListeningYet) {
                // the JVM is still starting
            } catch (Exception e) {
                throw new IllegalStateException("asking /readyz: " + e, e);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** nginx in the node, on the host IP, serving the credential document; the pod reaches it by its own DNAT rule. */
    private static Process startNginx(Sandbox sandbox, Path dir, RawHttp.Response credentials, boolean addressPath) throws IOException {
        Path root = dir.resolve("www");
        Path file = root.resolve(PATH.substring(1));
        Files.createDirectories(file.getParent());
        Files.write(file, credentials.body().getBytes(StandardCharsets.UTF_8));
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, """
                worker_processes auto;
                pid %1$s/nginx.pid;
                error_log %1$s/nginx-error.log;
                events { worker_connections 1024; }
                http {
                  access_log off;
                  client_body_temp_path %1$s; proxy_temp_path %1$s; fastcgi_temp_path %1$s; uwsgi_temp_path %1$s; scgi_temp_path %1$s;
                  server {
                    listen %2$s:%3$d;
                    root %4$s;
                    default_type "%5$s";
                  }
                }
                """.formatted(dir, Sandbox.HOST_IP, FLOOR_PORT, root, Optional.ofNullable(credentials.header("content-type"))
                .orElse("application/json")));
        sandbox.node().exec("nft", "add", "table", "ip", "iamlet_bench").ok();
        sandbox.node().exec("nft", "add", "chain", "ip", "iamlet_bench", "prerouting", "{ type nat hook prerouting priority dstnat ; }").ok();
        sandbox.node().exec("nft", "add", "rule", "ip", "iamlet_bench", "prerouting", "iifname", "cali*", "ip", "daddr", FLOOR_IP,
                "tcp", "dport", "80", "dnat", "to", Sandbox.HOST_IP + ":" + FLOOR_PORT).ok();
        if (addressPath) {
            sandbox.node().exec("nft", "add", "rule", "ip", "iamlet_bench", "prerouting", "iifname", "cali*", "ip", "daddr", ADDRESS_IP,
                    "tcp", "dport", "80", "dnat", "to", Sandbox.HOST_IP + ":" + APP_PORT).ok();
        }
        Process nginx = new ProcessBuilder("ip", "netns", "exec", sandbox.node().name(), "nginx", "-c", conf.toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                RawHttp.get(sandbox.node(), Sandbox.HOST_IP, FLOOR_PORT, PATH, Map.of());
                return nginx;
            } catch (Exception e) {
                if (!nginx.isAlive() || System.nanoTime() > deadline) {
                    nginx.destroy();
                    throw new IllegalStateException("nginx did not start: " + Files.readString(dir.resolve("nginx.out")), e);
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    /** The client pod's credential document from iamlet, fetched as wrk will ask for it (curl in the pod, its cgroup included). */
    private static RawHttp.Response credentials(Sandbox sandbox, SandboxPod client) {
        Command.Result r = Command.run(Duration.ofSeconds(30), sandbox.inPod(client, List.of("curl", "-sS", "--max-time", "10",
                "-w", "\n%{http_code} %{content_type}", "http://" + Sandbox.IMDS_IP + PATH)));
        String out = r.ok().stdout();
        int last = out.lastIndexOf('\n');
        String[] statusAndType = out.substring(last + 1).split(" ", 2);
        return new RawHttp.Response(Integer.parseInt(statusAndType[0]), Map.of("content-type", statusAndType.length > 1 ? statusAndType[1] : ""),
                out.substring(0, last));
    }

    private static Load wrk(Sandbox sandbox, SandboxPod client, Path script, String url, int connections, int seconds) {
        return wrk(sandbox.inPod(client, wrkCommand(script, url, connections, seconds)), seconds);
    }

    /** wrk in the client's network namespace, but in the bench's own cgroup: outside the pods' cgroup. */
    private static Load wrkOutsidePods(Sandbox sandbox, SandboxPod client, Path script, String url, int connections, int seconds) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", client.ns().name()));
        command.addAll(wrkCommand(script, url, connections, seconds));
        return wrk(command, seconds);
    }

    private static List<String> wrkCommand(Path script, String url, int connections, int seconds) {
        return List.of("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "5s", "-s", script.toString(), url);
    }

    private static Load wrk(List<String> command, int seconds) {
        Command.Result r = Command.run(Duration.ofSeconds(seconds + 60), command);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("wrk failed: " + r.output());
        }
        return Load.parse(r.stdout());
    }

    /** The 1-minute load average: the wall-clock figures mean little when it is above the core count. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for process " + pid);
    }

    /**
     * The RSS by kind: anonymous (heap, metaspace, malloc) is the process's own; file-backed pages (the jar,
     * libjvm, the mapped AOT cache) are page cache the kernel can drop and re-read, shared with every process
     * mapping the same file. A container's memory limit counts both.
     */
    static Map<String, Long> rssParts(long pid) throws IOException {
        Map<String, Long> parts = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
            Matcher m = Pattern.compile("^(Rss|Pss_Anon|Pss_File|Pss_Shmem|Anonymous|Private_Dirty|Shared_Clean|Private_Clean):\\s+(\\d+) kB").matcher(line);
            if (m.find()) {
                parts.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        // smaps_rollup has no Rss_Anon line: status does (RssAnon, RssFile, RssShmem).
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            Matcher m = Pattern.compile("^Rss(Anon|File|Shmem):\\s+(\\d+) kB").matcher(line);
            if (m.find()) {
                parts.put("Rss_" + m.group(1), Long.parseLong(m.group(2)));
            }
        }
        return parts;
    }

    /** What the JVM says of its memory after the load, for docs/performance.md: NMT (when enabled), heap, classes. */
    private static void saveDiagnostics(long pid, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("smaps_rollup"), Files.readString(Path.of("/proc/" + pid + "/smaps_rollup"))
                + Files.readString(Path.of("/proc/" + pid + "/status")));
        Files.writeString(dir.resolve("smaps"), Files.readString(Path.of("/proc/" + pid + "/smaps")));
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        for (String[] c : List.of(new String[] {"VM.native_memory", "summary"}, new String[] {"GC.heap_info"},
                new String[] {"GC.class_histogram"}, new String[] {"VM.metaspace"}, new String[] {"Compiler.codecache"})) {
            List<String> command = new ArrayList<>(List.of(jcmd, Long.toString(pid)));
            command.addAll(List.of(c));
            Command.Result r = Command.run(Duration.ofSeconds(60), command);
            Files.writeString(dir.resolve(c[0] + ".txt"), r.stdout() + r.stderr());
        }
    }

    private static int podsAtSync(String log) {
        Matcher m = Pattern.compile("\"msg\":\"pods and namespaces synced\"[^\\n]*\"pods\":(\\d+)").matcher(log);
        Matcher reversed = Pattern.compile("\"pods\":(\\d+)[^\\n]*\"msg\":\"pods and namespaces synced\"").matcher(log);
        return m.find() ? Integer.parseInt(m.group(1)) : reversed.find() ? Integer.parseInt(reversed.group(1)) : -1;
    }

    /** The "duration.ms" field of the agent's log line whose message starts with the given text. */
    static Optional<String> durationField(String log, String message) {
        return log.lines().filter(l -> l.contains("\"msg\":\"" + message)).findFirst().flatMap(l -> {
            Matcher m = Pattern.compile("\"duration\\.ms\":\"?([0-9.]+)").matcher(l);
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        });
    }

    private static String cpuModel() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown CPU");
    }
}
