package io.iamlet.control;

import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.credentials.CredentialException;
import io.iamlet.control.credentials.CredentialKey;
import io.iamlet.control.credentials.Credentials;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.pods.PodCgroups;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodLookup;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.RolePolicy;

import java.util.Optional;
import java.util.function.Predicate;

/**
 * The questions the metadata server asks, answered from the pod index, the role policy and the credential
 * cache: which role has the pod at this IP, and what are its credentials. Every answer is a value the
 * server can log and serve; none of them ever carries the node's own credentials.
 */
public final class CredentialBroker {
    private final PodIndex index;
    private final RolePolicy policy;
    private final CredentialCache cache;
    private final PodEventRecorder events;

    public CredentialBroker(PodIndex index, RolePolicy policy, CredentialCache cache, PodEventRecorder events) {
        this.index = index;
        this.policy = policy;
        this.cache = cache;
        this.events = events;
        // A pod with a role appeared or changed: fetch its credentials now, so its first request is a hit.
        index.addListener((before, after) -> {
            if (after != null && after.live() && decide(after) instanceof RoleDecision.Allowed allowed) {
                cache.prefetch(CredentialKey.of(allowed));
            }
        });
    }

    /** How the refusal of a role that is not the pod's begins (kube2iam's words). */
    public static final String INVALID_ROLE = "Invalid role ";

    /** An answer to the server. */
    public sealed interface Answer {
        /** The pod, when it was found, for the log line (ns.name, pod.iam.role). */
        Optional<PodInfo> foundPod();
    }

    public record Role(PodInfo pod, RoleDecision.Allowed decision) implements Answer {
        public Optional<PodInfo> foundPod() {
            return Optional.of(pod);
        }
    }

    public record Granted(PodInfo pod, RoleDecision.Allowed decision, Credentials credentials) implements Answer {
        public Optional<PodInfo> foundPod() {
            return Optional.of(pod);
        }
    }

    public record Refused(int httpStatus, String reason, Optional<PodInfo> foundPod) implements Answer {
    }

    /** The role of the pod at {@code ip}, for the role listing. */
    public Answer roleFor(String ip) throws InterruptedException {
        return roleFor(ip, Optional.empty());
    }

    /**
     * The role of the pod at {@code ip}; with an IMDSv2 token's pod uid, only if that pod is the one at
     * {@code ip} (else a refusal, never another pod's role).
     */
    public Answer roleFor(String ip, Optional<String> boundUid) throws InterruptedException {
        return roleFor(ip, boundUid, Optional.empty());
    }

    /**
     * The role of the caller: the pod the kernel named by the connection's cgroup when it named one (eBPF
     * backend), whatever pod the index has at {@code ip}; else the pod at {@code ip}.
     */
    public Answer roleFor(String ip, Optional<String> boundUid, Optional<PodCgroups.Owner> kernel) throws InterruptedException {
        PodLookup lookup;
        if (kernel.isPresent()) {
            lookup = kernelCaller(ip, kernel.get());
            if (lookup instanceof PodLookup.Found(PodInfo pod) && boundUid.isPresent() && !boundUid.get().equals(pod.uid())) {
                lookup = new PodLookup.Refused("the token was issued to pod uid " + boundUid.get() + ", but the connection comes from "
                        + pod + "'s cgroup: request a new token");
            }
        } else {
            lookup = boundUid.isPresent() ? index.findWaiting(ip, boundUid.get()) : index.findWaiting(ip);
        }
        if (!(lookup instanceof PodLookup.Found(PodInfo pod))) {
            return refusal(lookup);
        }
        return switch (decide(pod)) {
            case RoleDecision.Allowed allowed -> new Role(pod, allowed);
            case RoleDecision.Denied denied -> {
                denied.annotation().ifPresent(a -> events.invalidAnnotation(pod, a, denied.reason()));
                yield new Refused(denied.httpStatus(), denied.reason(), Optional.of(pod));
            }
        };
    }

    /** Credentials for {@code requestedRole} if that is the role of the pod at {@code ip}. */
    public Answer credentialsFor(String ip, String requestedRole) throws InterruptedException {
        return credentialsFor(ip, requestedRole, Optional.empty());
    }

    public Answer credentialsFor(String ip, String requestedRole, Optional<String> boundUid) throws InterruptedException {
        return credentialsFor(ip, requestedRole, boundUid, Optional.empty());
    }

