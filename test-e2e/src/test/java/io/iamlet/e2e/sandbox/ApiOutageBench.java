package io.iamlet.e2e.sandbox;

import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import io.iamlet.netlink.testing.Command;

import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code bin/bench --api-outage}: the API server's bad day. The real agent serves a node of N pods (in the fake
 * API) of which K are real pods in the sandbox, each with its own role; when they are warm, the fake API server
 * drops every watch and refuses new ones, and each real pod asks for its credentials with wrk (C connections
 * each) for D seconds while one real pod that the API does not know asks too. Every other real pod sends an
 * IMDSv2 token (taken once, as the SDKs do), the rest none (IMDSv1): the latency is reported for both kinds. Reports the requests, their
 * latency, the API reads they cost (per second, and the most in any one second), what the unknown pod got, and
 * how long the agent took to be current again once the watches were allowed back.
 * <p>
 * Exits 1 when a count is wrong: an answer that is not 2xx (wrk asks for each pod's own role, so another pod's
 * role would be a 403), a role listing that names another role, an unknown pod answered with anything but 404 (a
 * list of the node's pods, kept ≤ 1 s, does not have it) or 503 with Retry-After (no read left in the budget), or more API reads in one second than {@code --max-reads-per-second} (10). Timings are
 * reported, not asserted.
 * <p>
 * With {@code --backend=ebpf} the agent names each caller by its cgroup (kernel identity): every real pod's
 * processes (wrk, and curl for its token and role listing) run in a container cgroup named as a kubelet names
 * it, and the unknown pod in one whose pod uid the API server does not know (so it gets 403 once a list of the
 * node's pods lacks that uid, or 503 with Retry-After). A known pod named by the kernel and connecting from its
 * own address needs no API read, so with ebpf a GET of a real pod during the outage is also a wrong count.
 * The table counts the real pods' GETs (their lookups' reads) apart from the lists (relists, the unknown pod).
 * <p>
 * {@code Bench --api-outage [--backend=nftables|ebpf] [--pods=N] [--real-pods=K (8)] [--connections=C] [--duration=SECONDS] [--max-reads-per-second=R]
 * [--agent-flag=FLAG]... [--agent-log=FILE]} (with --agent-log, FILE.api-reads lists the outage's API reads: arrival, the
 * server's own time in ms, path)
 */
final class ApiOutageBench {
    private static final int MANAGEMENT_PORT = 8182;
    /**
     * Threads of its own for the wrk runs and the unknown pod's loop: on 2 cores the common pool has one thread,
     * which a loop would hold while the runs (and Command's stream readers, which use that pool) wait behind it.
     */
    private static final java.util.concurrent.ExecutorService THREADS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "outage-bench");
        t.setDaemon(true);
        return t;
    });

    private ApiOutageBench() {
    }

    record Options(int pods, int realPods, int connections, int durationSeconds, int maxReadsPerSecond, List<String> agentFlags,
                   java.util.Optional<Path> agentLog, String backend) {
        boolean ebpf() {
            return backend.equals("ebpf");
        }

        static Options parse(String[] args) {
            int pods = 110;
            int realPods = 8;
            int connections = 2;
            int duration = 10;
            int maxReads = 10;
            List<String> agentFlags = new ArrayList<>();
            java.util.Optional<Path> agentLog = java.util.Optional.empty();
            String backend = "nftables";
            for (String a : args) {
                if (a.equals("--api-outage")) {
                    continue;
                }
                String[] kv = a.split("=", 2);
                if (kv.length != 2) {
                    throw new IllegalArgumentException("unknown argument " + a);
                }
                switch (kv[0]) {
                    case "--pods" -> pods = Integer.parseInt(kv[1]);
                    case "--real-pods" -> realPods = Integer.parseInt(kv[1]);
                    case "--connections" -> connections = Integer.parseInt(kv[1]);
                    case "--duration" -> duration = Integer.parseInt(kv[1]);
                    case "--max-reads-per-second" -> maxReads = Integer.parseInt(kv[1]);
                    case "--agent-flag" -> agentFlags.add(kv[1]);
                    case "--agent-log" -> agentLog = java.util.Optional.of(Path.of(kv[1]));
                    case "--backend" -> backend = switch (kv[1]) {
                        case "nftables", "ebpf" -> kv[1];
                        default -> throw new IllegalArgumentException("--backend is nftables or ebpf, not " + kv[1]);
                    };
                    default -> throw new IllegalArgumentException("unknown flag " + kv[0] + " (with --api-outage)");
                }
            }
            if (realPods < 1 || pods < realPods) {
                throw new IllegalArgumentException("--real-pods must be 1 or more and at most --pods");
            }
            return new Options(pods, realPods, connections, duration, maxReads, List.copyOf(agentFlags), agentLog, backend);
        }
    }

    private static void say(String text) {
        System.out.println("==> " + text);
    }

    static boolean run(String[] args) throws Exception {
        Options options = Options.parse(args);
        say("building the sandbox: " + options.pods() + " pods in the fake API, " + options.realPods() + " of them real");
        try (Sandbox sandbox = Sandbox.start().closeOnExit()) {
            Path dir = Files.createTempDirectory("iamlet-outage-");
            try {
                return measure(sandbox, dir, options);
            } finally {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static String role(int i) {
        return "outage-role-" + i;
    }

    private static boolean measure(Sandbox sandbox, Path dir, Options options) throws Exception {
        sandbox.namespace("outage", "outage-*");
        // With eBPF, before the pods: each Pod object created from now on gets its container cgroup.
        List<String> backendFlags = options.ebpf() ? sandbox.enableEbpf() : List.of();
        List<SandboxPod> real = new ArrayList<>();
        for (int i = 0; i < options.realPods(); i++) {
            real.add(sandbox.addPod(InterfaceStyle.CALI, "outage", "real-" + i, role(i)));
        }
        for (int i = options.realPods(); i < options.pods(); i++) {
            String ip = "10.250." + (i / 250) + "." + (i % 250 + 1);
            sandbox.api().client().pods().inNamespace("outage").resource(Pods.pod("outage", "pod-" + i, Sandbox.NODE_NAME, "Running",
                    Map.of("iam.amazonaws.com/role", role(i)), ip)).create();
        }
        SandboxPod stranger = sandbox.plugPod(InterfaceStyle.CALI); // a pod the API does not know
        // With eBPF, its processes run in a container cgroup named for a pod uid that the API server does not have.
        java.util.Optional<Path> strangerCgroup = options.ebpf()
                ? java.util.Optional.of(sandbox.makeContainerCgroup(java.util.UUID.randomUUID().toString(), "besteffort"))
                : java.util.Optional.empty();

        List<String> flags = new ArrayList<>(List.of("--on-exit=remove"));
        flags.addAll(backendFlags);
        flags.addAll(options.agentFlags());
        AgentProcess agent = sandbox.startAgent(flags.toArray(String[]::new));
        awaitReady(sandbox, true, Duration.ofSeconds(60));
        List<java.util.Optional<String>> tokens = tokens(sandbox, real);
        Path script = Bench.reportScript(dir);
        say("warming up: 2 s of load from each real pod with the watches running");
        load(sandbox, real, tokens, script, options.connections(), 2);
        MockApiServer api = sandbox.api();
        long steadyFrom = System.nanoTime();
        List<Bench.Load> steady = load(sandbox, real, tokens, script, options.connections(), 3);
        List<MockApiServer.Request> steadyReadList = reads(api, steadyFrom, System.nanoTime());
        long steadyReads = steadyReadList.size();

        say("the API server drops every watch and refuses new ones");
        api.refuseWatches(true);
        api.dropWatches();
        long outageStarted = System.nanoTime();
        awaitReady(sandbox, false, Duration.ofSeconds(30));
        double noticed = (System.nanoTime() - outageStarted) / 1e9;
        say("the agent reported not ready %.2f s later; %d s of load from %d pods × %d connections, and the unknown pod asking".formatted(
                noticed, options.durationSeconds(), real.size(), options.connections()));

        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicInteger strangerAsked = new AtomicInteger();
        AtomicInteger strangerRefusedWell = new AtomicInteger();
        List<String> strangerWrong = new java.util.concurrent.CopyOnWriteArrayList<>();
        Path asking = Files.createFile(dir.resolve("stranger-asking"));
        CompletableFuture<Void> strangerLoop = strangerCgroup.isPresent()
                ? CompletableFuture.runAsync(() -> askInCgroup(stranger, strangerCgroup.get(), asking, strangerAsked, strangerRefusedWell, strangerWrong), THREADS)
                : CompletableFuture.runAsync(() -> {
            while (loading.get()) {
                try {
                    RawHttp.Response r = RawHttp.get(stranger.ns(), Sandbox.IMDS_IP, 80, "/latest/meta-data/iam/security-credentials/", Map.of());
                    strangerAsked.incrementAndGet();
                    if (r.status() == 503 && "1".equals(r.header("retry-after"))) {
                        strangerRefusedWell.incrementAndGet();
                    } else if (r.status() != 404) { // 404: a list of the node's pods (kept ≤ 1 s) has no pod with its address
                        strangerWrong.add(r.status() + " " + r.body());
                    }
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    strangerWrong.add(e.toString());
                }
            }
        }, THREADS);
        long loadFrom = System.nanoTime();
        List<Bench.Load> outage;
        try {
            outage = load(sandbox, real, tokens, script, options.connections(), options.durationSeconds());
        } finally {
            loading.set(false);
            Files.deleteIfExists(asking);
        }
        long loadTo = System.nanoTime();
        strangerLoop.join();
        List<MockApiServer.Request> outageReads = reads(api, loadFrom, loadTo);
        List<String> wrongRoles = listings(sandbox, real);

        say("the API server takes watches again");
        api.refuseWatches(false);
        long back = System.nanoTime();
        awaitReady(sandbox, true, Duration.ofSeconds(60));
        double recovery = (System.nanoTime() - back) / 1e9;
        long afterFrom = System.nanoTime();
        List<Bench.Load> after = load(sandbox, real, tokens, script, options.connections(), 3);
        List<MockApiServer.Request> afterReadList = reads(api, afterFrom, System.nanoTime());
        long afterReads = afterReadList.size();
        agent.stop();
        if (options.agentLog().isPresent()) {
            Files.writeString(options.agentLog().get(), agent.log());
            // Each API read of the outage as the fake API server saw it, on the agent log's clock: when it arrived
            // and how long the server took to build its answer, to set beside the answers that waited for it.
            long wallMinusNanos = java.time.Instant.now().toEpochMilli() * 1_000_000L - System.nanoTime();
            StringBuilder lines = new StringBuilder();
            for (MockApiServer.Request r : outageReads) {
                long wall = r.nanos() + wallMinusNanos;
                lines.append("%s %.3f %s%n".formatted(java.time.Instant.ofEpochSecond(wall / 1_000_000_000L, wall % 1_000_000_000L),
                        r.dispatchNanos() / 1e6, r.path()));
            }
            Files.writeString(Path.of(options.agentLog().get() + ".api-reads"), lines);
        }

        long requests = outage.stream().mapToLong(Bench.Load::requests).sum();
        double seconds = (loadTo - loadFrom) / 1e9;
        long gets = outageReads.stream().filter(r -> r.path().split("\\?")[0].matches(".*/namespaces/[^/]+/pods/[^/]+")).count();
        long lists = outageReads.size() - gets;
        int worstSecond = worstWindow(outageReads, 1_000_000_000L);
        long non2xx = outage.stream().mapToLong(l -> l.non2xx() + l.socketErrors()).sum();

        List<String> problems = new ArrayList<>();
        if (non2xx > 0) {
            problems.add(non2xx + " answers during the outage were not 2xx or failed (a pod not given its own role)");
        }
        if (!wrongRoles.isEmpty()) {
            problems.add("role listings during the outage named another role: " + wrongRoles);
        }
        if (!strangerWrong.isEmpty() || strangerAsked.get() == 0) {
            problems.add("the unknown pod got " + strangerWrong + " (" + strangerRefusedWell + " of " + strangerAsked + " were 503 with Retry-After)");
        }
        long[] outageRealGets = realPodGets(outageReads, tokens);
        if (options.ebpf() && outageRealGets[0] + outageRealGets[1] > 0) {
            problems.add("with kernel identity a known pod at its own address needs no API read, yet the real pods' lookups cost "
                    + outageRealGets[0] + " GETs (IMDSv1 pods) and " + outageRealGets[1] + " (IMDSv2 pods) during the outage");
        }
        if (worstSecond > options.maxReadsPerSecond()) {
            problems.add(worstSecond + " API reads within one second: more than " + options.maxReadsPerSecond());
        }
        for (List<Bench.Load> phase : List.of(steady, after)) {
            if (phase.stream().anyMatch(l -> l.non2xx() + l.socketErrors() > 0)) {
                problems.add("answers that were not 2xx with the watches running: " + phase);
            }
        }

        StringBuilder table = new StringBuilder();
        table.append("iamlet API outage benchmark, backend %s, %s, %d cores, load average %s, %d pods in the API, %d real × %d connections, %d s%n".formatted(
                options.ebpf() ? "ebpf (callers named by their cgroup)" : "nftables (callers named by their address)",
                java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC).withNano(0), Runtime.getRuntime().availableProcessors(),
                Bench.loadAverage(), options.pods(), real.size(), options.connections(), options.durationSeconds()));
        table.append("| | watches running (3 s) | watches refused (%d s) | watches back (3 s) |%n|---|---|---|---|%n".formatted(options.durationSeconds()));
        table.append("| requests (req/s) | %s | %s | %s |%n".formatted(rate(steady), rate(outage), rate(after)));
        table.append("| latency p50 / p99 / p999, worst pod | %s | %s | %s |%n".formatted(latency(steady), latency(outage), latency(after)));
        for (boolean v2 : List.of(true, false)) {
            if (tokens.stream().anyMatch(t -> t.isPresent() == v2)) {
                table.append("| %s | %s | %s | %s |%n".formatted(v2 ? "… of the IMDSv2 pods (a token, as the SDKs send)" : "… of the IMDSv1 pods (no token)",
                        latency(only(steady, tokens, v2)), latency(only(outage, tokens, v2)), latency(only(after, tokens, v2))));
            }
        }
        table.append("| answers not 2xx | %d | %d | %d |%n".formatted(bad(steady), bad(outage), bad(after)));
        table.append("| API reads (GET one pod / list) | %d | %d (%d / %d) | %d |%n".formatted(steadyReads, outageReads.size(), gets, lists, afterReads));
        long[] steadyRealGets = realPodGets(steadyReadList, tokens);
        long[] afterRealGets = realPodGets(afterReadList, tokens);
        for (boolean v2 : List.of(true, false)) {
            int k = v2 ? 1 : 0;
            if (tokens.stream().anyMatch(t -> t.isPresent() == v2)) {
                table.append("| %s: requests / GETs of those pods (their lookups' API reads) | %d / %d | %d / %d | %d / %d |%n".formatted(
                        v2 ? "… of the IMDSv2 pods" : "… of the IMDSv1 pods", requests(only(steady, tokens, v2)), steadyRealGets[k],
                        requests(only(outage, tokens, v2)), outageRealGets[k], requests(only(after, tokens, v2)), afterRealGets[k]));
            }
        }
        table.append("| API reads per second: mean / most in any one second | | %.1f / %d | |%n".formatted(outageReads.size() / seconds, worstSecond));
        table.append("| the fake API server's own time per read (dispatch to answer built), ms: median / max | | %s | |%n".formatted(serverTimes(outageReads)));
        table.append("| unknown pod: requests / 503 with Retry-After (the others %s) | | %d / %d | |%n".formatted(options.ebpf() ? "403" : "404",
                strangerAsked.get(), strangerRefusedWell.get()));
        table.append("| agent not ready after the watches dropped / ready after they were allowed again | | %.2f s / %.2f s | |%n".formatted(
                noticed, recovery));
        System.out.println();
        System.out.print(table);
        System.out.println("(latencies in ms; API reads: the fake API server's GETs of pods that are not watches, the informer's relists included)");
        System.out.println();
        problems.forEach(p -> System.out.println("bench FAILED: " + p));
        if (problems.isEmpty()) {
            System.out.println("bench OK: every pod its own role, the unknown pod given no role, at most " + worstSecond
                    + " API reads in any second");
        }
        return problems.isEmpty();
    }

    /**
     * An IMDSv2 token for every other real pod (the first, the third, ...), taken once while the watches run and
     * sent with every request, as the SDKs do (they cache a token for its TTL, 6 h in the Java SDK v2); the
     * others ask without one (IMDSv1), so the table can show both kinds of client.
     */
    private static List<java.util.Optional<String>> tokens(Sandbox sandbox, List<SandboxPod> pods) throws Exception {
        List<java.util.Optional<String>> tokens = new ArrayList<>();
        for (int i = 0; i < pods.size(); i++) {
            if (i % 2 == 1) {
                tokens.add(java.util.Optional.empty());
                continue;
            }
            RawHttp.Response r = ask(sandbox, pods.get(i), "PUT", "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "21600"));
            if (r.status() != 200) {
                throw new IllegalStateException("real-" + i + " got no IMDSv2 token: " + r.status() + " " + r.body());
            }
            tokens.add(java.util.Optional.of(r.body().strip()));
        }
        return tokens;
    }

    private static List<Bench.Load> only(List<Bench.Load> loads, List<java.util.Optional<String>> tokens, boolean v2) {
        List<Bench.Load> kept = new ArrayList<>();
        for (int i = 0; i < loads.size(); i++) {
            if (tokens.get(i).isPresent() == v2) {
                kept.add(loads.get(i));
            }
        }
        return kept;
    }

    private static String serverTimes(List<MockApiServer.Request> reads) {
        long[] micros = reads.stream().mapToLong(r -> r.dispatchNanos() / 1000).sorted().toArray();
        return micros.length == 0 ? "-" : "%.2f / %.2f".formatted(micros[micros.length / 2] / 1e3, micros[micros.length - 1] / 1e3);
    }

    /** wrk from every real pod at once (in its cgroup, with eBPF), each asking for its own role's credentials (with its token, if it has one). */
    private static List<Bench.Load> load(Sandbox sandbox, List<SandboxPod> pods, List<java.util.Optional<String>> tokens, Path script,
                                         int connections, int seconds) {
        List<CompletableFuture<Bench.Load>> runs = new ArrayList<>();
        for (int i = 0; i < pods.size(); i++) {
            SandboxPod pod = pods.get(i);
            String url = "http://" + Sandbox.IMDS_IP + "/latest/meta-data/iam/security-credentials/" + role(i);
            List<String> wrk = new ArrayList<>(List.of("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "5s", "-s", script.toString()));
            tokens.get(i).ifPresent(t -> wrk.addAll(List.of("-H", "X-aws-ec2-metadata-token: " + t)));
            wrk.add(url);
            List<String> command = sandbox.inPod(pod, wrk);
            runs.add(CompletableFuture.supplyAsync(() -> {
                Command.Result r = Command.run(Duration.ofSeconds(seconds + 60), command);
                if (r.exitCode() != 0) {
                    throw new IllegalStateException("wrk failed: " + r.output());
                }
                return Bench.Load.parse(r.stdout());
            }, THREADS));
        }
        return runs.stream().map(CompletableFuture::join).toList();
    }

    /** Each real pod's role listing: the names of roles that are not its own. */
    private static List<String> listings(Sandbox sandbox, List<SandboxPod> pods) throws Exception {
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < pods.size(); i++) {
            RawHttp.Response r = ask(sandbox, pods.get(i), "GET", "/latest/meta-data/iam/security-credentials/", Map.of());
            if (r.status() != 200 || !r.body().equals(role(i))) {
                wrong.add("real-" + i + ": " + r.status() + " " + r.body());
            }
        }
        return wrong;
    }

    /**
     * One request to the IMDS address from the pod: from this JVM in the pod's namespace (by address), or with
     * eBPF by curl in the pod's cgroup, since a connection from outside the pods' cgroup never reaches the agent.
     */
    private static RawHttp.Response ask(Sandbox sandbox, SandboxPod pod, String method, String path, Map<String, String> headers) throws Exception {
        java.util.Optional<Path> cgroup = sandbox.cgroupOf(pod);
        if (cgroup.isEmpty()) {
            return RawHttp.exchange(pod.ns(), Sandbox.IMDS_IP, 80, method, path, headers);
        }
        List<String> curl = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-X", method, "-w", "\n%{http_code}"));
        headers.forEach((k, v) -> curl.addAll(List.of("-H", k + ": " + v)));
        curl.add("http://" + Sandbox.IMDS_IP + path);
        String out = Command.run(Duration.ofSeconds(30), sandbox.inPod(pod, curl)).ok().stdout();
        int last = out.lastIndexOf('\n');
        return new RawHttp.Response(Integer.parseInt(out.substring(last + 1).strip()), Map.of(), out.substring(0, last));
    }

    /**
     * The unknown pod asking with eBPF: one shell in its cgroup and namespace that runs curl every 50 ms while
     * {@code asking} exists, one line per answer (status, Retry-After); a 403 is right (no pod of the node has
     * its cgroup's uid), as is a 503 with Retry-After 1.
     */
    private static void askInCgroup(SandboxPod pod, Path cgroup, Path asking, AtomicInteger asked, AtomicInteger refusedWell, List<String> wrong) {
        String loop = "while [ -e " + asking + " ]; do curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{retry-after}\\n' http://"
                + Sandbox.IMDS_IP + "/latest/meta-data/iam/security-credentials/; sleep 0.05; done";
        // Its output goes to a file, not through Command: Command reads a process's output on the common pool,
        // whose one thread (2 cores) this loop would hold while the wrk runs wait for theirs.
        List<String> lines;
        try {
            Path out = Files.createTempFile(asking.getParent(), "stranger-", ".out");
            Process p = new ProcessBuilder(Sandbox.inNamespace(java.util.Optional.of(cgroup), pod.ns().name(), List.of("sh", "-c", loop)))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectErrorStream(true).start();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES)) {
                p.destroyForcibly();
            }
            lines = Files.readAllLines(out);
            if (p.exitValue() != 0) {
                wrong.add("the unknown pod's loop exited " + p.exitValue() + ": " + lines);
            }
        } catch (Exception e) {
            wrong.add("the unknown pod's loop: " + e);
            return;
        }
        for (String line : lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            asked.incrementAndGet();
            if (line.equals("503 1")) {
                refusedWell.incrementAndGet();
            } else if (!line.equals("403")) {
                wrong.add(line);
            }
        }
    }

    /** GETs of the real pods themselves (real-i: a lookup's confirmation), of the tokenless pods [0] and of those with a token [1]. */
    private static long[] realPodGets(List<MockApiServer.Request> reads, List<java.util.Optional<String>> tokens) {
        long[] gets = new long[2];
        java.util.regex.Pattern real = java.util.regex.Pattern.compile(".*/namespaces/outage/pods/real-(\\d+)");
        for (MockApiServer.Request r : reads) {
            java.util.regex.Matcher m = real.matcher(r.path().split("\\?")[0]);
            if (m.matches()) {
                gets[tokens.get(Integer.parseInt(m.group(1))).isPresent() ? 1 : 0]++;
            }
        }
        return gets;
    }

    private static long requests(List<Bench.Load> loads) {
        return loads.stream().mapToLong(Bench.Load::requests).sum();
    }

    private static List<MockApiServer.Request> reads(MockApiServer api, long from, long to) {
        return api.requests().stream().filter(r -> r.nanos() >= from && r.nanos() < to && r.podRead()).toList();
    }

    static int worstWindow(List<MockApiServer.Request> reads, long windowNanos) {
        int worst = 0;
        for (int i = 0; i < reads.size(); i++) {
            int n = 0;
            for (int j = i; j < reads.size() && reads.get(j).nanos() - reads.get(i).nanos() < windowNanos; j++) {
                n++;
            }
            worst = Math.max(worst, n);
        }
        return worst;
    }

    private static String rate(List<Bench.Load> loads) {
        return "%d (%.0f)".formatted(loads.stream().mapToLong(Bench.Load::requests).sum(), loads.stream().mapToDouble(Bench.Load::rate).sum());
    }

    private static String latency(List<Bench.Load> loads) {
        return "%.2f / %.2f / %.2f".formatted(loads.stream().mapToLong(Bench.Load::p50).max().orElse(0) / 1e3,
                loads.stream().mapToLong(Bench.Load::p99).max().orElse(0) / 1e3, loads.stream().mapToLong(Bench.Load::p999).max().orElse(0) / 1e3);
    }

    private static long bad(List<Bench.Load> loads) {
        return loads.stream().mapToLong(l -> l.non2xx() + l.socketErrors()).sum();
    }

    private static void awaitReady(Sandbox sandbox, boolean ready, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                boolean now = RawHttp.get(sandbox.node(), Sandbox.HOST_IP, MANAGEMENT_PORT, "/readyz", Map.of()).status() == 200;
                if (now == ready) {
                    return;
                }
            } catch (ConnectException notListeningYet) {
                // the JVM is still starting
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent did not become " + (ready ? "ready" : "not ready") + " within " + timeout);
            }
            Thread.sleep(5);
        }
    }
}
