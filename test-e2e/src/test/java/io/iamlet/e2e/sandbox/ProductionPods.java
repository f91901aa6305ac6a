package io.iamlet.e2e.sandbox;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.FieldsV1;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod as a Deployment makes it on a real node, for bin/bench --pod-size=production: an application and a
 * sidecar with environment, ports, probes and resources, the projected service-account token and other volumes,
 * tolerations, an owner, managedFields from the controller and the kubelet, and a status with conditions and
 * container statuses. About 4.7 KiB of JSON (real pods are often larger), where the bench's small pods are 0.3 KiB: what the agent parses at
 * start and on every watch event is mostly this.
 */
final class ProductionPods {
    private ProductionPods() {
    }

    private static FieldsV1 fieldsV1(Map<String, Object> fields) {
        FieldsV1 v1 = new FieldsV1();
        fields.forEach(v1::setAdditionalProperty);
        return v1;
    }

    /** {@code pod} (namespace, name, node, role, address already set) with everything else a real pod carries. */
    static Pod dress(Pod pod) {
        String name = pod.getMetadata().getName();
        String app = "svc-" + (name.hashCode() & 0xff);
        List<EnvVar> env = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            env.add(new EnvVar("SETTING_" + i, "value-of-setting-" + i + "-for-" + app, null));
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("f:metadata", Map.of("f:labels", Map.of("f:app", Map.of(), "f:pod-template-hash", Map.of()),
                "f:ownerReferences", Map.of("k:{\"uid\":\"4b1c\"}", Map.of())));
        fields.put("f:spec", Map.of("f:containers", Map.of("k:{\"name\":\"app\"}", Map.of("f:env", Map.of(), "f:image", Map.of(),
                "f:ports", Map.of(), "f:readinessProbe", Map.of(), "f:resources", Map.of()))));
        return new PodBuilder(pod)
                .editMetadata()
                .withGenerateName(app + "-7d9f8c6b5-")
                .addToLabels(Map.of("app", app, "pod-template-hash", "7d9f8c6b5", "team", "payments", "tier", "backend"))
                .addToAnnotations("kubectl.kubernetes.io/restartedAt", "2026-11-30T08:00:00Z")
                .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName(app + "-7d9f8c6b5")
                .withUid("4b1c2d3e-0000-4000-8000-00000000abcd").withController(true).withBlockOwnerDeletion(true).endOwnerReference()
                .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kube-controller-manager").withOperation("Update")
                                .withApiVersion("v1").withTime("2026-11-30T08:00:00Z").withFieldsType("FieldsV1")
                                .withFieldsV1(fieldsV1(fields)).build(),
                        new ManagedFieldsEntryBuilder().withManager("kubelet").withOperation("Update").withSubresource("status")
                                .withApiVersion("v1").withTime("2026-11-30T08:00:05Z").withFieldsType("FieldsV1")
                                .withFieldsV1(fieldsV1(Map.of("f:status", Map.of("f:conditions", Map.of(), "f:containerStatuses", Map.of(),
                                        "f:podIP", Map.of(), "f:podIPs", Map.of(), "f:startTime", Map.of())))).build())
                .endMetadata()
                .editSpec()
                .withContainers(new ContainerBuilder().withName("app").withImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + app + ":1.42.0")
                                .withEnv(env).addNewPort().withName("http").withContainerPort(8080).withProtocol("TCP").endPort()
                                .withNewResources().addToRequests(Map.of("cpu", new Quantity("250m"), "memory", new Quantity("256Mi")))
                                .addToLimits(Map.of("memory", new Quantity("512Mi"))).endResources()
                                .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort(8080).endHttpGet()
                                .withPeriodSeconds(10).endReadinessProbe()
                                .addNewVolumeMount().withName("kube-api-access").withMountPath("/var/run/secrets/kubernetes.io/serviceaccount")
                                .withReadOnly(true).endVolumeMount()
                                .addNewVolumeMount().withName("config").withMountPath("/etc/" + app).endVolumeMount().build(),
                        new ContainerBuilder().withName("proxy").withImage("docker.io/envoyproxy/envoy:v1.31.0")
                                .withArgs("--config-path", "/etc/envoy/envoy.yaml", "--log-level", "warn")
                                .withNewResources().addToRequests(Map.of("cpu", new Quantity("50m"), "memory", new Quantity("64Mi"))).endResources()
                                .addNewVolumeMount().withName("envoy").withMountPath("/etc/envoy").endVolumeMount().build())
                .withVolumes(new VolumeBuilder().withName("kube-api-access").withNewProjected().addNewSource().withNewServiceAccountToken()
                                .withPath("token").withExpirationSeconds(3607L).endServiceAccountToken().endSource()
                                .addNewSource().withNewConfigMap().withName("kube-root-ca.crt").addNewItem().withKey("ca.crt").withPath("ca.crt")
                                .endItem().endConfigMap().endSource().withDefaultMode(420).endProjected().build(),
                        new VolumeBuilder().withName("config").withNewConfigMap().withName(app + "-config").endConfigMap().build(),
                        new VolumeBuilder().withName("envoy").withNewConfigMap().withName("envoy-" + app).endConfigMap().build(),
                        new VolumeBuilder().withName("scratch").withNewEmptyDir().endEmptyDir().build())
                .withServiceAccountName(app)
                .withTolerations(new TolerationBuilder().withKey("node.kubernetes.io/not-ready").withOperator("Exists")
                                .withEffect("NoExecute").withTolerationSeconds(300L).build(),
                        new TolerationBuilder().withKey("node.kubernetes.io/unreachable").withOperator("Exists")
                                .withEffect("NoExecute").withTolerationSeconds(300L).build())
                .withTerminationGracePeriodSeconds(30L).withDnsPolicy("ClusterFirst").withRestartPolicy("Always")
                .withSchedulerName("default-scheduler").withPriority(0).withEnableServiceLinks(true)
                .endSpec()
                .editStatus()
                .withHostIP("10.0.0.10").withStartTime("2026-11-30T08:00:01Z").withQosClass("Burstable")
                .withConditions(List.of("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled").stream()
                        .map(type -> new PodConditionBuilder().withType(type).withStatus("True")
                                .withLastTransitionTime("2026-11-30T08:00:04Z").build()).toList())
                .withContainerStatuses(List.of("app", "proxy").stream().map(c -> new ContainerStatusBuilder().withName(c).withReady(true)
                        .withRestartCount(0).withStarted(true).withImage(c + ":image").withImageID("sha256:" + "0".repeat(64))
                        .withContainerID("containerd://" + "f".repeat(64)).withNewState().withNewRunning()
                        .withStartedAt("2026-11-30T08:00:03Z").endRunning().endState().build()).toList())
                .endStatus()
                .build();
    }
}
