package io.iamlet.control.events;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.iamlet.control.credentials.CredentialException;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.policy.RoleArn;

import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Puts AssumeRole failures where the pod's owner looks (`kubectl describe pod`), not only in the agent's
 * log: a Warning Event on the pod, at most one per pod and role per interval.
 */
public final class PodEventRecorder {
    private static final System.Logger LOG = System.getLogger(PodEventRecorder.class.getName());
    public static final String REASON = "AssumeRoleFailed";

    private final KubernetesClient client;
    private final String nodeName;
    private final Clock clock;
    private final Duration interval;
    private final Map<String, Instant> lastSent = new ConcurrentHashMap<>();

    public PodEventRecorder(KubernetesClient client, String nodeName, Clock clock, Duration interval) {
        this.client = client;
        this.nodeName = nodeName;
        this.clock = clock;
        this.interval = interval;
    }

    /** Records the failure unless one was recorded for this pod and role within the interval. */
    public void assumeRoleFailed(PodInfo pod, RoleArn role, CredentialException failure) {
        Instant now = clock.instant();
        String key = pod.uid() + "|" + role;
        Instant previous = lastSent.get(key);
        if (previous != null && previous.plus(interval).isAfter(now)) {
            return;
        }
        lastSent.put(key, now);
        String message = "iamlet could not assume role " + role + " for this pod: " + failure.getMessage()
                + (failure.accessDenied()
                        ? ". Fix: the role's trust relationship must allow sts:AssumeRole by the node's IAM role"
                          + " (the role iamlet runs with)."
                        : ".");
        String timestamp = DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        Event event = new EventBuilder()
                .withNewMetadata()
                .withNamespace(pod.namespace())
                .withName(pod.name() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE))
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion("v1").withKind("Pod").withNamespace(pod.namespace()).withName(pod.name()).withUid(pod.uid())
                .endInvolvedObject()
                .withType("Warning")
                .withReason(REASON)
                .withMessage(message.length() > 1024 ? message.substring(0, 1024) : message)
                .withFirstTimestamp(timestamp)
                .withLastTimestamp(timestamp)
                .withEventTime(new MicroTime(DateTimeFormatter.ISO_INSTANT.format(now)))
                .withCount(1)
                .withAction("AssumeRole")
                .withReportingComponent("iamlet")
                .withReportingInstance(nodeName)
                .withNewSource().withComponent("iamlet").withHost(nodeName).endSource()
                .build();
        try {
            client.v1().events().inNamespace(pod.namespace()).resource(event).create();
        } catch (KubernetesClientException e) {
            // An Event is a courtesy; failing to record one must not fail the request.
            LOG.log(Level.WARNING, "could not record event on pod {0}: {1}", pod.key(), e.getMessage());
        }
    }
}
