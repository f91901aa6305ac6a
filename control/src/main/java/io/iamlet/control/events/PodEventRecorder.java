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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.time.temporal.ChronoUnit;

/**
 * Puts AssumeRole failures where the pod's owner looks (`kubectl describe pod`), not only in the agent's
 * log: a Warning Event on the pod, at most one per pod and role per interval.
 * <p>
 * Events are sent by one thread of the recorder's own, never on the pod's request thread: an API server that
 * is slow or down must not delay the answer to a pod. The queue in front of it is bounded and drops (and
 * counts) what does not fit, and the rate-limit memory is bounded too: entries older than the interval go
 * when it fills, and while it is full of recent ones new events are dropped, which protects the API server
 * from a node full of failing pods as well.
 */
public final class PodEventRecorder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PodEventRecorder.class.getName());
    public static final String REASON = "AssumeRoleFailed";
    public static final String INVALID_ANNOTATION = "InvalidAnnotation";
    public static final int DEFAULT_QUEUE = 256;
    public static final int DEFAULT_TRACKED = 4096;

    private final KubernetesClient client;
    private final String nodeName;
    private final Clock clock;
    private final Duration interval;
    private final int maxTracked;
    private final Map<String, Instant> lastSent = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor sender;
    private final AtomicLong dropped = new AtomicLong();

    public PodEventRecorder(KubernetesClient client, String nodeName, Clock clock, Duration interval) {
        this(client, nodeName, clock, interval, DEFAULT_QUEUE, DEFAULT_TRACKED);
    }

    /**
     * @param queueCapacity events waiting for the sender at most; more are dropped and counted
     * @param maxTracked    pod-and-role pairs remembered for the rate limit at most
     */
    public PodEventRecorder(KubernetesClient client, String nodeName, Clock clock, Duration interval, int queueCapacity, int maxTracked) {
        if (queueCapacity < 1 || maxTracked < 1) {
            throw new IllegalArgumentException("event queue and tracking limits must be positive");
        }
        this.client = client;
        this.nodeName = nodeName;
        this.clock = clock;
        this.interval = interval;
        this.maxTracked = maxTracked;
        this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queueCapacity),
                Thread.ofPlatform().daemon().name("pod-events").factory(), (task, executor) -> dropped.incrementAndGet());
    }

    /** Events not sent because the queue was full or too many pods were being remembered. */
    public long dropped() {
        return dropped.get();
    }

    /** How many pod-and-role pairs the rate limit remembers now (at most maxTracked). */
    public int tracked() {
        return lastSent.size();
    }

    /** Records the failure unless one was recorded for this pod and role within the interval. */
    public void assumeRoleFailed(PodInfo pod, RoleArn role, CredentialException failure) {
        String fix;
        if (failure.namesFix()) {
            fix = ""; // StsCredentialSource said what to change: sts:TagSession, a chained target's trust, a session policy
        } else if (failure.accessDenied()) {
            fix = ". Fix: the role's trust relationship must allow sts:AssumeRole by the node's IAM role (the role iamlet runs with).";
        } else {
            fix = ".";
        }
        warn(pod, pod.uid() + "|" + role, REASON, "AssumeRole", "iamlet could not assume role " + role + " for this pod: "
                + failure.getMessage() + fix);
    }

    /** A pod annotation iamlet cannot act on (a malformed session policy, ...): the pod gets no credentials until it is fixed. */
    public void invalidAnnotation(PodInfo pod, String annotation, String reason) {
        warn(pod, pod.uid() + "|" + annotation, INVALID_ANNOTATION, "Validate", "iamlet refused this pod's " + annotation
                + " annotation: " + reason);
    }

    /**
     * Records that a connection came from this pod's cgroup (so the kernel names it as the caller) but from
     * an address the API server does not give it: it was refused.
     */
    public void identityMismatch(PodInfo pod, String address) {
        warn(pod, pod.uid() + "|identity|" + address, IDENTITY_MISMATCH, "GetCredentials", "iamlet refused a metadata request from"
                + " this pod's cgroup that came from address " + address + ", which is not this pod's (" + String.join(", ", pod.ips())
                + "): the kernel and the address name different callers.");
    }

    public static final String IDENTITY_MISMATCH = "IdentityMismatch";

    /** A Warning Event on the pod, unless one with {@code rateKey} was recorded within the interval. */
    private void warn(PodInfo pod, String rateKey, String reason, String action, String message) {
        Instant now = clock.instant();
        if (!due(rateKey, now)) {
            return;
        }
        try {
            sender.execute(() -> send(pod, event(pod, reason, action, message, now)));
        } catch (RejectedExecutionException e) {
            dropped.incrementAndGet();
        }
    }

    /** Whether an Event with {@code rateKey} is due now (and if so, it is counted as sent); a full table drops it. */
    private boolean due(String rateKey, Instant now) {
        Instant previous = lastSent.get(rateKey);
        if (previous != null && previous.plus(interval).isAfter(now)) {
            return false;
        }
        if (previous == null && lastSent.size() >= maxTracked) {
            lastSent.values().removeIf(sent -> !sent.plus(interval).isAfter(now));
            if (lastSent.size() >= maxTracked) {
                dropped.incrementAndGet();
                return false;
            }
        }
        lastSent.put(rateKey, now);
        return true;
    }

    private Event event(PodInfo pod, String reason, String action, String message, Instant now) {
        String timestamp = DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS));
        return new EventBuilder()
                .withNewMetadata()
                .withNamespace(pod.namespace())
                .withName(pod.name() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE))
                .endMetadata()
                .withNewInvolvedObject()
                .withApiVersion("v1").withKind("Pod").withNamespace(pod.namespace()).withName(pod.name()).withUid(pod.uid())
                .endInvolvedObject()
                .withType("Warning")
                .withReason(reason)
                .withMessage(message.length() > 1024 ? message.substring(0, 1024) : message)
                .withFirstTimestamp(timestamp)
                .withLastTimestamp(timestamp)
                .withEventTime(new MicroTime(DateTimeFormatter.ISO_INSTANT.format(now)))
                .withCount(1)
                .withAction(action)
                .withReportingComponent("iamlet")
                .withReportingInstance(nodeName)
                .withNewSource().withComponent("iamlet").withHost(nodeName).endSource()
                .build();
    }

    private void send(PodInfo pod, Event event) {
        try {
            client.v1().events().inNamespace(pod.namespace()).resource(event).create();
        } catch (KubernetesClientException | IllegalStateException e) {
            // An Event is a courtesy; failing to record one (an API error, a client closed at shutdown) must not fail anything.
            LOG.log(Level.WARNING, "could not record event on pod {0}: {1}", pod.key(), e.getMessage());
        }
    }

    /** Waits until the events queued so far are sent (or failed); for tests and an orderly stop. */
    public boolean drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sender.getQueue().size() + sender.getActiveCount() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /** Stops the sender: events already queued get {@link #CLOSE_GRACE} to leave, then the rest are dropped and counted. */
    @Override
    public void close() {
        sender.shutdown();
        try {
            if (!sender.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                dropped.addAndGet(sender.shutdownNow().size());
            }
        } catch (InterruptedException e) {
            dropped.addAndGet(sender.shutdownNow().size());
            Thread.currentThread().interrupt();
        }
    }

    /** How long {@link #close} waits for queued events: a stop must not hang on a slow API server. */
    public static final Duration CLOSE_GRACE = Duration.ofSeconds(2);
}
