package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.iamlet.redirect.ebpf.CgroupRedirect;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Container credentials with --backend=ebpf: the cgroup program sends 169.254.170.23:80 to the agent as it does
 * IMDS, with no netfilter rule, and the pod's own source address survives it, so a borrowed token is still refused.
 * The kernel's identity counts here too: a token sent from its pod's address but from another pod's cgroup is
 * refused (by the address alone it would be served). The pods' cgroups are named as a kubelet with the cgroupfs
 * driver names them ({@code <qos>/pod<uid>/<container>}; KernelIdentityE2eTest covers the systemd driver), so
 * the refusal naming the other pod proves the agent reads that layout end to end.
 */
class EbpfContainerCredentialsE2eTest {
    private Sandbox sandbox;
    private Path nodeClient;

    @BeforeEach
    void start() throws Exception {
        nodeClient = NodeClient.install();
        sandbox = Sandbox.start();
        sandbox.namespace("team", "app-*");
        sandbox.api().client().serviceAccounts().inNamespace("team").resource(new ServiceAccountBuilder().withNewMetadata()
                .withNamespace("team").withName("worker").withAnnotations(Map.of("iam.amazonaws.com/role", "app-worker")).endMetadata()
                .build()).create();
    }

    @AfterEach
    void stop() throws Exception {
        sandbox.close();
    }

    @Test
    void theJavascriptSdkGetsItsRoleThroughTheCgroupProgramAndABorrowedTokenIsRefused() throws Exception {
        List<String> flags = new ArrayList<>(sandbox.enableEbpf(CgroupDriver.CGROUPFS));
        flags.addAll(List.of("--on-exit=remove", "--container-credentials=on"));
        TokenPod pod = TokenPod.create(sandbox, InterfaceStyle.CALI, "team", "worker", "worker", null);
        TokenPod other = TokenPod.create(sandbox, InterfaceStyle.ENI, "team", "other", "default", "app-other");
        AgentProcess agent = sandbox.startAgent(flags.toArray(String[]::new));
        assertEquals("", sandbox.nodeRuleset(), "no netfilter rule: the cgroup program does the redirect");
        assertEquals(1, CgroupRedirect.attachedPrograms(sandbox.podCgroup().orElseThrow()));

        Command.Result r = PodClients.nodeSdk(sandbox, pod.net(), nodeClient, pod.env());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.stdout().contains("Arn=arn:aws:sts::" + Sandbox.ACCOUNT + ":assumed-role/app-worker/team.worker"), r.output());
        assertTrue(agent.log().contains("\"req.path\":\"/v1/credentials\",\"req.remote\":\"" + pod.net().ip() + "\""), agent.log());

        // The worker's token from the other pod, through the program: still that pod's address, so refused.
        Command.Result borrowed = PodClients.curl(sandbox, other.net(), "-o", "/dev/null", "-w", "%{http_code}",
                "-H", "Authorization: " + Files.readString(pod.tokenFile()), TokenPod.ENDPOINT);
        assertEquals("403", borrowed.stdout(), borrowed.output());

        // A process of the other pod's cgroup inside the worker's network namespace: the worker's address, the
        // worker's token, but the kernel names the other pod. Refused, never the worker's role.
        Command.Result fromOtherCgroup = Command.run("sh", "-c", "echo $$ > " + sandbox.cgroupOf(other.net()).orElseThrow().resolve("cgroup.procs")
                + " && exec ip netns exec " + pod.net().ns().name() + " curl -sS --max-time 5 -w ' %{http_code}' -H 'Authorization: "
                + Files.readString(pod.tokenFile()).strip() + "' " + TokenPod.ENDPOINT);
        assertTrue(fromOtherCgroup.stdout().endsWith(" 403"), fromOtherCgroup.output());
        assertFalse(fromOtherCgroup.stdout().contains("AccessKeyId"), fromOtherCgroup.output());
        // The request's log line is written just after its answer.
        long deadline = System.nanoTime() + 5_000_000_000L;
        String fromWorkerAddress = "\"req.remote\":\"" + pod.net().ip() + "\",\"res.status\":403";
        while (agent.log().lines().noneMatch(l -> l.contains(fromWorkerAddress)) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(agent.log().lines().anyMatch(l -> l.contains(fromWorkerAddress) && l.contains("team/other")
                && l.contains("cgroup but from address")), "the kernel named the other pod by its cgroupfs cgroup: " + agent.log());
        assertTrue(sandbox.cgroupOf(other.net()).orElseThrow().toString().contains("/pod" + other.object().getMetadata().getUid() + "/"),
                "a cgroupfs layout: " + sandbox.cgroupOf(other.net()));
        assertEquals(143, agent.stop());
        assertEquals(0, CgroupRedirect.attachedPrograms(sandbox.podCgroup().orElseThrow()), "--on-exit=remove detaches it");
    }
}
