package io.iamlet.control.testing;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.SlimPod;

import java.util.Arrays;
import java.util.Map;
import java.util.UUID;

/** Pod and namespace objects as the API server would hold them, for tests. */
public final class Pods {
    private static final KubernetesSerialization JSON = new KubernetesSerialization();

    private Pods() {
    }

    /** {@code pod} as the agent reads it: its JSON, as the API server would send it, parsed into a {@link SlimPod}. */
    public static SlimPod slim(Pod pod) {
        return JSON.unmarshal(JSON.asJson(pod), SlimPod.class);
    }

    /** What the agent's index makes of {@code pod}. */
    public static PodInfo info(Pod pod) {
        return PodInfo.of(slim(pod));
    }

    public static Pod pod(String namespace, String name, String node, String phase, Map<String, String> annotations, String... ips) {
        return new PodBuilder()
                .withNewMetadata().withNamespace(namespace).withName(name).withUid(UUID.randomUUID().toString())
                .withAnnotations(annotations).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("app").withImage("app").endContainer().endSpec()
                .withNewStatus().withPhase(phase).withPodIP(ips.length > 0 ? ips[0] : null)
                .withPodIPs(Arrays.stream(ips).map(PodIP::new).toList()).endStatus()
                .build();
    }

    public static Pod withRole(String namespace, String name, String node, String role, String... ips) {
        return pod(namespace, name, node, "Running", Map.of("iam.amazonaws.com/role", role), ips);
    }

    public static Namespace namespace(String name, Map<String, String> annotations) {
        return new NamespaceBuilder().withNewMetadata().withName(name).withAnnotations(annotations).endMetadata().build();
    }
}
