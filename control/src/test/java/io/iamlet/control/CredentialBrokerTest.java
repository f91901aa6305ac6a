package io.iamlet.control;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.Eventually;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.credentials.CredentialKey;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.pods.PodCgroups;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodLookup;
import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.RoleSettings;
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
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/** Pod index + policy + cache + events together, against the mock API server and the fake STS. */
class CredentialBrokerTest {
    private static final String NODE = BrokerStack.NODE;
    private static final String BASE = "arn:aws:iam::111122223333:role/";

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
        stack = BrokerStack.start(aws, RoleSettings.defaults().withBaseArn(BASE));
        index = stack.index();
        cache = stack.cache();
        events = stack.events();
        broker = stack.broker();
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        Eventually.within(Duration.ofSeconds(10), what, condition);
    }

    @Test
    void aPodGetsItsOwnRoleAndNothingElse() throws Exception {
        client.pods().inNamespace("team").resource(Pods.withRole("team", "web", NODE, "reader", "10.2.0.5")).create();
        CredentialBroker.Role role = assertInstanceOf(CredentialBroker.Role.class, broker.roleFor(Caller.at("10.2.0.5")));
        assertEquals("reader", role.decision().annotation());
        CredentialBroker.Granted granted = assertInstanceOf(CredentialBroker.Granted.class, broker.credentialsFor(Caller.at("10.2.0.5"), "reader"));
        assertTrue(granted.credentials().sessionToken().contains("reader"), "credentials of the pod's role");
        assertEquals("team.web", sts.calls().getLast().sessionName());

        CredentialBroker.Refused wrong = assertInstanceOf(CredentialBroker.Refused.class, broker.credentialsFor(Caller.at("10.2.0.5"), "admin"));
        assertEquals(403, wrong.httpStatus());
        assertTrue(wrong.reason().startsWith("Invalid role admin"), wrong.reason());

        CredentialBroker.Refused unknown = assertInstanceOf(CredentialBroker.Refused.class, broker.credentialsFor(Caller.at("10.2.0.99"), "reader"));
        assertEquals(404, unknown.httpStatus());
        assertTrue(unknown.foundPod().isEmpty());
    }

    @Test
    void aPodWithARoleIsPrefetchedSoItsFirstRequestIsAHit() throws Exception {
        client.pods().inNamespace("team").resource(Pods.withRole("team", "early", NODE, "reader", "10.2.0.6")).create();
        eventually("credentials are fetched before any request", () -> sts.assumeRoleCalls() == 1);
        CredentialKey key = new CredentialKey(RoleArn.parse(BASE + "reader").orElseThrow(), "team.early",
                Optional.empty());
        eventually("credentials are in the cache", () -> cache.has(key));
        assertTrue(new PodRoles(index, stack.policy()).wants(key));
        assertInstanceOf(CredentialBroker.Granted.class, broker.credentialsFor(Caller.at("10.2.0.6"), "reader"));
        assertEquals(1, cache.stats().hits());
        assertEquals(0, cache.stats().misses());
        assertEquals(1, sts.assumeRoleCalls());
    }

    @Test
    void accessDeniedIsRecordedOnThePodOncePerInterval() throws Exception {
        sts.deny(BASE + "untrusted");
        client.pods().inNamespace("team").resource(Pods.withRole("team", "app", NODE, "untrusted", "10.2.0.7")).create();
        for (int i = 0; i < 3; i++) {
            CredentialBroker.Refused refused = assertInstanceOf(CredentialBroker.Refused.class, broker.credentialsFor(Caller.at("10.2.0.7"), "untrusted"));
            assertEquals(500, refused.httpStatus());
            assertTrue(refused.reason().contains("AccessDenied"), refused.reason());
        }
        assertTrue(events.drain(Duration.ofSeconds(10)), "the event is sent off the request thread, soon after");
        List<Event> recorded = client.v1().events().inNamespace("team").list().getItems();
        assertEquals(1, recorded.size(), "rate-limited to one event per pod and role: " + recorded);
        Event e = recorded.getFirst();
        assertEquals("Warning", e.getType());
        assertEquals(PodEventRecorder.REASON, e.getReason());
        assertEquals("app", e.getInvolvedObject().getName());
        assertEquals("Pod", e.getInvolvedObject().getKind());
        assertTrue(e.getMessage().contains(BASE + "untrusted") && e.getMessage().contains("trust relationship"), e.getMessage());
    }

    @Test
    void aReusedIpNeverHandsOutThePreviousPodsRole() throws Exception {
        client.pods().inNamespace("team").resource(Pods.pod("team", "old", NODE, "Succeeded",
                Map.of("iam.amazonaws.com/role", "old-role"), "10.2.0.8")).create();
        client.pods().inNamespace("team").resource(Pods.pod("team", "new", NODE, "Pending",
                Map.of("iam.amazonaws.com/role", "new-role"), "10.2.0.8")).create();
        eventually("both pods are indexed", () -> index.pods().size() == 2);
        CredentialBroker.Role role = assertInstanceOf(CredentialBroker.Role.class, broker.roleFor(Caller.at("10.2.0.8")));
        assertEquals("new-role", role.decision().annotation());
        assertEquals(403, assertInstanceOf(CredentialBroker.Refused.class, broker.credentialsFor(Caller.at("10.2.0.8"), "old-role")).httpStatus());
        assertTrue(sts.calls().stream().noneMatch(c -> c.roleArn().endsWith("old-role")), "the finished pod's role is never assumed");
    }

    @Test
    void refusalsCarryThePodForTheLogLine() throws Exception {
        client.pods().inNamespace("team").resource(Pods.pod("team", "plain", NODE, "Running", Map.of(), "10.2.0.9")).create();
        CredentialBroker.Refused refused = assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(Caller.at("10.2.0.9")));
        assertEquals(404, refused.httpStatus());
        assertEquals("team/plain", refused.foundPod().orElseThrow().key());
        assertTrue(refused.reason().contains("has no iam.amazonaws.com/role annotation"), refused.reason());
    }

    private static Optional<PodCgroups.Owner> kernel(Pod pod) {
        return Optional.of(new PodCgroups.Owner.Pod(pod.getMetadata().getUid(), 4242));
    }

    @Test
    void theKernelsPodIsTheCallerWhateverTheIndexHasAtTheAddress() throws Exception {
        var old = client.pods().inNamespace("team").resource(Pods.withRole("team", "old", NODE, "old-role", "10.2.0.9")).create();
        eventually("the index has the old pod", () -> index.find("10.2.0.9") instanceof PodLookup.Found);
        // The new pod on the same address, known to the API server but not (yet) to the index: as after a lagging watch.
        client.pods().inNamespace("team").withName("old").withGracePeriod(0).delete();
        var fresh = Pods.withRole("team", "new", NODE, "new-role", "10.2.0.9");
        index.upsert(Pods.info(old));
        fresh = client.pods().inNamespace("team").resource(fresh).create();
        index.upsert(Pods.info(old));
        CredentialBroker.RoleAnswer answer = broker.roleFor(new Caller("10.2.0.9", Optional.empty(), kernel(fresh)));
        CredentialBroker.Role role = assertInstanceOf(CredentialBroker.Role.class, answer, answer.toString());
        assertEquals("new-role", role.decision().annotation(), "the kernel named the new pod: its role, found through the API server");
        CredentialBroker.Refused tokenOfOld = assertInstanceOf(CredentialBroker.Refused.class,
                broker.roleFor(new Caller("10.2.0.9", Optional.of(old.getMetadata().getUid()), kernel(fresh))));
        assertEquals(403, tokenOfOld.httpStatus(), "the old pod's token from the new pod's cgroup");
    }

    @Test
    void aKernelPodAtAnotherAddressIsRefusedWithAWarningAndACgroupOfNoPodIsRefused() throws Exception {
        var pod = client.pods().inNamespace("team").resource(Pods.withRole("team", "api", NODE, "reader", "10.2.0.20")).create();
        client.pods().inNamespace("team").resource(Pods.withRole("team", "other", NODE, "writer", "10.2.0.21")).create();
        eventually("the index has both", () -> index.find("10.2.0.21") instanceof PodLookup.Found);
        CredentialBroker.Refused mismatch = assertInstanceOf(CredentialBroker.Refused.class,
                broker.credentialsFor(new Caller("10.2.0.21", Optional.empty(), kernel(pod)), "writer"));
        assertEquals(403, mismatch.httpStatus(), mismatch.reason());
        eventually("a Warning Event on the pod the kernel named", () -> client.v1().events().inNamespace("team").list().getItems().stream()
                .anyMatch(e -> PodEventRecorder.IDENTITY_MISMATCH.equals(e.getReason()) && "api".equals(e.getInvolvedObject().getName())));
        CredentialBroker.Refused noPod = assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(new Caller("10.2.0.20", Optional.empty(), Optional.of(new PodCgroups.Owner.NoPod(7)))));
        assertEquals(403, noPod.httpStatus());
        CredentialBroker.Refused unknownUid = assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(new Caller("10.2.0.20", Optional.empty(), Optional.of(new PodCgroups.Owner.Pod("no-such-uid", 8)))));
        assertEquals(403, unknownUid.httpStatus(), unknownUid.reason());
    }

    @Test
    void aHostNetworkPodNamedByTheKernelGetsItsOwnRoleAtTheNodesAddress() throws Exception {
        var host = Pods.withRole("team", "exporter", NODE, "exporter-role", "10.0.0.1");
        host.getSpec().setHostNetwork(true);
        host = client.pods().inNamespace("team").resource(host).create();
        assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(Caller.at("10.0.0.1")), "by address, a hostNetwork pod is no one");
        CredentialBroker.RoleAnswer answer = broker.roleFor(new Caller("10.0.0.1", Optional.empty(), kernel(host)));
        CredentialBroker.Role role = assertInstanceOf(CredentialBroker.Role.class, answer, answer.toString());
        assertEquals("exporter-role", role.decision().annotation());
    }

    /**
     * The node's credentials only where the namespace says so ({@link PodRoles#HOST_NETWORK_NODE_CREDENTIALS}), only
     * to hostNetwork pods with no role annotation, and only for a pod the kernel named.
     */
    @Test
    void onlyANamespacesOptInLetsItsUnannotatedHostNetworkPodsKeepTheNodesCredentials() throws Exception {
        client.namespaces().resource(Pods.namespace("infra", Map.of(PodRoles.HOST_NETWORK_NODE_CREDENTIALS, "true"))).create();
        client.namespaces().resource(Pods.namespace("apps", Map.of(PodRoles.HOST_NETWORK_NODE_CREDENTIALS, "yes"))).create();
        eventually("both namespaces indexed", () -> index.namespace("infra").isPresent() && index.namespace("apps").isPresent());
        var daemon = hostNetworkPod("infra", "aws-node", Map.of());
        var annotated = hostNetworkPod("infra", "csi-node", Map.of("iam.amazonaws.com/role", "csi-role"));
        var elsewhere = hostNetworkPod("apps", "exporter", Map.of());
        var ordinary = client.pods().inNamespace("infra").resource(Pods.pod("infra", "web", NODE, "Running", Map.of(), "10.2.0.40")).create();

        CredentialBroker.NodeRole node = assertInstanceOf(CredentialBroker.NodeRole.class,
                broker.roleFor(new Caller("10.0.0.1", Optional.empty(), kernel(daemon))));
        assertEquals("aws-node", node.pod().name());
        assertInstanceOf(CredentialBroker.NodeRole.class, broker.credentialsFor(new Caller("10.0.0.1", Optional.empty(), kernel(daemon)),
                "whatever-the-node-lists"));
        assertEquals("csi-role", assertInstanceOf(CredentialBroker.Role.class,
                broker.roleFor(new Caller("10.0.0.1", Optional.empty(), kernel(annotated)))).decision().annotation(), "its own role wins");
        assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(new Caller("10.0.0.1", Optional.empty(), kernel(elsewhere))),
                "only \"true\" opts in; without a default role: a refusal");
        assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(new Caller("10.2.0.40", Optional.empty(), kernel(ordinary))),
                "a pod of the pods' network: no role, no default: refused");
        assertInstanceOf(CredentialBroker.Refused.class, broker.roleFor(Caller.at("10.0.0.1")), "by address, a hostNetwork pod is no one");
    }

    private io.fabric8.kubernetes.api.model.Pod hostNetworkPod(String namespace, String name, Map<String, String> annotations) {
        var pod = Pods.pod(namespace, name, NODE, "Running", annotations, "10.0.0.1");
        pod.getSpec().setHostNetwork(true);
        return client.pods().inNamespace(namespace).resource(pod).create();
    }
}
