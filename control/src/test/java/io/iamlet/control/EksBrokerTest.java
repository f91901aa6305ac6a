package io.iamlet.control;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.policy.SessionTagSettings;
import io.iamlet.control.testing.BrokerStack;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Session tags, chaining and session policies through the pod index, policy, cache and events, with --session-tags on. */
class EksBrokerTest {
    private static final String NODE = BrokerStack.NODE;
    private static final String BASE = FakeAws.BASE_ARN;

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private KubernetesClient client;
    private FakeSts sts;
    private PodIndex index;
    private CredentialCache cache;
    private CredentialBroker broker;
    private PodEventRecorder events;
    private BrokerStack stack;

    @BeforeEach
    void start() throws Exception {
        client = aws.api().client();
        sts = aws.sts();
        stack = BrokerStack.start(aws, RoleSettings.defaults().withBaseArn(BASE)
                .withSessionTags(new SessionTagSettings(true, Optional.of("prod"), Optional.empty())));
        index = stack.index();
        cache = stack.cache();
        events = stack.events();
        broker = stack.broker();
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    private Pod create(String name, String serviceAccount, String ip, Map<String, String> annotations) {
        Pod pod = Pods.pod("team", name, NODE, "Running", annotations, ip);
        pod.getSpec().setServiceAccountName(serviceAccount);
        Pod created = client.pods().inNamespace("team").resource(pod).create();
        // Indexed before it asks: on a loaded machine the watch event can take longer than a lookup waits.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (index.pods().stream().noneMatch(p -> p.name().equals(name))) {
            assertTrue(System.nanoTime() < deadline, "pod " + name + " indexed");
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        return created;
    }

    private CredentialBroker.CredentialsAnswer credentials(String ip, String role) throws Exception {
        return broker.credentialsFor(Caller.at(ip), role);
    }

    @Test
    void twoPodsWithOneRoleGetTwoSessionsEachWithItsOwnTags() throws Exception {
        Pod one = create("web-1", "frontend", "10.3.0.1", Map.of("iam.amazonaws.com/role", "reader"));
        Pod two = create("web-2", null, "10.3.0.2", Map.of("iam.amazonaws.com/role", "reader"));
        var a = assertInstanceOf(CredentialBroker.Granted.class, credentials("10.3.0.1", "reader"));
        var b = assertInstanceOf(CredentialBroker.Granted.class, credentials("10.3.0.2", "reader"));
        assertNotEquals(a.credentials().accessKeyId(), b.credentials().accessKeyId(), "never one pod's tagged session for another");
        List<FakeSts.Call> calls = sts.calls(BASE + "reader");
        assertEquals(2, calls.size(), calls.toString());
        FakeSts.Call forOne = calls.stream().filter(c -> c.sessionName().equals("team.web-1")).findFirst().orElseThrow();
        FakeSts.Call forTwo = calls.stream().filter(c -> c.sessionName().equals("team.web-2")).findFirst().orElseThrow();
        assertEquals(Map.of("eks-cluster-name", "prod", "kubernetes-namespace", "team", "kubernetes-service-account", "frontend",
                "kubernetes-pod-name", "web-1", "kubernetes-pod-uid", one.getMetadata().getUid()), forOne.tags());
        assertEquals(Map.of("eks-cluster-name", "prod", "kubernetes-namespace", "team", "kubernetes-service-account", "default",
                "kubernetes-pod-name", "web-2", "kubernetes-pod-uid", two.getMetadata().getUid()), forTwo.tags());
        assertEquals(forOne.tags().keySet(), Set.copyOf(forOne.transitiveKeys()));
        // Asked again, each pod gets its own session back from the cache.
        assertEquals(a.credentials(), assertInstanceOf(CredentialBroker.Granted.class, credentials("10.3.0.1", "reader")).credentials());
        assertEquals(b.credentials(), assertInstanceOf(CredentialBroker.Granted.class, credentials("10.3.0.2", "reader")).credentials());
        assertEquals(2, sts.calls(BASE + "reader").size());
    }

    @Test
    void aBadSessionPolicyIsRefusedWithAWarningEventAndNeverSent() throws Exception {
        create("bad-policy", "default", "10.3.0.3", Map.of("iam.amazonaws.com/role", "reader",
                RoleSettings.SESSION_POLICY_KEY, "{\"Statement\": [ {\"Effect\": \"Allow\", }"));
        var refused = assertInstanceOf(CredentialBroker.Refused.class, credentials("10.3.0.3", "reader"));
        assertEquals(400, refused.httpStatus(), refused.reason());
        assertTrue(refused.reason().contains("not well-formed JSON"), refused.reason());
        assertTrue(sts.calls().stream().noneMatch(c -> c.sessionName().equals("team.bad-policy")), "nothing is sent to STS");
        assertTrue(events.drain(Duration.ofSeconds(10)));
        Event e = client.v1().events().inNamespace("team").list().getItems().stream()
                .filter(x -> x.getInvolvedObject().getName().equals("bad-policy")).findFirst().orElseThrow();
        assertEquals("Warning", e.getType());
        assertEquals(PodEventRecorder.INVALID_ANNOTATION, e.getReason());
        assertTrue(e.getMessage().contains(RoleSettings.SESSION_POLICY_KEY) && e.getMessage().contains("not well-formed JSON"), e.getMessage());
    }

    @Test
    void aTargetRoleThatRefusesTheFirstRoleGetsAnEventNamingTheChainNotTheNodesRole() throws Exception {
        sts.deny(BASE + "data-writer");
        create("chained", "default", "10.3.0.5", Map.of("iam.amazonaws.com/role", "reader", RoleSettings.TARGET_ROLE_KEY, "data-writer"));
        var refused = assertInstanceOf(CredentialBroker.Refused.class, credentials("10.3.0.5", "reader"));
        assertEquals(500, refused.httpStatus(), refused.reason());
        assertTrue(events.drain(Duration.ofSeconds(10)));
        Event e = client.v1().events().inNamespace("team").list().getItems().stream()
                .filter(x -> x.getInvolvedObject().getName().equals("chained")).findFirst().orElseThrow();
        assertEquals("Warning", e.getType());
        assertEquals(PodEventRecorder.REASON, e.getReason());
        assertTrue(e.getMessage().contains("the trust policy of " + BASE + "data-writer must allow sts:AssumeRole by " + BASE + "reader"),
                e.getMessage());
        assertFalse(e.getMessage().contains("node's IAM role"), "the node's role is not the caller of a chain's second link: " + e.getMessage());
    }

    @Test
    void aRoleWithoutTagSessionGetsARefusalAndAnEventNamingBothFixes() throws Exception {
        sts.refuseTagSession(BASE + "legacy");
        create("legacy-app", "default", "10.3.0.4", Map.of("iam.amazonaws.com/role", "legacy"));
        var refused = assertInstanceOf(CredentialBroker.Refused.class, credentials("10.3.0.4", "legacy"));
        assertEquals(500, refused.httpStatus());
        assertTrue(refused.reason().contains("sts:TagSession"), refused.reason());
        assertTrue(events.drain(Duration.ofSeconds(10)));
        Event e = client.v1().events().inNamespace("team").list().getItems().stream()
                .filter(x -> x.getInvolvedObject().getName().equals("legacy-app")).findFirst().orElseThrow();
        assertEquals(PodEventRecorder.REASON, e.getReason());
        assertTrue(e.getMessage().contains("sts:TagSession") && e.getMessage().contains("trust policy")
                && e.getMessage().contains(RoleSettings.SESSION_TAGS_KEY + ": \"false\""), e.getMessage());
        assertTrue(sts.calls(BASE + "legacy").stream().allMatch(c -> !c.tags().isEmpty()), "never retried without tags");

        // The documented fix on the pod: it opts out, and gets its role without tags.
        client.pods().inNamespace("team").withName("legacy-app").edit(p -> {
            p.getMetadata().getAnnotations().put(RoleSettings.SESSION_TAGS_KEY, "false");
            return p;
        });
        // The watch event first (CI once ran 30 s without the pod being served, cause not seen): then the answer, named if wrong.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (index.pods().stream().noneMatch(p -> p.name().equals("legacy-app")
                && "false".equals(p.annotations().get(RoleSettings.SESSION_TAGS_KEY)))) {
            assertTrue(System.nanoTime() < deadline, "the edit reaches the pod index");
            Thread.sleep(20);
        }
        CredentialBroker.CredentialsAnswer answer;
        while (!((answer = credentials("10.3.0.4", "legacy")) instanceof CredentialBroker.Granted)) {
            assertTrue(System.nanoTime() < deadline, "the opted-out pod is served; last answer: " + answer
                    + "; STS calls: " + sts.calls(BASE + "legacy"));
            Thread.sleep(20);
        }
        assertTrue(sts.calls(BASE + "legacy").getLast().tags().isEmpty());
    }
}
