package io.iamlet.control;

import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.credentials.CredentialException;
import io.iamlet.control.credentials.CredentialKey;
import io.iamlet.control.credentials.Credentials;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.identity.PodIdentity;
import io.iamlet.control.identity.ServiceAccountTokens;
import io.iamlet.control.identity.TokenCheck;
import io.iamlet.control.pods.PodCgroups;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodLookup;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.ServiceAccountRole;

import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The questions the metadata server asks, answered from the pod index, the role policy and the credential
 * cache. By address (the metadata API): which role has this caller, what are its credentials, which pod does
 * an IMDSv2 token belong to. By service-account token (the container-credentials endpoint): the credentials of
 * the token's pod, when the request comes from that pod. Each question has its own answer type; none of them
 * ever carries the node's own credentials: where an operator lets a namespace's hostNetwork pods keep them
 * ({@link PodRoles#HOST_NETWORK_NODE_CREDENTIALS}), the answer is {@link NodeRole}, and the node's IMDS answers. Both paths share the policy, the events and the cache, under the
 * same key, so a pod that uses both costs one STS session.
 */
public final class CredentialBroker {
    /** What a refusal is, beyond its status, for what the server shows and how it answers. */
    public enum Refusal {
        /** Any refusal not named below. */
        REFUSED,
        /** The caller asked for a role that is not its pod's (kube2iam: "Invalid role ..."). */
        NOT_THE_POD_ROLE,
        /**
         * A token sent from an address that is not its pod's: the reason names pods and addresses, which the
         * caller is not told.
         */
        POSSIBLE_SPOOF
    }

    /** The answer to "which role has this caller". */
    public sealed interface RoleAnswer permits Role, NodeRole, Refused {
    }

    /** The answer to "the credentials of this caller's role". */
    public sealed interface CredentialsAnswer permits Granted, NodeRole, Refused {
    }

    /** The answer to "which pod does an IMDSv2 token for this caller belong to". */
    public sealed interface OwnerAnswer permits Owner, Refused {
    }

    public record Role(PodInfo pod, RoleDecision.Allowed decision) implements RoleAnswer {
    }

    public record Granted(PodInfo pod, RoleDecision.Allowed decision, Credentials credentials) implements CredentialsAnswer {
    }

    public record Owner(PodInfo pod) implements OwnerAnswer {
    }

    /**
     * The caller is a hostNetwork pod the kernel named, with no role of its own, in a namespace that lets such
     * pods keep the node's credentials: its request goes to the node's IMDS unchanged.
     */
    public record NodeRole(PodInfo pod) implements RoleAnswer, CredentialsAnswer {
    }

    /** @param foundPod the pod, when one was found, for the log line (ns.name) */
    public record Refused(int httpStatus, String reason, Optional<PodInfo> foundPod, Refusal kind)
            implements RoleAnswer, CredentialsAnswer, OwnerAnswer {
        Refused(int httpStatus, String reason, Optional<PodInfo> foundPod) {
            this(httpStatus, reason, foundPod, Refusal.REFUSED);
        }
    }

    private final PodRoles roles;
    private final PodIndex index;
    private final CredentialCache cache;
    private final PodEventRecorder events;
    private final Optional<ServiceAccountTokens> tokens;
    /**
     * One at a time, so that the pods of one ServiceAccount (at start-up: all of a namespace's) cost one API read,
     * the rest coming from ServiceAccountAnnotations' cache; the thread ends when there is nothing to do.
     */
    private final ExecutorService serviceAccountPrefetches = new ThreadPoolExecutor(0, 1,
            10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            Thread.ofVirtual().name("prefetch-service-account-role").factory());

    /** @param tokens with the container-credentials endpoint: how tokens are checked; empty: tokens are refused */
    public CredentialBroker(PodRoles roles, CredentialCache cache, PodEventRecorder events, Optional<ServiceAccountTokens> tokens) {
        this.roles = roles;
        this.index = roles.index();
        this.cache = cache;
        this.events = events;
        this.tokens = tokens;
        // A pod with a role appeared or changed: fetch its credentials now, so its first request is a hit. A pod whose
        // role comes from its ServiceAccount (only with tokens) has the ServiceAccount read off the informer's thread,
        // one pod at a time, and only when it becomes live or changes account (not on every update or resync).
        index.addListener((before, after) -> {
            if (after == null || !after.live()) {
                return;
            }
            if (roles.decide(after) instanceof RoleDecision.Allowed allowed) {
                cache.prefetch(CredentialKey.of(allowed));
            }
            if (tokens.isPresent() && !ServiceAccountRole.podHasRole(after, roleKey())
                    && (before == null || !before.live() || !before.serviceAccount().equals(after.serviceAccount()))) {
                serviceAccountPrefetches.execute(() -> prefetchServiceAccountRole(tokens.get(), after));
            }
        });
    }

    /** The role of the caller (the role listing). With an IMDSv2 token, only if its pod is the caller. */
    public RoleAnswer roleFor(Caller caller) throws InterruptedException {
        PodLookup lookup = pod(caller);
        if (!(lookup instanceof PodLookup.Found(PodInfo pod))) {
            return refusal(lookup);
        }
        // Only a pod the kernel named: by address a hostNetwork pod is the node, which is never found.
        if (caller.kernel().isPresent() && roles.keepsNodeCredentials(pod)) {
            return new NodeRole(pod);
        }
        return judge(pod, pod);
    }

    /** Credentials for {@code requestedRole} if that is the caller's role. */
    public CredentialsAnswer credentialsFor(Caller caller, String requestedRole) throws InterruptedException {
        return switch (roleFor(caller)) {
            case Refused refused -> refused;
            // The node's IMDS knows the node's role's name and refuses any other.
            case NodeRole node -> node;
            // kube2iam's route takes everything after security-credentials/ (full ARNs and paths have '/') and
            // compares it with the pod's role after making both ARNs.
            case Role(PodInfo pod, RoleDecision.Allowed allowed) when !allowed.annotation().equals(requestedRole)
                    && !roles.policy().normalise(requestedRole).map(allowed.arn()::equals).orElse(false) ->
                    new Refused(403, "Invalid role " + requestedRole + ": pod " + pod.key() + " has role " + allowed.annotation(),
                            Optional.of(pod), Refusal.NOT_THE_POD_ROLE);
            case Role role -> credentials(role);
        };
    }

    /**
     * The caller to bind an IMDSv2 token to: the pod the kernel named, else the pod the API server says owns the
     * address now (not the index's view).
     */
    public OwnerAnswer tokenOwner(Caller caller) throws InterruptedException {
        PodLookup lookup = caller.kernel().isPresent() ? kernelCaller(caller.ip(), caller.kernel().get()) : index.findConfirmed(caller.ip());
        return lookup instanceof PodLookup.Found(PodInfo pod) ? new Owner(pod) : refusal(lookup);
    }

    /**
     * Credentials for the pod a service-account token names, when the request comes from that pod's address.
     * Identity comes from the token; the address only has to agree with it, else 403 and a possible spoof. The
     * role is the pod's, or its ServiceAccount's when the pod names none.
     */
    public CredentialsAnswer credentialsForToken(String token, String callerIp) throws InterruptedException {
        return credentialsForToken(token, Caller.at(callerIp));
    }

    /**
     * {@link #credentialsForToken(String, String)}, where the pod the token names must also be the pod the kernel
     * names by the connection's cgroup (eBPF backend), when it names one: the address alone cannot tell a new pod
     * from the previous owner of a reused IP, nor a hostNetwork pod from the node.
     */
    public CredentialsAnswer credentialsForToken(String token, Caller caller) throws InterruptedException {
        if (tokens.isEmpty()) {
            return new Refused(404, "service-account tokens are not accepted here", Optional.empty());
        }
        PodIdentity identity;
        switch (tokens.get().verifier().check(token)) {
            case TokenCheck.Verified v -> identity = v.identity();
            // 400, as the EKS Pod Identity Agent answers a missing, unparsable or expired token: the SDKs read
            // {"code","message"} from a 400 (Go v2 credentials/endpointcreds) and do not retry it.
            case TokenCheck.Rejected r -> {
                return new Refused(400, "service-account token refused: " + r.reason(), Optional.empty());
            }
            case TokenCheck.Unavailable u -> {
                return new Refused(503, "cannot verify service-account tokens now: " + u.reason(), Optional.empty());
            }
        }
        PodInfo pod;
        switch (caller.kernel().isPresent() ? bindToKernel(identity, caller) : bind(identity, caller.ip())) {
            case Owner owner -> pod = owner.pod();
            case Refused refused -> {
                return refused;
            }
        }
        PodInfo judged;
        try {
            judged = ServiceAccountRole.podHasRole(pod, roleKey()) ? pod
                    : ServiceAccountRole.apply(pod, tokens.get().serviceAccounts().of(identity.namespace(), identity.serviceAccount()),
                    roleKey(), roles.policy().settings().roleAnnotationKeys());
        } catch (IllegalStateException e) {
            return new Refused(503, e.getMessage(), Optional.of(pod));
        }
        return switch (judge(pod, judged)) {
            case Role role -> credentials(role);
            case NodeRole node -> node;
            case Refused refused -> refused;
        };
    }

    /** The pod the caller is: the kernel's word when it has one, else the pod at the address (bound to the token's pod). */
    private PodLookup pod(Caller caller) throws InterruptedException {
        if (caller.kernel().isEmpty()) {
            return caller.tokenPodUid().isPresent() ? index.findTokenPod(caller.ip(), caller.tokenPodUid().get()) : index.findWaiting(caller.ip());
        }
        PodLookup lookup = kernelCaller(caller.ip(), caller.kernel().get());
        if (lookup instanceof PodLookup.Found(PodInfo pod) && caller.tokenPodUid().isPresent() && !caller.tokenPodUid().get().equals(pod.uid())) {
            return new PodLookup.Refused("the token was issued to pod uid " + caller.tokenPodUid().get() + ", but the connection comes from "
                    + pod + "'s cgroup: request a new token");
        }
        return lookup;
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
                if (pod.hostNetwork() || pod.hasIp(ip)) {
                    yield found;
                }
                Optional<PodInfo> now = index.current(pod);
                if (now.isPresent() && (now.get().hostNetwork() || now.get().hasIp(ip))) {
                    yield new PodLookup.Found(now.get());
                }
                events.identityMismatch(now.orElse(pod), ip);
                yield new PodLookup.Refused("the connection comes from " + pod + "'s cgroup but from address " + ip
                        + ", which the API server does not give that pod: refused");
            }
        };
    }

    /** The pod the kernel named, when the token is that pod's; a token from another pod's cgroup is a possible spoof. */
    private OwnerAnswer bindToKernel(PodIdentity identity, Caller caller) {
        PodLookup lookup = kernelCaller(caller.ip(), caller.kernel().orElseThrow());
        if (!(lookup instanceof PodLookup.Found(PodInfo pod))) {
            return refusal(lookup);
        }
        if (identity.podUid().equals(pod.uid()) && identity.namespace().equals(pod.namespace()) && identity.podName().equals(pod.name())) {
            return new Owner(pod);
        }
        return new Refused(403, "the token of " + identity + " was sent from the cgroup of pod " + pod.key(), Optional.of(pod),
                Refusal.POSSIBLE_SPOOF);
    }

    /** The live pod of this node that the token's identity names, when the request comes from its own address. */
    private OwnerAnswer bind(PodIdentity identity, String callerIp) throws InterruptedException {
        PodLookup atCaller = index.findWaiting(callerIp);
        if (atCaller instanceof PodLookup.Found(PodInfo pod)) {
            if (identity.podUid().equals(pod.uid()) && identity.namespace().equals(pod.namespace())
                    && identity.podName().equals(pod.name())) {
                return new Owner(pod);
            }
            return new Refused(403, "the token of " + identity + " was sent from " + callerIp + ", the address of pod " + pod.key(),
                    Optional.of(pod), Refusal.POSSIBLE_SPOOF);
        }
        if (atCaller instanceof PodLookup.Ambiguous ambiguous) {
            // As on the IMDS path: the address cannot be vouched for, whatever the token says.
            return new Refused(409, ambiguous.reason(), Optional.empty());
        }
        Optional<PodInfo> tokenPod = index.pods().stream().filter(p -> identity.podUid().equals(p.uid())).findFirst();
        if (tokenPod.isPresent() && tokenPod.get().live()) {
            return new Refused(403, "the token of " + identity + " (IPs " + String.join(",", tokenPod.get().ips())
                    + ") was sent from " + callerIp + ", which is no pod's address on this node", Optional.empty(), Refusal.POSSIBLE_SPOOF);
        }
        return new Refused(403, "the token's " + identity + " is not a live pod on node " + index.nodeName()
                + tokenPod.map(p -> " (" + (p.deleting() ? "terminating" : p.phase()) + ")").orElse(" (gone, or on another node)"),
                Optional.empty());
    }

    /** The policy's verdict on {@code judged} (the pod, perhaps with its ServiceAccount's role); a refusal names {@code pod}. */
    private RoleAnswer judge(PodInfo pod, PodInfo judged) {
        return switch (roles.decide(judged)) {
            case RoleDecision.Allowed allowed -> new Role(pod, allowed);
            case RoleDecision.Denied denied -> {
                denied.annotation().ifPresent(a -> events.invalidAnnotation(pod, a, denied.reason()));
                yield new Refused(denied.httpStatus(), denied.reason(), Optional.of(pod));
            }
        };
    }

    private CredentialsAnswer credentials(Role role) {
        try {
            return new Granted(role.pod(), role.decision(), cache.get(CredentialKey.of(role.decision())));
        } catch (CredentialException e) {
            if (e.forPodOwner()) {
                events.assumeRoleFailed(role.pod(), role.decision().arn(), e);
            }
            return new Refused(e.httpStatus(), e.getMessage(), Optional.of(role.pod()));
        }
    }

    private void prefetchServiceAccountRole(ServiceAccountTokens tokens, PodInfo pod) {
        try {
            PodInfo judged = ServiceAccountRole.apply(pod, tokens.serviceAccounts().of(pod.namespace(), pod.serviceAccount()),
                    roleKey(), roles.policy().settings().roleAnnotationKeys());
            if (roles.decide(judged) instanceof RoleDecision.Allowed allowed) {
                cache.prefetch(CredentialKey.of(allowed));
            }
        } catch (RuntimeException e) {
            // Unreadable ServiceAccount or no role: the pod's own request says why, with the status it deserves.
        }
    }

    private String roleKey() {
        return roles.policy().settings().roleKey();
    }

    /** The HTTP status and reason for a lookup that found no single pod. */
    private static Refused refusal(PodLookup lookup) {
        return switch (lookup) {
            case PodLookup.NotFound nf -> new Refused(404, nf.reason(), Optional.empty());
            case PodLookup.Ambiguous a -> new Refused(409, a.reason(), Optional.empty());
            case PodLookup.Unavailable u -> new Refused(503, u.reason(), Optional.empty());
            case PodLookup.Refused r -> new Refused(403, r.reason(), Optional.empty());
            case PodLookup.Found f -> throw new IllegalArgumentException("a found pod is no refusal: " + f.pod());
        };
    }
}
