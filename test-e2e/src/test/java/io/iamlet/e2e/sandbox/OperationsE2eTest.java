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
 * and every panel of the chart's dashboard returns data after the traffic; then the
 * rollback (the agent stopped as `helm uninstall` stops it) leaves kube2iam serving the pods again.
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
        List<String> command = new ArrayList<>(List.of("iptables", "-t", "nat", op, "PREROUTING"));
        command.addAll(KUBE2IAM_RULE);
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
            Command.Result own = sandbox.iamlet("doctor", "--agent=none");
            assertTrue(own.stdout().contains("fail rules") || own.stdout().contains("fail api") || own.stdout().contains("warn api"),
                    "doctor's own defaults (docker0, in-cluster API) do not describe this node:\n" + own.output());
            JsonNode json = JSON.readTree(sandbox.iamlet("doctor", "--output=json").stdout());
            assertEquals(doctor.exitCode() == 0 ? 0 : json.get("problems").asInt(), json.get("problems").asInt());
            List<String> okChecks = new ArrayList<>();
            json.get("findings").forEach(f -> {
                if (f.get("level").asText().equals("ok")) {
                    okChecks.add(f.get("check").asText());
                }
            });
            assertTrue(okChecks.containsAll(List.of("config", "rules", "api", "sts")), json.toPrettyString());

            // 4. A real Prometheus scrapes both agents (kube2iam's single port, iamlet's metrics port).
            Path config = work.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                      - job_name: kube-system/iamlet
                        static_configs:
                          - targets: ["%s:%d"]
                      - job_name: kube2iam
                        static_configs:
                          - targets: ["%s:%d"]
                    """.formatted(Sandbox.HOST_IP, IAMLET_METRICS, Sandbox.HOST_IP, KUBE2IAM_PORT));
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

            // 5. Rollback: iamlet stopped as helm uninstall stops it; kube2iam, never touched, serves the pods again.
            iamlet.stop();
            assertFalse(sandbox.nodeRuleset().contains("table inet iamlet"), sandbox.nodeRuleset());
            assertEquals("kube2iam", answerer(plain), "kube2iam answers again after the rollback");
            assertEquals("app-web", RawHttp.get(web.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
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

    private JsonNode query(String promql) throws Exception {
        RawHttp.Response r = RawHttp.get(sandbox.node(), Sandbox.HOST_IP, PROMETHEUS_PORT,
                "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8), Map.of());
        assertEquals(200, r.status(), promql + ": " + r);
        JsonNode body = JSON.readTree(r.body());
        assertEquals("success", body.get("status").asText(), r.body());
        return body.at("/data/result");
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
