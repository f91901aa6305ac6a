package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.iamlet.control.testing.FakeImds;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.netlink.testing.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * EKS Pod Identity's role features end to end (issue #25): the real agent with --session-tags in the sandbox,
 * pods asking with the AWS CLI and the AWS SDK for Java through IMDS, and with the SDK through the
 * container-credentials endpoint (Debian's AWS CLI refuses that endpoint's host: SandboxContainerCredentialsE2eTest).
 * The fake STS records what each AssumeRole carried and whose credentials signed it. One sandbox and agent for the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EksRoleFeaturesE2eTest {
    private static final String NS = "eks";
    private static final String CLUSTER_ARN = "arn:aws:eks:eu-west-1:" + Sandbox.ACCOUNT + ":cluster/sandbox";
    private static final String TARGET_ACCOUNT = "444455556666";
    private static final String TARGET = "arn:aws:iam::" + TARGET_ACCOUNT + ":role/data";
    private static final String POLICY = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
            + "\"Resource\":\"arn:aws:s3:::team-bucket/*\"}]}";
    private static final String ROLE_PATH = "/latest/meta-data/iam/security-credentials/";

    private Sandbox sandbox;
    private AgentProcess agent;

    @BeforeAll
    void start() throws Exception {
        sandbox = Sandbox.start();
        sandbox.imdsHopLimit(1); // whatever a pod gets, it got from the agent
        sandbox.namespace(NS, "eks-*", "legacy", "arn:aws:iam::" + TARGET_ACCOUNT + ":role/data");
        sandbox.api().client().serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withNamespace(NS)
                .withName("chained").withAnnotations(Map.of("iam.amazonaws.com/role", "eks-hub", "iam.amazonaws.com/target-role", TARGET,
                        "iam.amazonaws.com/external-id", "ext-from-sa", "iam.amazonaws.com/session-policy", POLICY))
                .endMetadata().build()).create();
        sandbox.sts().refuseTagSession(Sandbox.BASE_ARN + "legacy");
        agent = sandbox.startAgent("--on-exit=remove", "--container-credentials=on", "--session-tags", "--cluster-name=sandbox",
                "--cluster-arn=" + CLUSTER_ARN);
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            assertEquals(143, agent.stop(), "the agent ends on SIGTERM");
        }
        if (sandbox != null) {
            sandbox.close();
        }
    }

    private SandboxPod pod(InterfaceStyle style, String name, Map<String, String> annotations) throws Exception {
        SandboxPod net = sandbox.plugPod(style);
        sandbox.createPodObject(net, NS, name, annotations);
        return net;
    }

    private String uid(String name) {
        return sandbox.api().client().pods().inNamespace(NS).withName(name).get().getMetadata().getUid();
    }

    private Map<String, String> tagsOf(String pod, String serviceAccount, String uid) {
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("eks-cluster-arn", CLUSTER_ARN);
        tags.put("eks-cluster-name", "sandbox");
        tags.put("kubernetes-namespace", NS);
        tags.put("kubernetes-service-account", serviceAccount);
        tags.put("kubernetes-pod-name", pod);
        tags.put("kubernetes-pod-uid", uid);
        return tags;
    }

    private List<FakeSts.Call> callsFor(String roleArn, String pod) {
        return sandbox.sts().calls(roleArn).stream().filter(c -> c.sessionName().equals(NS + "." + pod)).toList();
    }

    private static String assumed(String account, String role, String pod) {
        return "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + NS + "." + pod;
    }

    private static String value(Command.Result r, String key) {
        return r.stdout().lines().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in:\n" + r.output()));
    }

    private static void assertCliArn(Command.Result cli, String arn) {
        assertEquals(0, cli.exitCode(), cli.output());
        assertTrue(cli.stdout().contains("\"Arn\": \"" + arn + "\""), cli.output());
        assertFalse(cli.output().contains(Sandbox.NODE_ROLE), "never the node's role: " + cli.output());
    }

    private List<Event> warnings(String pod) {
        return sandbox.api().client().v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> e.getInvolvedObject().getName().equals(pod) && "Warning".equals(e.getType())).toList();
    }

    private Event awaitWarning(String pod) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (warnings(pod).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "no Warning Event on pod " + pod);
            Thread.sleep(50);
        }
        return warnings(pod).getFirst();
    }

    @Test
    void everyAssumeRoleCarriesThePodsSixTransitiveTags() throws Exception {
        SandboxPod pod = pod(InterfaceStyle.CALI, "tagged", Map.of("iam.amazonaws.com/role", "eks-reader"));
        assertCliArn(PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity"), assumed(Sandbox.ACCOUNT, "eks-reader", "tagged"));
        Command.Result sdk = PodClients.javaSdk(sandbox, pod);
        assertEquals(0, sdk.exitCode(), sdk.output());
        assertEquals(assumed(Sandbox.ACCOUNT, "eks-reader", "tagged"), value(sdk, "Arn"));
        List<FakeSts.Call> calls = callsFor(Sandbox.BASE_ARN + "eks-reader", "tagged");
        assertFalse(calls.isEmpty());
        for (FakeSts.Call call : calls) {
            assertEquals(tagsOf("tagged", "default", uid("tagged")), call.tags());
            assertEquals(List.copyOf(call.tags().keySet()), call.transitiveKeys(), "all six transitive");
            assertEquals(FakeImds.NODE_ACCESS_KEY, call.callerAccessKey(), "signed with the node's own credentials");
        }
    }

    @Test
    void twoPodsWithOneRoleNeverShareTheirTaggedSession() throws Exception {
        SandboxPod one = pod(InterfaceStyle.ENI, "twin-1", Map.of("iam.amazonaws.com/role", "eks-twin"));
        SandboxPod two = pod(InterfaceStyle.DOCKER0, "twin-2", Map.of("iam.amazonaws.com/role", "eks-twin"));
        RawHttp.Response a = RawHttp.get(one.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "eks-twin", Map.of());
        RawHttp.Response b = RawHttp.get(two.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "eks-twin", Map.of());
        assertEquals(200, a.status(), a.toString());
        assertEquals(200, b.status(), b.toString());
        assertNotEquals(a.body().replaceAll(".*\"AccessKeyId\":\"([^\"]+)\".*", "$1"), b.body().replaceAll(".*\"AccessKeyId\":\"([^\"]+)\".*", "$1"),
                "two sessions: " + a.body() + "\n" + b.body());
        assertEquals("twin-1", callsFor(Sandbox.BASE_ARN + "eks-twin", "twin-1").getFirst().tags().get("kubernetes-pod-name"));
        assertEquals("twin-2", callsFor(Sandbox.BASE_ARN + "eks-twin", "twin-2").getFirst().tags().get("kubernetes-pod-name"));
    }

    @Test
    void aTargetRoleIsAssumedWithThePodsRoleAndItsCredentialsAreThePods() throws Exception {
        SandboxPod pod = pod(InterfaceStyle.CALI, "chain", Map.of("iam.amazonaws.com/role", "eks-hub",
                "iam.amazonaws.com/target-role", TARGET, "iam.amazonaws.com/external-id", "ext-42",
                "iam.amazonaws.com/session-policy", POLICY));
        assertCliArn(PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity"), assumed(TARGET_ACCOUNT, "data", "chain"));
        Command.Result sdk = PodClients.javaSdk(sandbox, pod);
        assertEquals(0, sdk.exitCode(), sdk.output());
        assertEquals(assumed(TARGET_ACCOUNT, "data", "chain"), value(sdk, "Arn"));

        FakeSts.Call hub = callsFor(Sandbox.BASE_ARN + "eks-hub", "chain").getFirst();
        FakeSts.Call target = callsFor(TARGET, "chain").getFirst();
        assertEquals(FakeImds.NODE_ACCESS_KEY, hub.callerAccessKey());
        assertNull(hub.externalId(), "the external id is the target's");
        assertNull(hub.policy(), "the policy scopes the credentials the pod gets: the target's");
        assertEquals(tagsOf("chain", "default", uid("chain")), hub.tags());
        assertTrue(target.callerAccessKey().startsWith("ASIAFAKE"), "signed with the hub session's credentials: " + target.callerAccessKey());
        assertEquals("ext-42", target.externalId());
        assertEquals(POLICY, target.policy());
        assertTrue(target.tags().isEmpty(), "tags are inherited, not sent again");
        assertEquals(hub.tags(), target.inheritedTags(), "the target's session carries the pod's tags");
        assertTrue(target.durationSeconds() <= 3600, "a chained session lasts at most an hour");
        // The extended credentials API names the account of the credentials: the target's.
        RawHttp.Response extended = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, "/latest/meta-data/iam/security-credentials-extended/eks-hub",
                Map.of());
        assertEquals(200, extended.status(), extended.toString());
        assertTrue(extended.body().contains("\"AccountId\":\"" + TARGET_ACCOUNT + "\""), extended.body());
    }

    @Test
    void theNamespaceRestrictionsJudgeTheTargetToo() throws Exception {
        SandboxPod pod = pod(InterfaceStyle.ENI, "escape", Map.of("iam.amazonaws.com/role", "eks-hub",
                "iam.amazonaws.com/target-role", "arn:aws:iam::" + TARGET_ACCOUNT + ":role/admin"));
        RawHttp.Response r = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "eks-hub", Map.of());
        assertEquals(403, r.status(), r.toString());
        assertFalse(r.body().contains("AccessKeyId"), r.body());
        assertTrue(sandbox.sts().calls().stream().noneMatch(c -> c.sessionName().equals(NS + ".escape")), "nothing is assumed");
    }

    @Test
    void aMalformedSessionPolicyIsRefusedWithAWarningEvent() throws Exception {
        SandboxPod pod = pod(InterfaceStyle.DOCKER0, "bad-policy", Map.of("iam.amazonaws.com/role", "eks-reader",
                "iam.amazonaws.com/session-policy", "{\"Statement\": [ {\"Effect\": \"Allow\",, } ]"));
        RawHttp.Response r = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "eks-reader", Map.of());
        assertEquals(400, r.status(), r.toString());
        assertFalse(r.body().contains("AccessKeyId"), r.body());
        Command.Result cli = PodClients.awsCli(sandbox, pod, "sts", "get-caller-identity");
        assertNotEquals(0, cli.exitCode(), cli.output());
        assertFalse(cli.output().contains(FakeImds.NODE_ACCESS_KEY) || cli.output().contains(Sandbox.NODE_ROLE), cli.output());
        Event e = awaitWarning("bad-policy");
        assertEquals("InvalidAnnotation", e.getReason());
        assertTrue(e.getMessage().contains("iam.amazonaws.com/session-policy") && e.getMessage().contains("not well-formed JSON"), e.getMessage());
        assertTrue(sandbox.sts().calls().stream().noneMatch(c -> c.sessionName().equals(NS + ".bad-policy")), "never sent to STS");
    }

    @Test
    void aTrustPolicyWithoutTagSessionIsRefusedNamingBothFixesAndTheOptOutWorks() throws Exception {
        SandboxPod pod = pod(InterfaceStyle.CALI, "legacy-app", Map.of("iam.amazonaws.com/role", "legacy"));
        RawHttp.Response r = RawHttp.get(pod.ns(), Sandbox.IMDS_IP, 80, ROLE_PATH + "legacy", Map.of());
        assertNotEquals(200, r.status(), r.toString());
        assertFalse(r.body().contains("AccessKeyId"), r.body());
        Command.Result sdk = PodClients.javaSdk(sandbox, pod);
        assertNotEquals(0, sdk.exitCode(), sdk.output());
        assertFalse(sdk.output().contains(FakeImds.NODE_ACCESS_KEY) || sdk.output().contains("Arn="), sdk.output());
        Event e = awaitWarning("legacy-app");
        assertEquals("AssumeRoleFailed", e.getReason());
        assertTrue(e.getMessage().contains("sts:TagSession") && e.getMessage().contains("trust policy")
                && e.getMessage().contains("iam.amazonaws.com/session-tags: \"false\""), e.getMessage());
        assertTrue(callsFor(Sandbox.BASE_ARN + "legacy", "legacy-app").stream().allMatch(c -> !c.tags().isEmpty()),
                "never retried without tags");

        // The opt-out on a pod of the same role: served, without tags.
        SandboxPod optedOut = pod(InterfaceStyle.ENI, "legacy-optout", Map.of("iam.amazonaws.com/role", "legacy",
                "iam.amazonaws.com/session-tags", "false"));
        assertCliArn(PodClients.awsCli(sandbox, optedOut, "sts", "get-caller-identity"), assumed(Sandbox.ACCOUNT, "legacy", "legacy-optout"));
        assertTrue(callsFor(Sandbox.BASE_ARN + "legacy", "legacy-optout").stream().allMatch(c -> c.tags().isEmpty()));
    }

    /** EKS's association lives on the ServiceAccount: role, target, external id and policy all come from there. */
    @Test
    void theContainerCredentialsEndpointTakesTheServiceAccountsAnnotations() throws Exception {
        TokenPod pod = TokenPod.create(sandbox, InterfaceStyle.DOCKER0, NS, "sa-chain", "chained", null);
        Command.Result sdk = PodClients.javaSdk(sandbox, pod.net(), pod.env());
        assertEquals(0, sdk.exitCode(), sdk.output());
        assertEquals(assumed(TARGET_ACCOUNT, "data", "sa-chain"), value(sdk, "Arn"));
        FakeSts.Call hub = callsFor(Sandbox.BASE_ARN + "eks-hub", "sa-chain").getFirst();
        FakeSts.Call target = callsFor(TARGET, "sa-chain").getFirst();
        assertEquals(tagsOf("sa-chain", "chained", pod.object().getMetadata().getUid()), hub.tags());
        assertEquals("ext-from-sa", target.externalId());
        assertEquals(POLICY, target.policy());
        assertEquals(hub.tags(), target.inheritedTags());
        assertFalse(target.callerAccessKey().equals(FakeImds.NODE_ACCESS_KEY));
        RawHttp.Response document = RawHttp.get(pod.net().ns(), TokenPod.HOST, 80, "/v1/credentials",
                Map.of("Authorization", java.nio.file.Files.readString(pod.tokenFile())));
        assertEquals(200, document.status(), document.toString());
        assertTrue(document.body().contains("\"AccountId\":\"" + TARGET_ACCOUNT + "\""), "the target's account: " + document.body());
    }
}