    public Answer credentialsFor(String ip, String requestedRole, Optional<String> boundUid, Optional<PodCgroups.Owner> kernel)
            throws InterruptedException {
        Answer role = roleFor(ip, boundUid, kernel);
        if (!(role instanceof Role(PodInfo pod, RoleDecision.Allowed allowed))) {
            return role;
        }
        // kube2iam's route takes everything after security-credentials/ (full ARNs and paths have '/') and
        // compares it with the pod's role after making both ARNs.
        if (!allowed.annotation().equals(requestedRole) && !policy.normalise(requestedRole).map(allowed.arn()::equals).orElse(false)) {
            return new Refused(403, INVALID_ROLE + requestedRole + ": pod " + pod.key() + " has role " + allowed.annotation(),
                    Optional.of(pod));
        }
        try {
            return new Granted(pod, allowed, cache.get(CredentialKey.of(allowed)));
        } catch (CredentialException e) {
            if (e.forPodOwner()) {
                events.assumeRoleFailed(pod, allowed.arn(), e);
            }
            return new Refused(e.httpStatus(), e.getMessage(), Optional.of(pod));
        }
    }

    /** The pod that owns {@code ip} now, confirmed with the API server: what an IMDSv2 token is bound to. */
    public PodLookup owner(String ip) throws InterruptedException {
        return index.findConfirmed(ip);
    }

    /** The caller to bind an IMDSv2 token to: the pod the kernel named, else the pod the API server says owns {@code ip}. */
    public PodLookup owner(String ip, Optional<PodCgroups.Owner> kernel) throws InterruptedException {
        return kernel.isPresent() ? kernelCaller(ip, kernel.get()) : index.findConfirmed(ip);
    }

    /**
     * The pod the kernel named. It must also own the address it connected from (the API server has the last
     * word when the index does not show that); hostNetwork pods connect from the node's addresses. When the
     * two disagree the caller is refused and the pod gets a Warning Event.
     */
    private PodLookup kernelCaller(String ip, PodCgroups.Owner owner) {
        return switch (owner) {
            case PodCgroups.Owner.NoPod none -> new PodLookup.Refused("the connection comes from cgroup " + none.cgroupId()
                    + " under the pods' cgroup, which is no pod's: refused");
            case PodCgroups.Owner.Pod named -> {
                PodLookup found = index.findByUid(named.uid());
                if (!(found instanceof PodLookup.Found(PodInfo pod))) {
                    yield found instanceof PodLookup.NotFound nf ? new PodLookup.Refused(nf.reason()) : found;
                }
                if (pod.hostNetwork() || owns(pod, ip)) {
                    yield found;
                }
                Optional<PodInfo> now = index.current(pod);
                if (now.isPresent() && (now.get().hostNetwork() || owns(now.get(), ip))) {
                    yield new PodLookup.Found(now.get());
                }
                events.identityMismatch(now.orElse(pod), ip);
                yield new PodLookup.Refused("the connection comes from " + pod + "'s cgroup but from address " + ip
                        + ", which the API server does not give that pod: refused");
            }
        };
    }

    private static boolean owns(PodInfo pod, String ip) {
        return pod.ips().stream().map(PodIndex::normalize).anyMatch(PodIndex.normalize(ip)::equals);
    }

    /** The HTTP status and reason for a lookup that found no single pod. */
    public static Refused refused(PodLookup lookup) {
        return refusal(lookup);
    }

    /**
     * Whether a live pod still has the key: the cache keeps such keys fresh even when nobody asks, and drops
     * the others once idle. Static so the cache can be built before the broker that uses it.
     */
    public static Predicate<CredentialKey> wantedBy(PodIndex index, RolePolicy policy) {
        return key -> index.pods().stream()
                .filter(PodInfo::live)
                .map(pod -> policy.decide(pod, index.namespace(pod.namespace())))
                .anyMatch(d -> d instanceof RoleDecision.Allowed a && CredentialKey.of(a).equals(key));
    }

    private RoleDecision decide(PodInfo pod) {
        return policy.decide(pod, index.namespace(pod.namespace()));
    }

    private static Refused refusal(PodLookup lookup) {
        return switch (lookup) {
            case PodLookup.NotFound nf -> new Refused(404, nf.reason(), Optional.empty());
            case PodLookup.Ambiguous a -> new Refused(409, a.reason(), Optional.empty());
            case PodLookup.Unavailable u -> new Refused(503, u.reason(), Optional.empty());
            case PodLookup.Refused r -> new Refused(403, r.reason(), Optional.empty());
            case PodLookup.Found f -> throw new AssertionError("found is not a refusal");
        };
    }
}
