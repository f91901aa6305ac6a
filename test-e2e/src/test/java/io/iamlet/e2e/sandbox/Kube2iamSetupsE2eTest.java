package io.iamlet.e2e.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kube2iam users' setups, unchanged, with real clients in pods (issue: every one of these broke before): a cluster
 * with no base ARN and full-ARN annotations; a cross-account ARN; a path role; --auto-discover-default-role alone;
 * and kube2iam's own DaemonSet (its e2e/testdata/kube2iam-ds.yaml: args, env, iptables init step and liveness probe)
 * with only the program swapped, plus the pod-side cases of its e2e/credentials_test.go.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Kube2iamSetupsE2eTest {
    private static final String ROLES = "/latest/meta-data/iam/security-credentials/";
    private static final String OTHER_ACCOUNT = "999988887777";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Sandbox sandbox;
    private AgentProcess agent;
    private int pods;

    @BeforeAll
    void start() throws Exception {
        sandbox = Sandbox.start();
        // Hop limit 1, the hardened setting: whatever a pod gets comes from the agent.
        sandbox.imdsHopLimit(1);
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (agent != null) {
            agent.stop();
            agent = null;
        }
        sandbox.iamlet("uninstall").ok();
    }

    @AfterAll
    void stop() throws Exception {
        if (sandbox != null) {
            sandbox.close();
        }
    }

    /** The flags a node needs in the sandbox (where it is, how to reach the fakes), and nothing about roles. */
    private List<String> nodeFlags(String... roleFlags) {
        List<String> flags = new ArrayList<>(List.of("run", "--node=" + Sandbox.NODE_NAME, "--iptables", "--host-ip=" + Sandbox.HOST_IP,
                "--host-interface=cali+", "--kubeconfig=" + sandbox.kubeconfig(), "--sts-endpoint=http://" + Sandbox.STS_IP));
        flags.addAll(List.of(roleFlags));
        return flags;
    }

    private SandboxPod pod(String role) throws Exception {
        String name = "p" + (++pods);
        return sandbox.addPod(InterfaceStyle.CALI, "apps", name, role);
    }

    private static String assumedRoleArn(String account, String role, String pod) {
        return "arn:aws:sts::" + account + ":assumed-role/" + role + "/apps." + pod;
    }

    private static String value(Command.Result r, String key) {
        return r.stdout().lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in:\n" + r.output()));
    }

    /** The AWS CLI, botocore and the Java SDK in the pod all come back with the role's assumed-role ARN. */
    private void everyClientGets(SandboxPod pod, String expectedArn) {
        Command.Result cli = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertEquals(0, cli.exitCode(), cli.output());
        assertTrue(cli.stdout().contains("\"Arn\": \"" + expectedArn + "\""), cli.output());
        Command.Result boto = PodClients.botocore(sandbox, pod);
        assertEquals(0, boto.exitCode(), boto.output());
        assertEquals(expectedArn, value(boto, "Arn"));
        assertEquals("iam-role", value(boto, "Method"), "botocore found it at the instance metadata service");
        Command.Result sdk = PodClients.javaSdk(sandbox, pod);
        assertEquals(0, sdk.exitCode(), sdk.output());
        assertTrue(sdk.stdout().contains(expectedArn), sdk.output());
        for (Command.Result r : List.of(cli, boto, sdk)) {
            assertFalse(r.output().contains(Sandbox.NODE_ROLE), "never the node's role: " + r.output());
        }
    }

    @Test
    @DisplayName("no --base-role-arn, full-ARN annotations (kube2iam's README), and a cross-account ARN")
    void fullArnAnnotationsWithoutABaseArn() throws Exception {
        agent = sandbox.startAgentExactly(Map.of(), nodeFlags("--allow-cross-account"));
        String own = "arn:aws:iam::" + Sandbox.ACCOUNT + ":role/app-full";
        SandboxPod p = pod(own);
        RawHttp.Response listing = RawHttp.get(p.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of());
        assertEquals(own, listing.body(), "without a base ARN the listing is the full ARN, as kube2iam's");
        everyClientGets(p, assumedRoleArn(Sandbox.ACCOUNT, "app-full", "p" + pods));

        String partner = "arn:aws:iam::" + OTHER_ACCOUNT + ":role/partner";
        SandboxPod q = pod(partner);
        everyClientGets(q, assumedRoleArn(OTHER_ACCOUNT, "partner", "p" + pods));
    }

    @Test
    @DisplayName("a path role: listed as its path, asked for with the '/' in it")
    void pathRole() throws Exception {
        agent = sandbox.startAgentExactly(Map.of(), nodeFlags("--base-role-arn=" + Sandbox.BASE_ARN));
        SandboxPod p = pod("team/app-path");
        assertEquals("team/app-path", RawHttp.get(p.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
        everyClientGets(p, assumedRoleArn(Sandbox.ACCOUNT, "app-path", "p" + pods));
    }

    @Test
    @DisplayName("--auto-discover-default-role alone: the node's role is the default, bare names get the discovered base")
    void autoDiscoverDefaultRoleAlone() throws Exception {
        agent = sandbox.startAgentExactly(Map.of(), nodeFlags("--auto-discover-default-role"));
        SandboxPod unannotated = pod(null);
        assertEquals(Sandbox.NODE_ROLE, RawHttp.get(unannotated.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of()).body());
        Command.Result cli = PodClients.awsCli(sandbox, unannotated, "sts", "get-caller-identity");
        assertEquals(0, cli.exitCode(), cli.output());
        // kube2iam's meaning: the pod assumes the node's role (a session of its own), it is not handed the node's keys.
        assertTrue(cli.stdout().contains(assumedRoleArn(Sandbox.ACCOUNT, Sandbox.NODE_ROLE, "p" + pods)), cli.output());
        SandboxPod bare = pod("app-bare");
        everyClientGets(bare, assumedRoleArn(Sandbox.ACCOUNT, "app-bare", "p" + pods));
    }

    /**
     * kube2iam's e2e/testdata/kube2iam-ds.yaml, with the program swapped: its args as written (including
     * --iptables=false, --host-interface=eth+ and --log-level=debug), its env (HOST_IP and NODE_NAME from the downward
     * API, AWS_ENDPOINT_URL_STS), its init container's iptables DNAT to 127.0.0.1:8181 with route_localnet, and its
     * liveness probe, GET :8181/healthz. Only --kubeconfig is added: the sandbox has no in-cluster service account.
     * Then the pod-side cases of its e2e/credentials_test.go.
     */
    @Test
    @DisplayName("kube2iam's own DaemonSet (e2e/testdata/kube2iam-ds.yaml) and e2e/credentials_test.go")
    void kube2iamsOwnDaemonSet() throws Exception {
        sandbox.node().exec("sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1").ok();
        sandbox.node().exec("iptables", "-t", "nat", "-I", "PREROUTING", "-p", "tcp", "-d", Sandbox.IMDS_IP, "--dport", "80",
                "-j", "DNAT", "--to-destination", "127.0.0.1:8181").ok();
        try {
            agent = sandbox.startAgentExactly(Map.of("HOST_IP", Sandbox.HOST_IP, "NODE_NAME", Sandbox.NODE_NAME,
                    "AWS_ENDPOINT_URL_STS", "http://" + Sandbox.STS_IP, "AWS_REGION", "us-east-1"), List.of(
                    "--app-port=8181", "--iptables=false", "--metadata-addr=" + Sandbox.IMDS_IP,
                    "--base-role-arn=" + Sandbox.BASE_ARN, "--iam-role-key=iam.amazonaws.com/role", "--host-ip=" + Sandbox.HOST_IP,
                    "--node=" + Sandbox.NODE_NAME, "--host-interface=eth+", "--log-level=debug", "--kubeconfig=" + sandbox.kubeconfig()));
            // The liveness probe: the kubelet, on the node, asks the container port.
            RawHttp.Response probe = RawHttp.get(sandbox.node(), Sandbox.HOST_IP, 8181, "/healthz", Map.of());
            assertEquals(200, probe.status(), probe.body());
            assertTrue(probe.body().contains("\"instanceId\""), probe.body());

            // credentials_test.go TestAnnotatedPodGetsCreds: the listing names test-role, the role's document is JSON.
            String testRole = Sandbox.BASE_ARN + "test-role";
            SandboxPod annotated = pod(testRole);
            String annotatedName = "p" + pods;
            RawHttp.Response listing = RawHttp.get(annotated.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of());
            assertEquals(200, listing.status());
            assertTrue(listing.body().contains("test-role"), listing.body());
            RawHttp.Response creds = RawHttp.get(annotated.ns(), Sandbox.IMDS_IP, 80, ROLES + "test-role", Map.of());
            JsonNode doc = JSON.readTree(creds.body());
            assertTrue(doc.has("AccessKeyId"), creds.body());
            assertEquals("Success", doc.get("Code").asText());

            // TestWrongRoleRejected: another role is 403.
            assertEquals(403, RawHttp.get(annotated.ns(), Sandbox.IMDS_IP, 80, ROLES + "different-role", Map.of()).status());

            // TestUnannotatedPodNoCredentials: kube2iam answers 200 with an empty body; iamlet answers 404 with the
            // reason (a difference kept on purpose, docs/operations.md). Either way no role is listed.
            SandboxPod unannotated = pod(null);
            RawHttp.Response none = RawHttp.get(unannotated.ns(), Sandbox.IMDS_IP, 80, ROLES, Map.of());
            assertEquals(404, none.status());
            assertTrue(none.body().contains("no default role"), none.body());

            // TestIMDSv2Passthrough: PUT /latest/api/token gives a token (at least 32 characters).
            RawHttp.Response token = RawHttp.exchange(unannotated.ns(), Sandbox.IMDS_IP, 80, "PUT", "/latest/api/token",
                    Map.of("X-aws-ec2-metadata-token-ttl-seconds", "21600"));
            assertEquals(200, token.status());
            assertTrue(token.body().length() >= 32, token.body());

            // And a real client through kube2iam's own DNAT.
            Command.Result cli = PodClients.awsCli(sandbox, annotated, "sts", "get-caller-identity");
            assertEquals(0, cli.exitCode(), cli.output());
            assertTrue(cli.stdout().contains(assumedRoleArn(Sandbox.ACCOUNT, "test-role", annotatedName)), cli.output());
            assertTrue(agent.log().contains("level=debug") || agent.log().contains("level=info"), "text logs, as kube2iam's default");
        } finally {
            sandbox.node().exec("iptables", "-t", "nat", "-D", "PREROUTING", "-p", "tcp", "-d", Sandbox.IMDS_IP, "--dport", "80",
                    "-j", "DNAT", "--to-destination", "127.0.0.1:8181").ok();
        }
    }
}
