package io.iamlet.agent;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.testing.MockApiServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** --on-exit=auto removes only when the agent's own DaemonSet is going away; when unsure, it blocks. */
class OnExitTest {
    private MockApiServer api;
    private KubernetesClient kube;
    private static final Map<String, String> ENV = Map.of("POD_NAME", "iamlet-abcde", "POD_NAMESPACE", "kube-system");

    @BeforeEach
    void start() {
        api = MockApiServer.start();
        kube = api.client();
        kube.apps().daemonSets().inNamespace("kube-system").resource(new DaemonSetBuilder().withNewMetadata().withName("iamlet")
                .withNamespace("kube-system").endMetadata().withNewSpec().withNewSelector().addToMatchLabels("app", "iamlet")
                .endSelector().withNewTemplate().withNewMetadata().addToLabels("app", "iamlet").endMetadata().withNewSpec()
                .addNewContainer().withName("iamlet").withImage("iamlet").endContainer().endSpec().endTemplate().endSpec().build()).create();
        kube.pods().inNamespace("kube-system").resource(new PodBuilder().withNewMetadata().withName("iamlet-abcde")
                .withNamespace("kube-system").addNewOwnerReference().withKind("DaemonSet").withName("iamlet").withApiVersion("apps/v1")
                .withUid("u1").endOwnerReference().endMetadata().withNewSpec().addNewContainer().withName("iamlet").withImage("iamlet")
                .endContainer().endSpec().build()).create();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    @Test
    void blocksDuringAnUpdateAndRemovesWhenTheDaemonSetIsGone() {
        assertFalse(Agent.ownDaemonSetLeaving(kube, ENV), "DaemonSet still there: a rolling update, so block");
        kube.apps().daemonSets().inNamespace("kube-system").withName("iamlet").delete();
        assertTrue(Agent.ownDaemonSetLeaving(kube, ENV), "DaemonSet deleted: an uninstall, so remove");
    }

    @Test
    void withoutTheDownwardApiItCannotKnowAndKeepsPodsSafe() {
        assertFalse(Agent.ownDaemonSetLeaving(kube, Map.of()));
        assertFalse(Agent.ownDaemonSetLeaving(kube, Map.of("POD_NAME", "other", "POD_NAMESPACE", "kube-system")));
    }
}
