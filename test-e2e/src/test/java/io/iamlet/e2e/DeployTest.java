package io.iamlet.e2e;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.iamlet.agent.AgentConfig;
import io.iamlet.agent.cli.RunCommandTestAccess;
import io.iamlet.redirect.InterfacePattern;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What deploy/ ships: the Helm chart rendered with helm-java for every backend and CNI preset, each manifest
 * read as the API server reads it (typed, unknown fields refused), its arguments run through the agent's own
 * flag parser, its probes on the ports the agent then serves, and the kustomize base kept equal to the chart.
 * The image and the RBAC rules are checked by running the agent from the image: ImageE2eTest.
 */
class DeployTest {
    private static final Path ROOT = Launcher.repositoryRoot();
    private static final Path KUSTOMIZE_BASE = ROOT.resolve("deploy/kustomize/iamlet.yaml");

    private static String render(Map<String, String> values) throws IOException {
        return Chart.render(values);
    }

    private static List<HasMetadata> objects(String rendered) throws IOException {
        return Chart.objects(rendered);
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        return Chart.one(objects, type);
    }

    /** The container's arguments after `run`, parsed exactly as the agent parses them on a node. */
    private static AgentConfig parsed(Container c) {
        assertEquals("run", c.getArgs().getFirst());
        Map<String, String> env = Map.of("HOST_IP", "10.0.3.7", "NODE_NAME", "ip-10-0-3-7.eu-west-1.compute.internal");
        return RunCommandTestAccess.config(env, c.getArgs().subList(1, c.getArgs().size()).toArray(String[]::new));
    }

