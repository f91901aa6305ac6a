package io.iamlet.e2e;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.iamlet.agent.AgentConfig;
import io.iamlet.agent.cli.RunCommandTestAccess;
import io.iamlet.netlink.redirect.InterfacePattern;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What deploy/ ships: the Helm chart rendered with helm-java, its arguments run through the agent's own
 * flag parser, the kustomize base kept equal to the chart, and the Dockerfile's paths checked against the
 * build. (Building the image needs a Docker engine, which CI machines lack: see test-e2e/kind.)
 */
class DeployTest {
    private static final Path ROOT = Launcher.repositoryRoot();
    private static final Path CHART = ROOT.resolve("deploy/helm/iamlet");
    private static final Path KUSTOMIZE_BASE = ROOT.resolve("deploy/kustomize/iamlet.yaml");
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    private static String render(Map<String, String> values) throws IOException {
        Path file = Files.createTempFile("iamlet-values", ".yaml");
        try {
            StringBuilder yaml = new StringBuilder();
            values.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
            Files.writeString(file, yaml);
            return new Helm(CHART).template().withName("iamlet").withNamespace("kube-system").withValuesFile(file).call();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static List<HasMetadata> objects(String rendered) {
        return Arrays.stream(rendered.split("(?m)^---\\s*$")).filter(doc -> doc.lines().anyMatch(l -> l.startsWith("kind:")))
                .map(doc -> (HasMetadata) YAML.unmarshal(doc)).toList();
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        assertEquals(1, found.size(), "one " + type.getSimpleName() + " in " + objects);
        return found.getFirst();
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
        assertEquals("10.0.3.7", config.hostIp());
        assertEquals("nftables", config.backend().label());
        assertEquals(AgentConfig.OnExit.AUTO, config.onExit());
        assertEquals(List.of(InterfacePattern.parse("cali+")), config.redirect().orElseThrow().interfaces());
        assertTrue(config.autoDiscoverBaseArn());
        assertEquals(8182, config.metricsPort());
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
        assertEquals("iptables", config.backend().label());
        assertEquals(AgentConfig.OnExit.REMOVE, config.onExit());
        assertEquals(List.of(InterfacePattern.parse("eni+")), config.redirect().orElseThrow().interfaces());
        assertEquals("fallback", config.roles().defaultRole().orElseThrow());
        assertEquals("arn:aws:iam::123456789012:role/", config.roles().baseArn().orElseThrow().text());
        assertTrue(config.roles().namespaceRestrictions());
        assertEquals(java.util.Set.of("user-data"), config.allowedMetadataPaths());
        assertEquals(java.time.Duration.ofSeconds(30), config.errorTtl());
        assertEquals(8181, config.metricsPort(), "kube2iam's single port");
        assertEquals(1, c.getPorts().size(), "one port when metrics share the app port");
    }

    @Test
    void theEbpfBackendGetsCapBpfTheNodesCgroupsAndItsBpfFilesystem() throws Exception {
        DaemonSet ds = one(objects(render(Map.of("backend", "ebpf", "ebpf", "{cgroup: /sys/fs/cgroup/kubepods.slice}"))), DaemonSet.class);
        var pod = ds.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();
        AgentConfig config = parsed(c);
        assertEquals("ebpf", config.backend().label());
        assertEquals(Path.of("/sys/fs/cgroup/kubepods.slice"), config.cgroup().orElseThrow());
        assertEquals(Path.of("/sys/fs/bpf/iamlet"), config.bpfPinDir());
        assertEquals(List.of("NET_ADMIN", "BPF"), c.getSecurityContext().getCapabilities().getAdd());
        Map<String, String> hostPaths = new java.util.HashMap<>();
        pod.getVolumes().stream().filter(v -> v.getHostPath() != null).forEach(v -> hostPaths.put(v.getName(), v.getHostPath().getPath()));
        Map<String, String> mounts = new java.util.HashMap<>();
        c.getVolumeMounts().forEach(m -> mounts.put(m.getName(), m.getMountPath()));
        assertEquals("/sys/fs/bpf", hostPaths.get("bpffs"));
        assertEquals("/sys/fs/bpf", mounts.get("bpffs"), "the pin directory the agent uses by default is the node's");
        assertEquals("/sys/fs/cgroup", hostPaths.get("cgroup"));
        assertEquals("/sys/fs/cgroup", mounts.get("cgroup"), "--cgroup names a path of the node's hierarchy");
    }

    @Test
    void theClusterRoleGrantsWhatTheAgentReadsAndNothingToWrite() throws Exception {
        ClusterRole role = one(objects(render(Map.of())), ClusterRole.class);
        Map<String, List<String>> verbs = new java.util.HashMap<>();
        for (PolicyRule rule : role.getRules()) {
            for (String resource : rule.getResources()) {
                verbs.merge(resource, rule.getVerbs(), (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
            }
        }
        assertEquals(List.of("get", "list", "watch"), verbs.get("pods"));
        assertEquals(List.of("get", "list", "watch"), verbs.get("namespaces"));
        assertEquals(List.of("get"), verbs.get("daemonsets"), "--on-exit=auto reads its DaemonSet");
        assertTrue(verbs.get("events").contains("create"));
        assertEquals(java.util.Set.of("pods", "namespaces", "events", "daemonsets"), verbs.keySet());
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
    }

    @Test
    void theDockerfileCopiesWhatTheBuildMakesWhereBinIamletLooks() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("deploy/Dockerfile"));
        Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(.+) (\\S+)$").matcher(dockerfile);
        int local = 0;
        while (copy.find()) {
            for (String source : copy.group(1).split(" ")) {
                assertTrue(Files.exists(ROOT.resolve(source)), "Dockerfile copies " + source + ", which does not exist");
                local++;
            }
        }
        assertTrue(local >= 6, "the build stage copies the sources: " + local);
        assertTrue(dockerfile.contains("COPY --from=build /src/agent/target/iamlet.jar /opt/iamlet/iamlet.jar"));
        assertTrue(dockerfile.contains("ENV IAMLET_HOME=/opt/iamlet"));
        assertTrue(Files.readString(ROOT.resolve("bin/iamlet")).contains("${IAMLET_HOME:-}/iamlet.jar"), "bin/iamlet looks in IAMLET_HOME");
        try (JarFile jar = new JarFile(ROOT.resolve("agent/target/iamlet.jar").toFile())) {
            String classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
            for (String entry : classPath.split(" ")) {
                assertTrue(entry.startsWith("lib/"), entry);
                assertTrue(Files.exists(ROOT.resolve("agent/target").resolve(entry)), "the image's lib/ holds " + entry);
            }
        }
        assertTrue(dockerfile.contains("COPY --from=build /src/agent/target/lib/ /opt/iamlet/lib/"));
        assertTrue(dockerfile.contains("libnftnl11"), "the image has libnftnl");
    }
}
