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
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;

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
            "apps/v1/DaemonSet", DaemonSet.class);

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

    /** Every manifest of a render, strictly typed; fails on an unknown kind or field. */
    public static List<HasMetadata> objects(String rendered) throws IOException {
        return Arrays.stream(rendered.split("(?m)^---\\s*$")).filter(doc -> doc.lines().anyMatch(l -> l.startsWith("kind:")))
                .map(Chart::strict).toList();
    }

    /** One manifest, read as the API server would: its kind's type, no unknown field. */
    public static HasMetadata strict(String manifest) {
        try {
            JsonNode tree = STRICT.readTree(manifest);
            String key = tree.path("apiVersion").asText() + "/" + tree.path("kind").asText();
            Class<? extends HasMetadata> type = KINDS.get(key);
            if (type == null) {
                throw new AssertionError("the chart renders " + key + ", a kind this test does not know yet: add it to Chart.KINDS");
            }
            return STRICT.readValue(manifest, type);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("a manifest Kubernetes would refuse: " + e.getMessage() + "\n" + manifest, e);
        }
    }

    public static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
        if (found.size() != 1) {
            throw new AssertionError("expected one " + type.getSimpleName() + " in " + objects);
        }
        return found.getFirst();
    }
}
