package io.iamlet.control.identity;

import io.iamlet.control.CredentialBroker;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.credentials.CredentialException;
import io.iamlet.control.credentials.CredentialKey;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodLookup;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.policy.ServiceAccountRole;

import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The container-credentials question: "here is my service-account token, give me my role's credentials".
 * Identity comes from the token; the address only has to agree with it. The token's pod must be a live pod
 * of this node and the request must come from that pod's IP: anything else is refused with 403 and called a
 * possible spoof. The role is decided by the same {@link RolePolicy} as for IMDS (with the ServiceAccount's
 * annotation as a fallback) and the credentials come from the same {@link CredentialCache}, under the same
 * key, so a pod that uses both paths costs one STS session.
 */
public final class ContainerCredentialBroker {
    /** Marks refusals that the log should show as a possible spoof. */
    public static final String SPOOF = "possible spoof: ";

    private final TokenVerifier verifier;
    private final PodIndex index;
    private final RolePolicy policy;
    private final ServiceAccountAnnotations serviceAccounts;
    private final CredentialCache cache;
    private final PodEventRecorder events;
    private final String nodeName;
    /**
     * One at a time, so that the pods of one ServiceAccount (at start-up: all of a namespace's) cost one API read,
     * the rest coming from ServiceAccountAnnotations' cache; the thread ends when there is nothing to do.
     */
    private final ExecutorService serviceAccountPrefetches = new ThreadPoolExecutor(0, 1,
            10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            Thread.ofVirtual().name("prefetch-service-account-role").factory());

    public ContainerCredentialBroker(TokenVerifier verifier, PodIndex index, RolePolicy policy, ServiceAccountAnnotations serviceAccounts,
                                     CredentialCache cache, PodEventRecorder events, String nodeName) {
        this.verifier = verifier;
        this.index = index;
        this.policy = policy;
        this.serviceAccounts = serviceAccounts;
        this.cache = cache;
        this.events = events;
        this.nodeName = nodeName;
        // As CredentialBroker does for annotated pods: a pod whose role comes from its ServiceAccount gets its
        // credentials fetched when it appears, so its first request is a hit. The ServiceAccount is read off the
        // informer's thread, one pod at a time, and only when a pod becomes live or changes account (not on every
        // update or resync).
        index.addListener((before, after) -> {
            if (after != null && after.live() && !ServiceAccountRole.podHasRole(after, policy.settings().roleKey())
                    && (before == null || !before.live() || !before.serviceAccount().equals(after.serviceAccount()))) {
                serviceAccountPrefetches.execute(() -> prefetchServiceAccountRole(after));
            }
        });
    }

    private void prefetchServiceAccountRole(PodInfo pod) {
        try {
            PodInfo judged = ServiceAccountRole.apply(pod, serviceAccounts.of(pod.namespace(), pod.serviceAccount()),
                    policy.settings().roleKey(), policy.settings().roleAnnotationKeys());
            if (policy.decide(judged, index.namespace(pod.namespace())) instanceof RoleDecision.Allowed allowed) {
                cache.prefetch(CredentialKey.of(allowed));
            }
        } catch (RuntimeException e) {
            // Unreadable ServiceAccount or no role: the pod's own request says why, with the status it deserves.
        }
    }

    /** Credentials for the pod the token names, when the request comes from that pod. */
    public CredentialBroker.Answer credentialsFor(String token, String callerIp) throws InterruptedException {
        PodIdentity identity;
        switch (verifier.check(token)) {
            case TokenCheck.Verified v -> identity = v.identity();
            case TokenCheck.Rejected r -> {
                // 400, as the EKS Pod Identity Agent answers a missing, unparsable or expired token: the SDKs read
                // {"code","message"} from a 400 (Go v2 credentials/endpointcreds) and do not retry it.
                return refused(400, "service-account token refused: " + r.reason(), null);
            }
            case TokenCheck.Unavailable u -> {
                return refused(503, "cannot verify service-account tokens now: " + u.reason(), null);
            }
        }
        PodInfo pod;
        switch (bind(identity, callerIp)) {
            case Binding.Bound bound -> pod = bound.pod();
            case Binding.NotBound notBound -> {
                return notBound.refusal();
            }
        }
        PodInfo judged;
        try {
            judged = ServiceAccountRole.podHasRole(pod, policy.settings().roleKey()) ? pod
                    : ServiceAccountRole.apply(pod, serviceAccounts.of(identity.namespace(), identity.serviceAccount()),
                    policy.settings().roleKey(), policy.settings().roleAnnotationKeys());
        } catch (IllegalStateException e) {
            return refused(503, e.getMessage(), pod);
        }
        return switch (policy.decide(judged, index.namespace(pod.namespace()))) {
            case RoleDecision.Denied denied -> {
                denied.annotation().ifPresent(a -> events.invalidAnnotation(pod, a, denied.reason()));
                yield refused(denied.httpStatus(), denied.reason(), pod);
            }
            case RoleDecision.Allowed allowed -> credentials(pod, allowed);
        };
    }

    private sealed interface Binding {
        record Bound(PodInfo pod) implements Binding {
        }

        record NotBound(CredentialBroker.Refused refusal) implements Binding {
        }
    }

    private static Binding notBound(int status, String reason, PodInfo pod) {
        return new Binding.NotBound(refused(status, reason, pod));
    }

    /** The live pod of this node that the identity names, when the request comes from its own address. */
    private Binding bind(PodIdentity identity, String callerIp) throws InterruptedException {
        PodLookup atCaller = index.findWaiting(callerIp);
        if (atCaller instanceof PodLookup.Found(PodInfo pod)) {
            if (identity.podUid().equals(pod.uid()) && identity.namespace().equals(pod.namespace())
                    && identity.podName().equals(pod.name())) {
                return new Binding.Bound(pod);
            }
            return notBound(403, SPOOF + "the token of " + identity + " was sent from " + callerIp + ", the address of pod "
                    + pod.key(), pod);
        }
        if (atCaller instanceof PodLookup.Ambiguous ambiguous) {
            // As on the IMDS path: the address cannot be vouched for, whatever the token says.
            return notBound(409, ambiguous.reason(), null);
        }
        Optional<PodInfo> tokenPod = index.pods().stream().filter(p -> identity.podUid().equals(p.uid())).findFirst();
        if (tokenPod.isPresent() && tokenPod.get().live()) {
            return notBound(403, SPOOF + "the token of " + identity + " (IPs " + String.join(",", tokenPod.get().ips())
                    + ") was sent from " + callerIp + ", which is no pod's address on this node", null);
        }
        return notBound(403, "the token's " + identity + " is not a live pod on node " + nodeName
                + tokenPod.map(p -> " (" + (p.deleting() ? "terminating" : p.phase()) + ")").orElse(" (gone, or on another node)"), null);
    }

    private CredentialBroker.Answer credentials(PodInfo pod, RoleDecision.Allowed allowed) {
        try {
            return new CredentialBroker.Granted(pod, allowed, cache.get(CredentialKey.of(allowed)));
        } catch (CredentialException e) {
            if (e.forPodOwner()) {
                events.assumeRoleFailed(pod, allowed.arn(), e);
            }
            return refused(e.httpStatus(), e.getMessage(), pod);
        }
    }

    private static CredentialBroker.Refused refused(int status, String reason, PodInfo pod) {
        return new CredentialBroker.Refused(status, reason, Optional.ofNullable(pod));
    }
}
