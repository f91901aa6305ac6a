package io.iamlet.e2e.sandbox;

import io.iamlet.control.testing.FakeImds;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Restarts, kills and uninstall, seen from pods of every interface style: a fresh sandbox per test. */
class SandboxLifecycleE2eTest {
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/";

    private Sandbox sandbox;

    @BeforeEach
    void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.namespace("team", "app-*");
    }

    @AfterEach
    void stop() throws Exception {
        sandbox.close();
    }

    private static RawHttp.Response get(SandboxPod pod, String path) throws Exception {
        return RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, path, Map.of());
    }

    private long count(String ruleset, String text) {
        return ruleset.lines().filter(l -> l.contains(text)).count();
    }

    /** While no agent runs, a pod's connection is refused: never the node's IMDS, never its credentials. */
    private static void assertRefused(SandboxPod pod) {
        Exception e = assertThrows(Exception.class, () -> get(pod, ROLE_PATH), "no answer while no agent runs");
        assertInstanceOf(ConnectException.class, e, "a reset, not a timeout or an answer: " + e);
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void restartsAndKillsLeaveExactlyOneRuleSetAndPodsNeverSeeTheNode(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, "team", "steady", "app-steady");
        AgentProcess agent = sandbox.startAgent("--on-exit=block");
        assertEquals("app-steady", get(pod, ROLE_PATH).body());
        for (int i = 0; i < 10; i++) {
            if (i % 2 == 0) {
                agent.kill();
            } else {
                agent.stop();
                assertTrue(sandbox.nodeRuleset().contains("reject with tcp reset"), "SIGTERM with block: " + sandbox.nodeRuleset());
            }
            assertRefused(pod);
            agent = sandbox.startAgent("--on-exit=block");
            String ruleset = sandbox.nodeRuleset();
            assertEquals(1, count(ruleset, "table inet iamlet"), ruleset);
            assertEquals(InterfaceStyle.values().length, count(ruleset, "dnat ip to " + Sandbox.HOST_IP + ":8181"),
                    "one redirect per interface pattern after restart " + i + ":\n" + ruleset);
            assertEquals(0, count(ruleset, "reject"), "the new agent's install replaced the block:\n" + ruleset);
            RawHttp.Response listing = get(pod, ROLE_PATH);
            assertEquals("app-steady", listing.body(), "after restart " + i + ": " + listing);
        }
        Command.Result cli = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertTrue(cli.stdout().contains("assumed-role/app-steady/team.steady"), cli.output());
        agent.stop();
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void uninstallGivesTheNodesMetadataAccessBackAndLeavesNoTrace(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, "team", "app", "app-main");
        AgentProcess agent = sandbox.startAgent("--on-exit=block");
        assertEquals(403, get(pod, "/latest/user-data").status(), "user-data is the node's while the agent runs");
        agent.stop();
        assertRefused(pod);

        Command.Result uninstall = sandbox.iamlet("uninstall");
        assertEquals(0, uninstall.exitCode(), uninstall.output());
        assertEquals("", sandbox.nodeRuleset(), "uninstall leaves no trace in nft list ruleset");
        assertEquals(0, sandbox.iamlet("uninstall").exitCode(), "a second uninstall finds nothing and succeeds");

        // Pods reach the instance's metadata service directly again, as on a node that never had iamlet.
        RawHttp.Response token = RawHttp.exchange(pod.ns(), Sandbox.IMDS_IP, 80, "PUT", "/latest/api/token",
                Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60"));
        assertTrue(token.body().startsWith("imds-token-"), "a token of the instance's own IMDS: " + token);
        Map<String, String> withToken = Map.of("X-aws-ec2-metadata-token", token.body());
        RawHttp.Response userData = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, "/latest/user-data", withToken);
        assertEquals(200, userData.status(), userData.toString());
        assertTrue(userData.body().contains(FakeImds.USER_DATA_SECRET), userData.body());
        RawHttp.Response nodeRole = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH, withToken);
        assertEquals(Sandbox.NODE_ROLE, nodeRole.body(), "without iamlet, pods see the node's role: that is what it protects");

        // The hop limit the other tests run with is real: at 1, a pod cannot get an IMDSv2 token through the
        // node, while the node itself still can. With the agent, pods get theirs from the agent instead.
        sandbox.imdsHopLimit(1);
        Exception e = assertThrows(IOException.class, () -> RawHttp.exchange(pod.ns(), Sandbox.IMDS_IP, 80, "PUT",
                "/latest/api/token", Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60")));
        assertInstanceOf(SocketTimeoutException.class, e, "the answer dies at the node's forward: " + e);
        RawHttp.Response nodeToken = RawHttp.exchange(sandbox.node(), Sandbox.IMDS_IP, 80, "PUT", "/latest/api/token",
                Map.of("X-aws-ec2-metadata-token-ttl-seconds", "60"));
        assertEquals(200, nodeToken.status(), nodeToken.toString());
    }
}
