package io.iamlet.e2e.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.e2e.Chart;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * docs/migration-kube2iam.md rehearsed on the sandbox's node, with the operations around it: kube2iam (the agent
 * with kube2iam's own flags, --iptables=false, behind kube2iam's DNAT rule to HOST_IP:8181, as its chart installs
 * it) serves the pods; iamlet is installed beside it and takes the pods over at once (its nftables chain runs
 * before iptables' nat); `iamlet doctor` as NOTES.txt prints it, with no flag, checks the running agent's
 * configuration and names kube2iam's rule; a real Prometheus (Debian's) scrapes both (kube2iam's single port too),
 * and every panel of the chart's dashboard returns data after the traffic; Prometheus loads the chart's rendered
 * PrometheusRule, evaluates all nine alerts, none active while all is well; then the rollback (the agent stopped as
 * `helm uninstall` stops it) leaves kube2iam serving the pods again, and IamletAgentDown goes active for the stopped agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OperationsE2eTest {
    private static final String ROLES = "/latest/meta-data/iam/security-credentials/";
    private static final int KUBE2IAM_PORT = 8181;
    /** iamlet's app port while kube2iam still holds 8181 on the node (both in the host network). */
    private static final int IAMLET_PORT = 8183;
    private static final int IAMLET_METRICS = 8182;
    private static final int PROMETHEUS_PORT = 9090;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** kiam's agent --port in the kiam rehearsal (its chart's default is 8181; another port keeps the two rehearsals apart). */
    private static final int KIAM_PORT = 8281;
    /** Answers every GET with "kiam", HTTP/1.1 with a Content-Length (what RawHttp reads). */
    private static final String KIAM_STAND_IN = """
            import http.server, sys
            class Kiam(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    self.send_response(200)
                    self.send_header("Content-Length", "4")
                    self.end_headers()
                    self.wfile.write(b"kiam")
                def log_message(self, *args):
                    pass
            http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Kiam).serve_forever()
            """;
    private static final List<String> KUBE2IAM_RULE = List.of("-p", "tcp", "-d", Sandbox.IMDS_IP, "--dport", "80", "-i", "cali+",
            "-j", "DNAT", "--to-destination", Sandbox.HOST_IP + ":" + KUBE2IAM_PORT);

    private Sandbox sandbox;

    @BeforeAll
    void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.namespace("team", "app-*", Sandbox.DEFAULT_ROLE);
    }

    @AfterAll
    void stop() throws Exception {
        if (sandbox != null) {
            sandbox.close();
        }
    }

    /**
     * Who answers a pod without a role annotation: kube2iam here runs without a default role (404), iamlet with the
     * sandbox's (its name). The answer itself tells them apart; the logs are written asynchronously.
     */
    private static String answerer(SandboxPod plain) throws Exception {
        RawHttp.Response r = RawHttp.get(plain.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of());
        if (r.status() == 404) {
            return "kube2iam";
        }
        assertEquals(Sandbox.DEFAULT_ROLE, r.body(), r.toString());
        return "iamlet";
    }

    private void iptables(String op) {
        iptables(op, KUBE2IAM_RULE);
    }

    private void iptables(String op, List<String> rule) {
        List<String> command = new ArrayList<>(List.of("iptables", "-t", "nat", op, "PREROUTING"));
        command.addAll(rule);
        sandbox.node().exec(command.toArray(String[]::new)).ok();
    }

    @Test
    void kube2iamToIamletAndBackWithDoctorPrometheusAlertsAndTheDashboard() throws Exception {
        // 1. kube2iam as its chart runs it: its own rule, its port, its metrics on that port.
        iptables("-A");
        Path work = Files.createTempDirectory("iamlet-operations-");
        Process prometheus = null;
        try {
            AgentProcess kube2iam = sandbox.startAgentExactly(Map.of("HOST_IP", Sandbox.HOST_IP, "NODE_NAME", Sandbox.NODE_NAME),
                    List.of("--app-port=" + KUBE2IAM_PORT, "--metrics-port=" + KUBE2IAM_PORT, "--iptables=false", "--auto-discover-base-arn",
                            "--namespace-restrictions", "--host-interface=cali+", "--kubeconfig=" + sandbox.kubeconfig(),
                            "--sts-endpoint=http://" + Sandbox.STS_IP));
            SandboxPod web = sandbox.addPod(InterfaceStyle.CALI, "team", "web", "app-web");
            SandboxPod plain = sandbox.addPod(InterfaceStyle.CALI, "team", "plain", null);
            assertEquals("app-web", RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
            assertEquals("kube2iam", answerer(plain), "kube2iam answers before the migration");

            // 2. iamlet installed beside it (the runbook's appPort while kube2iam holds 8181), --on-exit=remove as
            // helm uninstall makes --on-exit=auto do. It takes the pods over without kube2iam being touched.
            AgentProcess iamlet = sandbox.startAgent("--app-port=" + IAMLET_PORT, "--metrics-port=" + IAMLET_METRICS, "--on-exit=remove");
            assertEquals("iamlet", answerer(plain), "iamlet answers once installed, kube2iam's rule no longer sees the pods' traffic");
            assertEquals("app-web", RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
            RawHttp.Response creds = RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES + "app-web", Map.of());
            assertEquals(200, creds.status(), creds.toString());
            assertEquals(403, RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES + "other-role", Map.of()).status());

            // 3. doctor exactly as NOTES.txt prints it (kubectl exec ds/iamlet -- /opt/iamlet/bin/iamlet doctor): no flag.
            Command.Result doctor = sandbox.iamlet("doctor");
            for (String line : List.of("ok   config       the running agent's flags and environment (PID " + iamlet.pid() + ")",
                    "warn config       2 agents run in this network namespace", "ok   rules", "ok   api          lists namespaces and the",
                    "ok   sts", "warn kube2iam     competing DNAT of metadata traffic")) {
                assertTrue(doctor.stdout().contains(line), "'" + line + "' missing from doctor:\n" + doctor.output());
            }
            assertTrue(doctor.stdout().contains("pods of node " + Sandbox.NODE_NAME), "the agent's node, from its flags:\n" + doctor.output());
            // --output=json says what the text says: the same checks at the same levels, and "problems" counts the
            // failures and decides the exit code (0 here: only warnings; several with doctor's own defaults).
            assertEquals(0, doctor.exitCode(), doctor.output());
            assertTrue(doctor.stdout().contains("doctor: no problem found"), doctor.output());
            Command.Result jsonRun = sandbox.iamlet("doctor", "--output=json");
            JsonNode json = JSON.readTree(jsonRun.stdout());
            assertEquals(0, jsonRun.exitCode(), jsonRun.output());
            assertEquals(0, json.get("problems").asInt(), json.toPrettyString());
            assertEquals(doctor.stdout().lines().filter(l -> !l.startsWith("doctor:")).map(l -> l.substring(0, 18).strip()).toList(),
                    levelsAndChecks(json), "the JSON and the text report the same findings:\n" + doctor.output() + "\n" + json.toPrettyString());
            assertTrue(levelsAndChecks(json).containsAll(List.of("ok   config", "ok   rules", "ok   api", "ok   sts", "warn kube2iam")), json.toPrettyString());
            // Doctor's own defaults (docker0, the in-cluster API) do not describe this node: it says so, and fails.
            Command.Result ownJsonRun = sandbox.iamlet("doctor", "--agent=none", "--output=json");
            JsonNode ownJson = JSON.readTree(ownJsonRun.stdout());
            List<String> own = levelsAndChecks(ownJson);
            assertTrue(own.contains("fail rules") || own.contains("fail api") || own.contains("warn api"), ownJson.toPrettyString());
            long failures = own.stream().filter(f -> f.startsWith("fail")).count();
            assertTrue(failures > 0, ownJson.toPrettyString());
            assertEquals(failures, ownJson.get("problems").asLong(), ownJson.toPrettyString());
            assertNotEquals(0, ownJsonRun.exitCode(), ownJsonRun.output());

            // 4. A real Prometheus scrapes both agents (kube2iam's single port, iamlet's metrics port).
            // The chart's alert rules as the operator's Prometheus gets them (the rendered PrometheusRule's spec).
            Path rules = work.resolve("iamlet.rules.yaml");
            Files.writeString(rules, Chart.prometheusRuleFile());
            Path config = work.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    rule_files: ["%s"]
                    scrape_configs:
                      - job_name: kube-system/iamlet
                        static_configs:
                          - targets: ["%s:%d"]
                      - job_name: kube2iam
                        static_configs:
                          - targets: ["%s:%d"]
                    """.formatted(rules, Sandbox.HOST_IP, IAMLET_METRICS, Sandbox.HOST_IP, KUBE2IAM_PORT));
            prometheus = new ProcessBuilder("ip", "netns", "exec", sandbox.node().name(), "prometheus", "--config.file=" + config,
                    "--storage.tsdb.path=" + work.resolve("data"), "--web.listen-address=" + Sandbox.HOST_IP + ":" + PROMETHEUS_PORT)
                    .redirectErrorStream(true).redirectOutput(work.resolve("prometheus.log").toFile()).start();
            // Traffic while it scrapes: credentials, listings, a refused role.
            for (int i = 0; i < 5; i++) {
                RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES + "app-web", Map.of());
                RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES + "other-role", Map.of());
            }
            awaitQuery("count(up == 1) == 2", Duration.ofSeconds(60), work);
            awaitQuery("count_over_time(iamlet_requests_total{job=\"kube-system/iamlet\",route=\"credentials\",status=\"200\"}[1m]) >= 3",
                    Duration.ofSeconds(30), work);
            assertFalse(query("process_resident_memory_bytes{job=\"kube2iam\"}").isEmpty(), "kube2iam's port serves the metrics too");
            Map<String, Integer> empty = new LinkedHashMap<>();
            for (String q : Chart.dashboardQueries()) {
                JsonNode result = query(q);
                if (result.isEmpty()) {
                    empty.put(q, 0);
                }
            }
            assertEquals(Map.of(), empty, "dashboard panels without data after the traffic");
            assertTrue(query("iamlet_redirect_check{result=\"as_expected\"} == 1").size() == 1, "iamlet's redirect read back as installed");
            // Every alert of the chart loaded and evaluated without error after the traffic, and none is active while
            // all is well.
            List<String> alerts = chartAlerts();
            assertEquals(9, alerts.size(), alerts.toString());
            awaitRules(alerts, work);
            assertEquals(List.of(), activeAlerts(), "no alert is pending or firing while both agents serve");


            // 5. Rollback: iamlet stopped as helm uninstall stops it; kube2iam, never touched, serves the pods again.
            iamlet.stop();
            assertFalse(sandbox.nodeRuleset().contains("table inet iamlet"), sandbox.nodeRuleset());
            assertEquals("kube2iam", answerer(plain), "kube2iam answers again after the rollback");
            assertEquals("app-web", RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
            // The agent's scrape now fails: IamletAgentDown becomes active for iamlet's instance (pending: its `for` is 5m).
            awaitAlert("IamletAgentDown", Sandbox.HOST_IP + ":" + IAMLET_METRICS, work);
            kube2iam.stop();
        } finally {
            if (prometheus != null) {
                prometheus.destroy();
                prometheus.waitFor();
            }
            iptables("-D");
            Command.run("rm", "-rf", work.toString());
        }
    }

    /**
     * docs/migration-kiam.md rehearsed: kiam's agent (started with --iptables) appends one DNAT to nat PREROUTING,
     * in the order of its ruleSpec (uswitch/kiam cmd/kiam/iptables.go: -p tcp -d 169.254.169.254 --dport 80 -j DNAT
     * --to-destination HOST:PORT -i INTERFACE), and answers on its --port; a stand-in HTTP server answers there
     * ("kiam"), since kiam's agent needs its server and their TLS. iamlet is installed with the runbook's helm values
     * (the chart's args and env, rendered) and takes the pods over, kiam's `iam.amazonaws.com/permitted` regular
     * expressions deciding the roles and a namespace without one refusing them (as kiam does); the rollback
     * (helm uninstall: the agent stops and removes its rules) leaves kiam's rule as it was and kiam answering.
     */
    @Test
    void kiamToIamletAndBackWithKiamsRuleUntouched() throws Exception {
        List<String> kiamRule = List.of("-p", "tcp", "-d", Sandbox.IMDS_IP, "--dport", "80", "-j", "DNAT",
                "--to-destination", Sandbox.HOST_IP + ":" + KIAM_PORT, "-i", "cali+");
        Process kiam = new ProcessBuilder("ip", "netns", "exec", sandbox.node().name(), "python3", "-c", KIAM_STAND_IN,
                Sandbox.HOST_IP, Integer.toString(KIAM_PORT)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        iptables("-A", kiamRule);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!kiamListens()) {
                assertTrue(kiam.isAlive() && System.nanoTime() < deadline, "kiam's stand-in never listened on " + KIAM_PORT);
                Thread.sleep(50);
            }
            sandbox.api().client().namespaces().resource(io.iamlet.control.testing.Pods.namespace("payments",
                    Map.of("iam.amazonaws.com/permitted", "payments-.*"))).create();
            sandbox.api().client().namespaces().resource(io.iamlet.control.testing.Pods.namespace("unlabelled", Map.of())).create();
            SandboxPod api = sandbox.addPod(InterfaceStyle.CALI, "payments", "api", "payments-api");
            SandboxPod wrong = sandbox.addPod(InterfaceStyle.CALI, "payments", "wrong", "billing-admin");
            SandboxPod stray = sandbox.addPod(InterfaceStyle.CALI, "unlabelled", "stray", "payments-api");
            assertEquals("kiam", RawHttp.get(api.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body(), "kiam answers before the migration");

            // The runbook's step 2, as its helm command sets the values; the sandbox's API and STS on top. onExit:
            // remove is what --on-exit=auto does when helm uninstall deletes the DaemonSet (the sandbox has none).
            Map<String, String> values = new LinkedHashMap<>();
            values.put("appPort", "8183");
            values.put("hostInterface", "\"cali+\"");
            values.put("namespaceRestrictions", "true");
            values.put("extraArgs", "[\"--kubeconfig=" + sandbox.kubeconfig() + "\"]");
            values.put("stsEndpoint", "http://" + Sandbox.STS_IP);
            values.put("onExit", "remove");
            io.fabric8.kubernetes.api.model.Container container = Chart.one(Chart.objects(Chart.render(values)),
                    io.fabric8.kubernetes.api.model.apps.DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
            Map<String, String> env = new LinkedHashMap<>();
            container.getEnv().forEach(e -> env.put(e.getName(), e.getValueFrom() == null ? e.getValue() : switch (e.getValueFrom().getFieldRef().getFieldPath()) {
                case "status.hostIP" -> Sandbox.HOST_IP;
                case "spec.nodeName" -> Sandbox.NODE_NAME;
                case "metadata.name" -> "iamlet-k1am2";
                case "metadata.namespace" -> "kube-system";
                default -> throw new AssertionError("a downward API field the rehearsal does not provide: " + e.getValueFrom());
            }));
            AgentProcess iamlet = sandbox.startAgentExactly(env, container.getArgs());
            RawHttp.Response creds = RawHttp.get(api.ns(), Sandbox.IMDS_IP, 80, ROLES + "payments-api", Map.of());
            assertEquals(200, creds.status(), "iamlet answers once installed, with the role kiam's annotation permits: " + creds + "\n" + iamlet.log());
            assertTrue(creds.body().contains("\"AccessKeyId\""), creds.body());
            assertEquals(403, RawHttp.get(wrong.ns(), Sandbox.IMDS_IP, 80, ROLES + "billing-admin", Map.of()).status(),
                    "a role the namespace's permitted expression does not match is refused");
            assertEquals(403, RawHttp.get(stray.ns(), Sandbox.IMDS_IP, 80, ROLES + "payments-api", Map.of()).status(),
                    "a namespace without iam.amazonaws.com/permitted allows no role, as with kiam");
            iptables("-C", kiamRule); // exit 1 (and a failure here) if iamlet had touched kiam's rule
            Command.Result doctor = sandbox.iamlet("doctor");
            assertTrue(doctor.stdout().contains("competing DNAT of metadata traffic"), "doctor names kiam's DNAT:\n" + doctor.output());

            // Rollback: helm uninstall stops the agent, which removes its rules; kiam's rule and kiam are as before.
            iamlet.stop();
            assertTrue(iamlet.log().contains("metadata redirect removed"), iamlet.log());
            assertFalse(sandbox.nodeRuleset().contains("table inet iamlet"), sandbox.nodeRuleset());
            iptables("-C", kiamRule);
            assertEquals("kiam", RawHttp.get(api.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body(), "kiam answers again after the rollback");
            assertEquals("kiam", RawHttp.get(stray.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
        } finally {
            iptables("-D", kiamRule);
            kiam.destroy();
            kiam.waitFor();
        }
    }

    private boolean kiamListens() {
        try {
            return RawHttp.get(sandbox.node(), Sandbox.HOST_IP, KIAM_PORT, ROLES, Map.of()).status() == 200;
        } catch (Exception notYet) {
            return false;
        }
    }

    /** Each finding as the text output's first two columns, "level check". */
    private static List<String> levelsAndChecks(JsonNode doctorJson) {
        List<String> out = new ArrayList<>();
        doctorJson.get("findings").forEach(f -> out.add(String.format("%-4s %s", f.get("level").asText(), f.get("check").asText())));
        return out;
    }

    private JsonNode query(String promql) throws Exception {
        RawHttp.Response r = RawHttp.get(sandbox.node(), Sandbox.HOST_IP, PROMETHEUS_PORT,
                "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8), Map.of());
        assertEquals(200, r.status(), promql + ": " + r);
        JsonNode body = JSON.readTree(r.body());
        assertEquals("success", body.get("status").asText(), r.body());
        return body.at("/data/result");
    }

    /** The alert names of the chart's rule file. */
    private static List<String> chartAlerts() throws Exception {
        List<String> names = new ArrayList<>();
        new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(Chart.prometheusRuleFile()).get("groups")
                .forEach(g -> g.get("rules").forEach(r -> names.add(r.get("alert").asText())));
        return names;
    }

    /** Prometheus's API through curl: its longer answers are chunked, which RawHttp (Content-Length only) does not read. */
    private JsonNode api(String path) throws Exception {
        Command.Result r = sandbox.node().exec("curl", "-sS", "--fail", "http://" + Sandbox.HOST_IP + ":" + PROMETHEUS_PORT + path);
        assertEquals(0, r.exitCode(), path + ": " + r.output());
        JsonNode body = JSON.readTree(r.stdout());
        assertEquals("success", body.path("status").asText(), r.stdout());
        return body.get("data");
    }

    /** Waits until Prometheus holds exactly these alerting rules, each evaluated (health "ok") at least once. */
    private void awaitRules(List<String> alerts, Path work) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            List<String> loaded = new ArrayList<>();
            List<String> healthy = new ArrayList<>();
            JsonNode groups = api("/api/v1/rules?type=alert").get("groups");
            groups.forEach(g -> g.get("rules").forEach(r -> {
                loaded.add(r.get("name").asText());
                if (r.get("health").asText().equals("ok")) {
                    healthy.add(r.get("name").asText());
                }
            }));
            if (loaded.equals(alerts) && healthy.equals(alerts)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("Prometheus's rules are not the chart's, or not all evaluated: " + groups.toPrettyString() + "\n"
                        + Files.readString(work.resolve("prometheus.log")));
            }
            Thread.sleep(200);
        }
    }

    /** "alertname instance state" of every pending or firing alert. */
    private List<String> activeAlerts() throws Exception {
        List<String> active = new ArrayList<>();
        api("/api/v1/alerts").get("alerts").forEach(a -> active.add(a.at("/labels/alertname").asText() + " "
                + a.at("/labels/instance").asText() + " " + a.get("state").asText()));
        return active;
    }

    private void awaitAlert(String name, String instance, Path work) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            List<String> active = activeAlerts();
            if (active.contains(name + " " + instance + " pending")) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail(name + " for " + instance + " never became active; active: " + active + "\n" + Files.readString(work.resolve("prometheus.log")));
            }
            Thread.sleep(200);
        }
    }

    private void awaitQuery(String promql, Duration timeout, Path work) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (!query(promql).isEmpty()) {
                    return;
                }
            } catch (Exception | AssertionError e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                fail("Prometheus never answered " + promql + ":\n" + Files.readString(work.resolve("prometheus.log")));
            }
            Thread.sleep(200);
        }
    }
}