    @Test
    void theDefaultChartRunsAHostNetworkAgentWithOnlyNetAdminAndFlagsTheAgentAccepts() throws Exception {
        List<HasMetadata> objects = objects(render(Map.of()));
        DaemonSet ds = one(objects, DaemonSet.class);
        var pod = ds.getSpec().getTemplate().getSpec();
        assertTrue(pod.getHostNetwork(), "the agent listens on the node's IP, where the redirect points");
        Container c = pod.getContainers().getFirst();
        assertEquals(List.of("NET_ADMIN"), c.getSecurityContext().getCapabilities().getAdd());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        assertFalse(c.getSecurityContext().getPrivileged());
        Map<String, String> fieldRefs = new java.util.HashMap<>();
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null) {
                fieldRefs.put(e.getName(), e.getValueFrom().getFieldRef().getFieldPath());
            }
        }
        assertEquals(Map.of("HOST_IP", "status.hostIP", "NODE_NAME", "spec.nodeName", "POD_NAME", "metadata.name",
                "POD_NAMESPACE", "metadata.namespace"), fieldRefs);

        AgentConfig config = parsed(c);
        assertEquals("10.0.3.7", config.node().hostIp());
        assertEquals("nftables", config.rules().backend().label());
        assertEquals(AgentConfig.OnExit.AUTO, config.rules().onExit());
        assertEquals(List.of(InterfacePattern.parse("cali+")), config.rules().spec().orElseThrow().interfaces());
        assertTrue(config.credentials().autoDiscoverBaseArn());
        assertEquals(8182, config.serving().metricsPort());
        assertEquals(8182, c.getLivenessProbe().getHttpGet().getPort().getIntVal());
        assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath());
        assertTrue(ds.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds() >= 10,
                "time to swap the rules on SIGTERM");
    }

    @Test
    void chartValuesBecomeFlagsTheAgentAccepts() throws Exception {
        Map<String, String> values = Map.of("backend", "iptables", "hostInterface", "eni+", "onExit", "remove",
                "baseRoleArn", "arn:aws:iam::123456789012:role/", "defaultRole", "fallback", "namespaceRestrictions", "true",
                "imdsV2", "required", "allowMetadataPaths", "[user-data]", "extraArgs", "[\"--iam-role-error-ttl=30s\"]",
                "metricsPort", "8181");
        DaemonSet ds = one(objects(render(values)), DaemonSet.class);
        Container c = ds.getSpec().getTemplate().getSpec().getContainers().getFirst();
        AgentConfig config = parsed(c);
        assertEquals("iptables", config.rules().backend().label());
        assertEquals(AgentConfig.OnExit.REMOVE, config.rules().onExit());
        assertEquals(List.of(InterfacePattern.parse("eni+")), config.rules().spec().orElseThrow().interfaces());
        assertEquals("fallback", config.credentials().roles().defaultRole().orElseThrow());
        assertEquals("arn:aws:iam::123456789012:role/", config.credentials().roles().baseArn().orElseThrow().text());
        assertTrue(config.credentials().roles().namespaceRestrictions());
        assertEquals(java.util.Set.of("user-data"), config.serving().allowedMetadataPaths());
        assertEquals(java.time.Duration.ofSeconds(30), config.credentials().errorTtl());
        assertEquals(8181, config.serving().metricsPort(), "kube2iam's single port");
        assertEquals(1, c.getPorts().size(), "one port when metrics share the app port");
    }

    @Test
    void theEbpfBackendGetsCapBpfTheNodesCgroupsAndItsBpfFilesystem() throws Exception {
        DaemonSet ds = one(objects(render(Map.of("backend", "ebpf", "ebpf", "{cgroup: /sys/fs/cgroup/kubepods.slice}"))), DaemonSet.class);
        var pod = ds.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();
        AgentConfig config = parsed(c);
        assertEquals("ebpf", config.rules().backend().label());
        assertEquals(Path.of("/sys/fs/cgroup/kubepods.slice"), config.rules().cgroup().orElseThrow());
        assertEquals(Path.of("/sys/fs/bpf/iamlet"), config.rules().bpfPinDir());
        assertEquals(List.of("NET_ADMIN", "BPF", "SYS_ADMIN"), c.getSecurityContext().getCapabilities().getAdd(),
                "BPF_PROG_GET_FD_BY_ID needs CAP_SYS_ADMIN: ImageE2eTest runs the agent with these and no more");
        Map<String, String> hostPaths = new java.util.HashMap<>();
        pod.getVolumes().stream().filter(v -> v.getHostPath() != null).forEach(v -> hostPaths.put(v.getName(), v.getHostPath().getPath()));
        Map<String, String> mounts = new java.util.HashMap<>();
        c.getVolumeMounts().forEach(m -> mounts.put(m.getName(), m.getMountPath()));
        assertEquals("/sys/fs/bpf", hostPaths.get("bpffs"));
        assertEquals("/sys/fs/bpf", mounts.get("bpffs"), "the pin directory the agent uses by default is the node's");
        assertEquals("/sys/fs/cgroup", hostPaths.get("cgroup"));
        assertEquals("/sys/fs/cgroup", mounts.get("cgroup"), "--cgroup names a path of the node's hierarchy");
    }

    private static final List<String> BACKENDS = List.of("nftables", "iptables", "ebpf");

    /** The pod interface of each CNI, as values.yaml offers them in its hostInterface comment. */
    private static Map<String, String> cniPresets() throws IOException {
        String line = Files.readAllLines(Chart.DIR.resolve("values.yaml")).stream().filter(l -> l.startsWith("# Calico:"))
                .findFirst().orElseThrow(() -> new AssertionError("values.yaml lists no CNI presets"));
        Map<String, String> presets = new LinkedHashMap<>();
        for (String item : line.substring(2).split(" {2,}")) {
            String[] cniAndInterface = item.split(": ");
            presets.put(cniAndInterface[0], cniAndInterface[1]);
        }
        return presets;
    }

    @Test
    void everyBackendAndCniPresetRendersWhatKubernetesAcceptsWithProbesOnPortsTheAgentServes() throws Exception {
        Map<String, String> presets = cniPresets();
        assertTrue(presets.size() >= 6, "Calico, VPC CNI, Cilium, Weave, flannel, Docker: " + presets);
        for (String backend : BACKENDS) {
            for (var preset : presets.entrySet()) {
                String where = backend + " with " + preset.getKey();
                Map<String, String> values = new LinkedHashMap<>(Map.of("backend", backend, "hostInterface", "\"" + preset.getValue() + "\""));
                if (backend.equals("ebpf")) {
                    // Empty, the agent looks for the kubelet's slice on its node; this machine has none.
                    values.put("ebpf", "{cgroup: /sys/fs/cgroup/kubepods.slice}");
                }
                List<HasMetadata> objects = objects(render(values));
                for (Class<? extends HasMetadata> kind : List.of(ServiceAccount.class, ClusterRole.class, ClusterRoleBinding.class, DaemonSet.class)) {
                    one(objects, kind);
                }
                assertEquals(4, objects.size(), where + ": " + objects);
                Container c = one(objects, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().getFirst();
                AgentConfig config = parsed(c);
                assertEquals(backend, config.rules().backend().label(), where);
                assertEquals(List.of(InterfacePattern.parse(preset.getValue())), config.rules().spec().orElseThrow().interfaces(), where);
                // The agent serves the metadata API on its app port and /healthz, /readyz on its metrics port.
                Set<Integer> served = Set.of(config.serving().appPort(), config.serving().metricsPort());
                assertEquals(served, Set.copyOf(c.getPorts().stream().map(p -> p.getContainerPort()).toList()), where);
                assertEquals(config.serving().metricsPort(), c.getLivenessProbe().getHttpGet().getPort().getIntVal(), where);
                assertEquals(config.serving().metricsPort(), c.getReadinessProbe().getHttpGet().getPort().getIntVal(), where);
                assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath(), where);
                assertEquals("/readyz", c.getReadinessProbe().getHttpGet().getPath(), where);
            }
        }
    }

    /** The strict reading is strict: a misspelt field or a quoted boolean is refused, as the API server refuses it. */
    @Test
    void aManifestKubernetesWouldRefuseIsRefused() throws Exception {
        String daemonSet = java.util.Arrays.stream(render(Map.of()).split("(?m)^---\\s*$"))
                .filter(d -> d.contains("kind: DaemonSet")).findFirst().orElseThrow();
        assertInstanceOf(DaemonSet.class, Chart.strict(daemonSet));
        var misspelt = assertThrows(java.io.UncheckedIOException.class, () -> Chart.strict(daemonSet.replace("imagePullPolicy:", "imagePulPolicy:")));
        assertTrue(misspelt.getMessage().contains("imagePulPolicy"), misspelt.getMessage());
        assertThrows(java.io.UncheckedIOException.class, () -> Chart.strict(daemonSet.replace("hostNetwork: true", "hostNetwork: \"yes\"")));
        assertThrows(java.io.UncheckedIOException.class, () -> Chart.strict(daemonSet.replace("      hostNetwork: true",
                "      hostNetwork: true\n      hostNetwork: false")));
    }

    /** Helm's default render without its "# Source:" comments: what the kustomize base must hold. */
    private static String kustomizeBase() throws IOException {
        return "# Generated from deploy/helm/iamlet with its default values (DeployTest keeps it so); edit the chart, not this.\n"
                + render(Map.of()).lines().filter(l -> !l.startsWith("# Source:")).reduce("", (a, b) -> a + b + "\n").strip() + "\n";
    }

    @Test
    void theKustomizeBaseIsTheChartsDefaultRender() throws Exception {
        String expected = kustomizeBase();
        if (Boolean.getBoolean("iamlet.writeKustomizeBase")) {
            Files.writeString(KUSTOMIZE_BASE, expected);
        }
        assertEquals(expected, Files.readString(KUSTOMIZE_BASE), "deploy/kustomize/iamlet.yaml differs from the chart;"
                + " regenerate it: mvn -pl test-e2e verify -Dtest=DeployTest -Diamlet.writeKustomizeBase=true");
        assertEquals(4, objects(Files.readString(KUSTOMIZE_BASE)).size(), "kustomize applies what Kubernetes accepts");
    }
}
