package io.iamlet.e2e;

import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import io.iamlet.netlink.testing.Netns;
import io.iamlet.netlink.testing.Relay;
import io.iamlet.e2e.sandbox.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real agent process, `bin/iamlet run`, inside a node namespace with a pod namespace behind a cali veth.
 * The fake API server, STS and node IMDS run in this JVM on loopback; relays make them reachable on the
 * node namespace's loopback. The pod asks 169.254.169.254 as an SDK would.
 */
class AgentProcessE2eTest {
    private static final String HOST_IP = "10.80.0.1";
    private static final String POD_IP = "10.80.0.2";

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private MockApiServer api;
    private FakeSts sts;
    private FakeImds imds;
    private Netns node;
    private Netns pod;
    private Relay apiRelay;
    private Relay stsRelay;
    private Relay imdsRelay;
    private final List<Process> agents = new ArrayList<>();
    private Path logDir;

    @BeforeEach
    void world() throws Exception {
        api = aws.api();
        sts = aws.sts();
        imds = aws.imds();
        node = Netns.create();
        pod = Netns.create();
        Netns.veth(node, "calitest0", pod, "eth0");
        node.exec("ip", "addr", "add", HOST_IP + "/24", "dev", "calitest0").ok();
        pod.exec("ip", "addr", "add", POD_IP + "/24", "dev", "eth0").ok();
        pod.exec("ip", "route", "add", "default", "via", HOST_IP).ok();
        api.client().pods().inNamespace("team").resource(Pods.withRole("team", "web", "node-a", "reader", POD_IP)).create();
        apiRelay = Relay.into(node, java.net.URI.create(api.url()).getPort());
        stsRelay = Relay.into(node, sts.endpoint().getPort());
        imdsRelay = Relay.into(node, imds.url().getPort());
        logDir = Files.createTempDirectory("iamlet-agent");
    }

    @AfterEach
    void teardown() throws Exception {
        for (Process p : agents) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : new AutoCloseable[] {apiRelay, stsRelay, imdsRelay, pod, node}) {
            if (c != null) {
                c.close();
            }
        }
    }

    /** Starts `bin/iamlet run` in the node namespace and waits until it logs "ready". */
    private Process startAgent(String onExit) throws Exception {
        Path log = logDir.resolve("agent-" + agents.size() + ".log");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", node.name(), Launcher.iamlet(), "run",
                "--node=node-a", "--iptables=true", "--host-ip=" + HOST_IP, "--host-interface=cali+",
                "--api-server=http://127.0.0.1:" + apiRelay.port(), "--base-role-arn=arn:aws:iam::111122223333:role/",
                "--sts-endpoint=http://127.0.0.1:" + stsRelay.port(), "--metadata-addr=127.0.0.1:" + imdsRelay.port(),
                "--log-format=json", "--on-exit=" + onExit));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("AWS_ACCESS_KEY_ID", "AKIANODE0000000000");
        pb.environment().put("AWS_SECRET_ACCESS_KEY", "node-secret");
        pb.environment().put("AWS_REGION", "us-east-1");
        Process p = pb.start();
        agents.add(p);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.readString(log).contains("\"msg\":\"ready\"")) {
            assertTrue(p.isAlive(), "the agent exited during start-up:\n" + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "the agent did not get ready in 60s:\n" + Files.readString(log));
            Thread.sleep(100);
        }
        return p;
    }

    private static void stop(Process p, boolean kill) throws Exception {
        if (kill) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the agent did not stop");
    }

    /** A plain HTTP/1.1 GET from inside the pod namespace, as an SDK's IMDS client sends it. */
    private RawHttp.Response podGet(String path) throws Exception {
        return RawHttp.get(pod, "169.254.169.254", 80, path, java.util.Map.of());
    }

    private String ruleset() {
        return node.exec("nft", "list", "ruleset").ok().stdout();
    }

    @Test
    void aPodGetsItsRoleThroughTheRedirectAndSigtermWithRemoveLeavesNoRule() throws Exception {
        Process agent = startAgent("remove");
        RawHttp.Response listing = podGet("/latest/meta-data/iam/security-credentials/");
        assertEquals(200, listing.status(), listing.toString());
        assertEquals("reader", listing.body());
        assertEquals("EC2ws", listing.header("Server"));
        String creds = podGet("/latest/meta-data/iam/security-credentials/reader").body();
        assertTrue(creds.contains("\"AccessKeyId\":\"ASIAFAKE"), creds);
        assertFalse(creds.contains(FakeImds.NODE_ACCESS_KEY));
        assertEquals("team.web", sts.calls().getLast().sessionName());
        assertEquals("AKIANODE0000000000", sts.calls().getLast().callerAccessKey(), "the agent signs with its own credentials");
        assertTrue(ruleset().contains("dnat ip to 10.80.0.1:8181"), ruleset());
        stop(agent, false);
        assertEquals("", ruleset(), "--on-exit=remove leaves no rule");
    }

    @Test
    void blockWhileNoAgentRunsAndFiftyRestartsWithSigkillLeaveOneRuleSet() throws Exception {
        Process first = startAgent("block");
        stop(first, false);
        assertTrue(ruleset().contains("reject with tcp reset"), ruleset());
        Exception refused = assertThrows(Exception.class, () -> podGet("/latest/meta-data/iam/security-credentials/"));
        assertInstanceOf(java.net.ConnectException.class, refused, "pods are reset while no agent runs: " + refused);
        // 50 restarts, every other one a SIGKILL that gives the agent no chance to clean up.
        for (int i = 0; i < 50; i++) {
            stop(startAgent("block"), i % 2 == 0);
        }
        Process last = startAgent("remove");
        String rules = ruleset();
        assertEquals(1, rules.lines().filter(l -> l.contains("dnat")).count(), rules);
        assertFalse(rules.contains("reject"), "the new agent's install replaced the block");
        assertEquals("reader", podGet("/latest/meta-data/iam/security-credentials/").body());
        stop(last, false);
        assertEquals("", ruleset());
    }

    @Test
    void aFailedStartExitsWithTheReasonAndLeavesPodsBlocked() throws Exception {
        aws.stopApi();
        Path log = logDir.resolve("failed.log");
        Process p = new ProcessBuilder("ip", "netns", "exec", node.name(), Launcher.iamlet(), "run", "--node=node-a",
                "--iptables=true", "--host-ip=" + HOST_IP, "--host-interface=cali+", "--sync-timeout=2s",
                "--api-server=http://127.0.0.1:" + apiRelay.port(), "--base-role-arn=arn:aws:iam::111122223333:role/",
                "--sts-endpoint=http://127.0.0.1:" + stsRelay.port(), "--metadata-addr=127.0.0.1:" + imdsRelay.port())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), Files.readString(log));
        assertTrue(Files.readString(log).contains("did not deliver the pods of node node-a"), Files.readString(log));
        String rules = ruleset();
        assertTrue(rules.contains("reject with tcp reset") && !rules.contains("dnat"),
                "the block installed first stays: pods are refused, never on the node's metadata (issue #12):\n" + rules);
    }
}
