package io.iamlet.e2e;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.iamlet.agent.AgentConfig;
import io.iamlet.agent.cli.RunCommandTestAccess;
import io.iamlet.control.identity.TokenVerifier;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * How container credentials are deployed: the chart with examples/container-credentials.yaml, and the kustomize
 * component. Their agent arguments go through the agent's own flag parser; their RBAC grants what the endpoint
 * reads (ServiceAccounts) and asks (TokenReview), and the default chart grants neither.
 */
class ContainerCredentialsDeployTest {
    private static final Path ROOT = Launcher.repositoryRoot();
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    private static List<HasMetadata> objects(String rendered) {
        return Arrays.stream(rendered.split("(?m)^---\\s*$")).filter(doc -> doc.lines().anyMatch(l -> l.startsWith("kind:")))
                .map(doc -> (HasMetadata) YAML.unmarshal(doc)).toList();
    }

    private static AgentConfig parsed(List<String> args) {
        return RunCommandTestAccess.config(Map.of("HOST_IP", "10.0.3.7", "NODE_NAME", "ip-10-0-3-7"), args.toArray(String[]::new));
    }

    private static void assertEndpointOn(AgentConfig config) {
        assertTrue(config.serving().containerCredentials().enabled(), "--container-credentials=on");
        assertEquals(Set.of("iamlet", TokenVerifier.EKS_AUDIENCE), config.serving().containerCredentials().audiences());
        assertEquals(TokenVerifier.Mode.AUTO, config.serving().containerCredentials().tokenReview());
    }

    private static List<String> grants(List<PolicyRule> rules, String resource) {
        return rules.stream().filter(r -> r.getResources().contains(resource)).flatMap(r -> r.getVerbs().stream()).toList();
    }

    @Test
    void theChartExampleTurnsTheEndpointOnWithItsRbac() throws Exception {
        List<HasMetadata> objects = objects(new Helm(ROOT.resolve("deploy/helm/iamlet")).template().withName("iamlet")
                .withNamespace("kube-system").withValuesFile(ROOT.resolve("deploy/helm/iamlet/examples/container-credentials.yaml")).call());
        Container c = objects.stream().filter(DaemonSet.class::isInstance).map(DaemonSet.class::cast).findFirst().orElseThrow()
                .getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertEndpointOn(parsed(c.getArgs().subList(1, c.getArgs().size())));
        ClusterRole role = objects.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast).findFirst().orElseThrow();
        assertEquals(List.of("get"), grants(role.getRules(), "serviceaccounts"));
        assertEquals(List.of("create"), grants(role.getRules(), "tokenreviews"));
    }

    @Test
    void theDefaultChartLeavesTheEndpointOffAndGrantsNothingForIt() throws Exception {
        List<HasMetadata> objects = objects(new Helm(ROOT.resolve("deploy/helm/iamlet")).template().withName("iamlet")
                .withNamespace("kube-system").call());
        ClusterRole role = objects.stream().filter(ClusterRole.class::isInstance).map(ClusterRole.class::cast).findFirst().orElseThrow();
        assertEquals(List.of(), grants(role.getRules(), "serviceaccounts"));
        assertEquals(List.of(), grants(role.getRules(), "tokenreviews"));
    }

    /** The component's JSON patches, read as kustomize applies them to the base's DaemonSet and ClusterRole. */
    @Test
    void theKustomizeComponentAddsTheFlagsAndTheRbac() throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> component = YAML.unmarshal(Files.readString(ROOT.resolve(
                "deploy/kustomize/components/container-credentials/kustomization.yaml")), Map.class);
        assertEquals("Component", component.get("kind"));
        List<String> args = new ArrayList<>();
        List<PolicyRule> rules = new ArrayList<>();
        for (Object p : (List<?>) component.get("patches")) {
            Map<?, ?> patch = (Map<?, ?>) p;
            String kind = String.valueOf(((Map<?, ?>) patch.get("target")).get("kind"));
            for (Object op : YAML.unmarshal(String.valueOf(patch.get("patch")), List.class)) {
                Map<?, ?> o = (Map<?, ?>) op;
                assertEquals("add", o.get("op"));
                switch (kind) {
                    case "DaemonSet" -> {
                        assertEquals("/spec/template/spec/containers/0/args/-", o.get("path"));
                        args.add(String.valueOf(o.get("value")));
                    }
                    case "ClusterRole" -> {
                        assertEquals("/rules/-", o.get("path"));
                        rules.add(YAML.convertValue(o.get("value"), PolicyRule.class));
                    }
                    default -> fail("unexpected patch target " + kind);
                }
            }
        }
        assertEndpointOn(parsed(args));
        assertEquals(List.of("get"), grants(rules, "serviceaccounts"));
        assertEquals(List.of("create"), grants(rules, "tokenreviews"));
    }
}
