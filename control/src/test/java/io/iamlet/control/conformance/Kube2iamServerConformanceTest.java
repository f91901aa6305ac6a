package io.iamlet.control.conformance;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.Caller;
import io.iamlet.control.CredentialBroker;
import io.iamlet.control.PodRoles;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.testing.FakeAws;
import io.iamlet.control.testing.Pods;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kube2iam's server/integration_test.go and server/server_test.go, ported case by case against iamlet's request
 * path below HTTP (pod index from the mock API server, role policy, credential cache on a fake STS that speaks
 * the real wire format). Each answer's httpStatus is what the pod gets. The HTTP layer itself, including the
 * /healthz case of server_test.go, is MetadataServerTest's; metadata protection (a User-Agent filter) is not
 * implemented on purpose (docs/operations.md).
 */
class Kube2iamServerConformanceTest {
    private static final String NODE = "node-a";

    @RegisterExtension
    final FakeAws aws = new FakeAws();
    private PodIndex index;
    private CredentialCache cache;

    private CredentialBroker broker(RoleSettings settings, Duration errorTtl) throws Exception {
        KubernetesClient client = aws.api().client();
        index = new PodIndex(client, new PodIndex.Settings(NODE, Duration.ofMinutes(30), Duration.ofSeconds(2), true));
        RolePolicy policy = new RolePolicy(settings);
        cache = new CredentialCache(aws.stsSource(), CredentialCache.Settings.defaults().withErrorTtl(errorTtl), Clock.systemUTC(),
                new PodRoles(index, policy)::wants);
        CredentialBroker broker = new CredentialBroker(new PodRoles(index, policy), cache, new PodEventRecorder(client, NODE, Clock.systemUTC(), Duration.ofMinutes(5)), Optional.empty());
        index.start();
        index.awaitSynced(Duration.ofSeconds(10));
        return broker;
    }

    @AfterEach
    void stop() {
        if (index != null) {
            index.close();
        }
        if (cache != null) {
            cache.close();
        }
    }

    private void pod(String namespace, String name, String role, String ip) throws InterruptedException {
        aws.api().client().pods().inNamespace(namespace).resource(Pods.withRole(namespace, name, NODE, role, ip)).create();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (index.pods().stream().noneMatch(p -> p.ips().contains(ip)) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    @Test
    @DisplayName("integration_test.go TestIntegFullRequestChain: annotation → role listing → AssumeRole → credentials")
    void fullRequestChain() throws Exception {
        CredentialBroker broker = broker(RoleSettings.defaults().withBaseArn(FakeAws.BASE_ARN), Duration.ZERO);
        pod("production", "my-service", "my-service-role", "10.10.0.1");
        CredentialBroker.Role role = assertInstanceOf(CredentialBroker.Role.class, broker.roleFor(Caller.at("10.10.0.1")));
        assertEquals("my-service-role", role.decision().annotation());
        CredentialBroker.Granted granted = assertInstanceOf(CredentialBroker.Granted.class, broker.credentialsFor(Caller.at("10.10.0.1"), "my-service-role"));
        assertFalse(granted.credentials().accessKeyId().isEmpty());
    }

    @Test
    @DisplayName("integration_test.go TestIntegNamespaceRestrictionAllowed")
    void namespaceRestrictionAllowed() throws Exception {
        aws.api().client().namespaces().resource(Pods.namespace("restricted-ns", Map.of(RoleSettings.DEFAULT_NAMESPACE_KEY, "[\"allowed-role\"]"))).create();
        CredentialBroker broker = broker(RoleSettings.defaults().withBaseArn(FakeAws.BASE_ARN)
                .withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.GLOB), Duration.ZERO);
        pod("restricted-ns", "pod-allowed", "allowed-role", "10.10.0.2");
        assertInstanceOf(CredentialBroker.Granted.class, broker.credentialsFor(Caller.at("10.10.0.2"), "allowed-role"));
    }

    /** Difference kept on purpose: kube2iam answers 404, iamlet 403 with the reason (docs/operations.md). */
    @Test
    @DisplayName("integration_test.go TestIntegNamespaceRestrictionDenied: 403, not 404 (difference)")
    void namespaceRestrictionDenied() throws Exception {
        aws.api().client().namespaces().resource(Pods.namespace("restricted-ns", Map.of(RoleSettings.DEFAULT_NAMESPACE_KEY, "[\"some-other-role\"]"))).create();
        CredentialBroker broker = broker(RoleSettings.defaults().withBaseArn(FakeAws.BASE_ARN)
                .withNamespaceRestrictions(true, RoleSettings.RestrictionFormat.GLOB), Duration.ZERO);
        pod("restricted-ns", "pod-denied", "unauthorized-role", "10.10.0.3");
        CredentialBroker.Refused refused = assertInstanceOf(CredentialBroker.Refused.class, broker.credentialsFor(Caller.at("10.10.0.3"), "unauthorized-role"));
        assertEquals(403, refused.httpStatus());
        assertTrue(refused.reason().contains("some-other-role"), refused.reason());
        assertEquals(0, aws.sts().calls().stream().filter(c -> c.roleArn().endsWith("unauthorized-role")).count(), "no STS call for a refused role");
    }

    @Test
    @DisplayName("integration_test.go TestIntegRoleCredentialCaching: five requests, one STS call")
    void roleCredentialCaching() throws Exception {
        CredentialBroker broker = broker(RoleSettings.defaults().withBaseArn(FakeAws.BASE_ARN), Duration.ZERO);
        pod("team", "cached", "cached-role", "10.10.0.4");
        for (int i = 0; i < 5; i++) {
            assertInstanceOf(CredentialBroker.Granted.class, broker.credentialsFor(Caller.at("10.10.0.4"), "cached-role"));
        }
        assertEquals(1, aws.sts().calls().stream().filter(c -> c.roleArn().endsWith("cached-role")).count());
    }

    @Test
    @DisplayName("integration_test.go TestIntegErrorCaching: five failing requests within --iam-role-error-ttl, one STS call")
    void errorCaching() throws Exception {
        aws.sts().deny(FakeAws.BASE_ARN + "failing-role");
        CredentialBroker broker = broker(RoleSettings.defaults().withBaseArn(FakeAws.BASE_ARN), Duration.ofMinutes(1));
        pod("team", "failing", "failing-role", "10.10.0.5");
        for (int i = 0; i < 5; i++) {
            CredentialBroker.Refused refused = assertInstanceOf(CredentialBroker.Refused.class, broker.credentialsFor(Caller.at("10.10.0.5"), "failing-role"));
            assertEquals(500, refused.httpStatus(), refused.reason());
        }
        assertEquals(1, aws.sts().calls().stream().filter(c -> c.roleArn().endsWith("failing-role")).count());
    }

    @Test
    @DisplayName("server_test.go TestMetadataProtection 'allows requests with any user-agent': the pod's role is listed")
    void roleListing() throws Exception {
        CredentialBroker broker = broker(RoleSettings.defaults().withBaseArn(FakeAws.BASE_ARN), Duration.ZERO);
        pod("default", "any", "my-role", "10.0.0.1");
        assertEquals("my-role", assertInstanceOf(CredentialBroker.Role.class, broker.roleFor(Caller.at("10.0.0.1"))).decision().annotation());
    }
}
