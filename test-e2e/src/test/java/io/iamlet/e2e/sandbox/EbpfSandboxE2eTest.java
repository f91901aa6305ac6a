package io.iamlet.e2e.sandbox;

import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The agent with --backend=ebpf in the sandbox: pod clients run in a cgroup that plays the kubelet's
 * kubepods slice, and the agent attaches its connect program there instead of writing netfilter rules.
 */
class EbpfSandboxE2eTest {
    private static final String METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";

    private Sandbox sandbox;
    private List<String> ebpf;

    @BeforeEach
    void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.namespace("team", "app-*");
        ebpf = sandbox.enableEbpf();
    }

    @AfterEach
    void stop() throws Exception {
        sandbox.close();
    }

    private AgentProcess startAgent(String onExit, List<String> backend) throws Exception {
        List<String> flags = new ArrayList<>(backend);
        flags.add("--on-exit=" + onExit);
        return sandbox.startAgent(flags.toArray(String[]::new));
    }

    private Path cgroup() {
        return sandbox.podCgroup().orElseThrow();
    }

    private boolean pinned() {
        return Files.exists(sandbox.bpfPinDir().orElseThrow().resolve("connect4"));
    }

    @ParameterizedTest
    @EnumSource(InterfaceStyle.class)
    void theAwsCliInAPodGetsItsRoleThroughTheCgroupProgramWithoutAnyNetfilterRule(InterfaceStyle style) throws Exception {
        SandboxPod pod = sandbox.addPod(style, "team", "web", "app-web");
        AgentProcess agent = startAgent("remove", ebpf);
        assertEquals("", sandbox.nodeRuleset(), "no netfilter rule: the cgroup program does the redirect");
        assertEquals(1, CgroupRedirect.attachedPrograms(cgroup()));
        Command.Result cli = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertEquals(0, cli.exitCode(), cli.output());
        assertTrue(cli.stdout().contains("assumed-role/app-web/team.web"), cli.output());
        assertFalse(cli.output().contains(Sandbox.NODE_ROLE));
        Command.Result userData = PodClients.curl(sandbox, pod, "-o", "/dev/null", "-w", "%{http_code}", "http://169.254.169.254/latest/user-data");
        assertEquals("403", userData.stdout(), userData.output());
        assertTrue(agent.log().contains("\"req.remote\":\"" + pod.ip() + "\""), "the agent saw the pod's own address");
        List<String> doctorFlags = new ArrayList<>(List.of("doctor", "--node=" + Sandbox.NODE_NAME, "--host-ip=" + Sandbox.HOST_IP,
                "--kubeconfig=" + sandbox.kubeconfig(), "--sts-endpoint=http://" + Sandbox.STS_IP));
        doctorFlags.addAll(ebpf);
        Command.Result doctor = sandbox.iamlet(doctorFlags.toArray(String[]::new));
        assertTrue(doctor.stdout().contains("ok   ebpf         bpf_link ") && doctor.stdout().contains("program iamlet_redirect"),
                "doctor reports the attached program:\n" + doctor.output());

        agent.stop();
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup()), "--on-exit=remove detaches the program");
        assertFalse(pinned());
        doctor = sandbox.iamlet(doctorFlags.toArray(String[]::new));
        assertTrue(doctor.stdout().contains("fail ebpf         no link pinned at "), doctor.output());
    }

    @Test
    void restartsKillsAndBlocksKeepOneProgramAndPodsNeverReachTheNode() throws Exception {
        SandboxPod pod = sandbox.addPod(InterfaceStyle.CALI, "team", "web", "app-web");
        AgentProcess agent = startAgent("block", ebpf);
        for (int i = 0; i < 6; i++) {
            if (i % 2 == 0) {
                agent.stop();
            } else {
                agent.kill();
            }
            Command.Result refused = PodClients.curl(sandbox, pod, METADATA);
            assertEquals(7, refused.exitCode(), "no connection while no agent runs (" + (i % 2 == 0 ? "blocked" : "killed") + "): "
                    + refused.output());
            assertEquals(1, CgroupRedirect.attachedPrograms(cgroup()), "the pinned link outlives the agent");
            agent = startAgent("block", ebpf);
            assertEquals(1, CgroupRedirect.attachedPrograms(cgroup()), "after restart " + i);
            assertEquals("app-web", PodClients.curl(sandbox, pod, METADATA).stdout());
        }
        agent.stop();
    }

    @Test
    void switchingBackendsLeavesOnlyTheNewOneAndUninstallLeavesNothing() throws Exception {
        SandboxPod pod = sandbox.addPod(InterfaceStyle.ENI, "team", "web", "app-web");
        AgentProcess agent = startAgent("block", List.of("--backend=nftables", "--bpf-pin-dir=" + sandbox.bpfPinDir().orElseThrow()));
        assertTrue(sandbox.nodeRuleset().contains("dnat"));
        agent.stop();

        agent = startAgent("block", ebpf);
        assertEquals("", sandbox.nodeRuleset(), "the eBPF agent removed the netfilter rules it replaced");
        assertEquals("app-web", PodClients.curl(sandbox, pod, METADATA).stdout());
        agent.stop();

        agent = startAgent("block", List.of("--backend=nftables", "--bpf-pin-dir=" + sandbox.bpfPinDir().orElseThrow()));
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup()), "the nftables agent unpinned the eBPF link it replaced");
        assertEquals("app-web", PodClients.curl(sandbox, pod, METADATA).stdout());
        agent.stop();

        agent = startAgent("block", ebpf);
        agent.kill();
        Command.Result uninstall = sandbox.iamlet("uninstall", "--bpf-pin-dir=" + sandbox.bpfPinDir().orElseThrow());
        assertEquals(0, uninstall.exitCode(), uninstall.output());
        assertTrue(uninstall.stdout().contains("iamlet_redirect"), "it says what it removed: " + uninstall.stdout());
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup()));
        assertFalse(pinned());
        assertEquals("", sandbox.nodeRuleset());
        Command.Result token = PodClients.curl(sandbox, pod, "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60",
                "http://169.254.169.254/latest/api/token");
        assertTrue(token.stdout().startsWith("imds-token-"), "pods reach the instance's own IMDS again: " + token.output());
        assertFalse(token.stdout().contains(FakeImds.NODE_ACCESS_KEY));
    }
}
