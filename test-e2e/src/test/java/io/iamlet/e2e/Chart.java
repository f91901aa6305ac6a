package io.iamlet.e2e;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * deploy/helm/iamlet rendered with helm-java, and its manifests read as the API server reads them: into
 * fabric8's typed objects, refusing any field the Kubernetes type does not have.
 */
public final class Chart {
    public static final Path DIR = Launcher.repositoryRoot().resolve("deploy/helm/iamlet");

    /** The kinds the chart makes, by apiVersion/kind: a new kind must be added here to be checked. */
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/ServiceAccount", ServiceAccount.class,
            "rbac.authorization.k8s.io/v1/ClusterRole", ClusterRole.class,
            "rbac.authorization.k8s.io/v1/ClusterRoleBinding", ClusterRoleBinding.class,
            "rbac.authorization.k8s.io/v1/Role", Role.class,
            "rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class,
            "apps/v1/DaemonSet", DaemonSet.class,
            "v1/Service", Service.class,
            "v1/ConfigMap", ConfigMap.class,
            "v1/Pod", Pod.class);
    /**
     * The Prometheus Operator's kinds: fabric8 has no typed model of them on our class path, so they are read as
     * generic resources and their fields checked by the tests that enable them (ChartOperationsTest).
     */
    private static final java.util.Set<String> CUSTOM_KINDS = java.util.Set.of("monitoring.coreos.com/v1/PodMonitor",
            "monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule");
    /** Where `helm test`'s pods come from: not installed with the release, so not among {@link #objects}. */
    static final String TESTS_SOURCE = "# Source: iamlet/templates/tests/";

    /**
     * fabric8's model classes keep unknown fields in an "additionalProperties" map; without that any-setter an
     * unknown field fails, as the API server's strict field validation refuses it. Scalars are not coerced either
     * (the API server refuses "true" for a boolean), and a key twice is an error.
     */
    private static final YAMLMapper STRICT = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .addModule(new SimpleModule().setDeserializerModifier(new BeanDeserializerModifier() {
                @Override
                public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean, BeanDeserializerBuilder builder) {
                    if (bean.getBeanClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
                        builder.setAnySetter(null);
                    }
                    return builder;
                }
            }))
            .build();

    private Chart() {
    }

    /** `helm template iamlet --namespace kube-system` with these values (each a top-level key and its YAML value). */
    public static String render(Map<String, String> values) throws IOException {
        Path file = Files.createTempFile("iamlet-values", ".yaml");
        try {
            StringBuilder yaml = new StringBuilder();
            values.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
            Files.writeString(file, yaml);
            return new Helm(DIR).template().withName("iamlet").withNamespace("kube-system").withValuesFile(file).call();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Every manifest of a render the release installs (not `helm test`'s pods), strictly typed; fails on an unknown kind or field. */
    public static List<HasMetadata> objects(String rendered) throws IOException {
        return documents(rendered).filter(doc -> !doc.contains(TESTS_SOURCE)).map(Chart::strict).toList();
    }

    /**
     * What `helm test` creates (its pod and the pod's ServiceAccount and RBAC), with these values. helm-java's template leaves hooks out (as the release's manifest
     * does), so a copy of the chart without the hook annotation renders them; the annotation is asserted separately.
     */
    public static List<HasMetadata> tests(Map<String, String> values) throws IOException {
        Path copy = Files.createTempDirectory("iamlet-chart-tests");
        try {
            try (var files = Files.walk(DIR)) {
                for (Path f : files.toList()) {
                    Path target = copy.resolve(DIR.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        String text = Files.readString(f);
                        Files.writeString(target, f.startsWith(DIR.resolve("templates/tests"))
                                ? text.replaceAll("(?m)^\\s*helm\\.sh/hook.*\\n", "") : text);
                    }
                }
            }
            Path file = Files.createTempFile("iamlet-values", ".yaml");
            try {
                StringBuilder yaml = new StringBuilder();
                values.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
                Files.writeString(file, yaml);
                String rendered = new Helm(copy).template().withName("iamlet").withNamespace("kube-system").withValuesFile(file).call();
                return documents(rendered).filter(doc -> doc.contains(TESTS_SOURCE)).map(Chart::strict).toList();
            } finally {
                Files.deleteIfExists(file);
            }
        } finally {
            try (var files = Files.walk(copy)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static java.util.stream.Stream<String> documents(String rendered) {
        return Arrays.stream(rendered.split("(?m)^---\\s*$")).filter(doc -> doc.lines().anyMatch(l -> l.startsWith("kind:")));
    }

    /** One manifest, read as the API server would: its kind's type, no unknown field. */
    public static HasMetadata strict(String manifest) {
        try {
            JsonNode tree = STRICT.readTree(manifest);
            String key = tree.path("apiVersion").asText() + "/" + tree.path("kind").asText();
            if (CUSTOM_KINDS.contains(key)) {
                return new YAMLMapper().readValue(manifest, GenericKubernetesResource.class);
            }
            Class<? extends HasMetadata> type = KINDS.get(key);
            if (type == null) {
                throw new AssertionError("the chart renders " + key + ", a kind this test does not know yet: add it to Chart.KINDS");
            }
            return STRICT.readValue(manifest, type);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("a manifest Kubernetes would refuse: " + e.getMessage() + "\n" + manifest, e);
        }
    }

    /**
     * What an operator's Prometheus loads from the chart: the rendered PrometheusRule's spec (metrics.prometheusRule
     * enabled), which is a rule file ("groups:"); the Prometheus Operator hands Prometheus exactly that.
     */
    public static String prometheusRuleFile() throws IOException {
        List<GenericKubernetesResource> rules = objects(render(Map.of("metrics", "{prometheusRule: {enabled: true}}"))).stream()
                .filter(GenericKubernetesResource.class::isInstance).map(GenericKubernetesResource.class::cast)
                .filter(r -> r.getKind().equals("PrometheusRule")).toList();
        if (rules.size() != 1) {
            throw new AssertionError("expected one PrometheusRule, the chart rendered " + rules.size());
        }
        YAMLMapper yaml = new YAMLMapper();
        return yaml.writeValueAsString(yaml.valueToTree(rules.getFirst().getAdditionalProperties().get("spec")));
    }

    /** The PromQL of every panel of the chart's Grafana dashboard (dashboards/iamlet.json). */
    public static List<String> dashboardQueries() throws IOException {
        List<String> queries = new java.util.ArrayList<>();
        for (JsonNode panel : new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(DIR.resolve("dashboards/iamlet.json"))).get("panels")) {
            if (panel.get("targets") == null || panel.get("targets").isEmpty()) {
                throw new AssertionError("a panel without a query: " + panel.get("title"));
            }
            panel.get("targets").forEach(t -> queries.add(t.get("expr").asText()));
        }
        return queries;
    }

    public static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        if (found.size() != 1) {
            throw new AssertionError("expected one " + type.getSimpleName() + " in " + objects);
        }
        return found.getFirst();
    }
}
