package io.iamlet.control.pods;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonGetter;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

import java.util.List;
import java.util.Map;

/**
 * A core/v1 Pod as the agent reads it from the API server: namespace, name, uid, resourceVersion,
 * deletionTimestamp, annotations, spec.nodeName, spec.hostNetwork, spec.serviceAccountName, status.phase, podIP
 * and podIPs. Jackson skips every other field while it parses.
 * <p>
 * Why not fabric8's Pod: parsing into it builds deserializers for the whole pod model (containers, volumes,
 * probes, affinity: hundreds of classes) in a fresh JVM, on the start path before readiness, and keeps
 * everything a real pod carries (managedFields alone are KiBs) until the informer's store drops it
 * (docs/performance.md, 2026-12-04).
 */
@Group("")
@Version("v1")
@Kind("Pod")
@Plural("pods")
// KubernetesResource names fabric8's deserializer, which picks the class by kind (v1 Pod: fabric8's Pod); this
// class is read as itself, as fabric8's own model classes are.
@JsonDeserialize(using = JsonDeserializer.None.class)
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonAutoDetect(getterVisibility = Visibility.NONE, isGetterVisibility = Visibility.NONE, setterVisibility = Visibility.NONE,
        fieldVisibility = Visibility.NONE, creatorVisibility = Visibility.NONE)
public final class SlimPod implements HasMetadata, Namespaced {
    private ObjectMeta metadata = new ObjectMeta();
    @JsonProperty("spec")
    private Spec spec;
    @JsonProperty("status")
    private Status status;

    /** The pod's spec, as far as the agent reads it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Spec(String nodeName, Boolean hostNetwork, String serviceAccountName) {
    }

    /** The pod's status, as far as the agent reads it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Status(String phase, String podIP, List<Address> podIPs) {
    }

    /** One of status.podIPs. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Address(String ip) {
    }

    /** metadata, as far as the agent reads it: the rest (managedFields, labels, owners) is never parsed. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Meta(String namespace, String name, String uid, String resourceVersion, String deletionTimestamp,
                Map<String, String> annotations) {
    }

    public SlimPod() {
    }

    @JsonSetter("metadata")
    private void readMetadata(Meta m) {
        ObjectMeta meta = new ObjectMeta();
        if (m != null) {
            meta.setNamespace(m.namespace());
            meta.setName(m.name());
            meta.setUid(m.uid());
            meta.setResourceVersion(m.resourceVersion());
            meta.setDeletionTimestamp(m.deletionTimestamp());
            meta.setAnnotations(m.annotations());
        }
        metadata = meta;
    }

    @JsonGetter("metadata")
    private Meta writeMetadata() {
        return new Meta(metadata.getNamespace(), metadata.getName(), metadata.getUid(), metadata.getResourceVersion(),
                metadata.getDeletionTimestamp(), metadata.getAnnotations());
    }

    @Override
    public ObjectMeta getMetadata() {
        return metadata;
    }

    @Override
    public void setMetadata(ObjectMeta metadata) {
        this.metadata = metadata;
    }

    @JsonGetter("apiVersion")
    @Override
    public String getApiVersion() {
        return "v1";
    }

    /** Always v1: the API server's word is not needed to know it. */
    @Override
    public void setApiVersion(String version) {
    }

    @JsonGetter("kind")
    @Override
    public String getKind() {
        return "Pod";
    }

    /** Null when the API server sent none. */
    public Spec spec() {
        return spec;
    }

    /** Null when the API server sent none (a pod not yet scheduled). */
    public Status status() {
        return status;
    }

    /** Whether the pod is scheduled on {@code nodeName}. */
    public boolean onNode(String nodeName) {
        return spec != null && nodeName.equals(spec.nodeName());
    }
}
