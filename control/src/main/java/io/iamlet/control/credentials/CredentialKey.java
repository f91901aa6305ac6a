package io.iamlet.control.credentials;

import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.SessionTag;

import java.util.List;
import java.util.Optional;

/**
 * What identifies one set of credentials: the whole chain (role, then target), session name, external id, session
 * tags and session policy. Tags name the pod, so two pods never share credentials whose tags are another pod's.
 *
 * @param role          the pod's role, assumed with the agent's own credentials
 * @param externalId    sent on the AssumeRole that yields the pod's credentials: the target's when there is one
 * @param target        assumed with the role's credentials; its credentials are the pod's
 * @param tags          sent (all transitive) on the role's AssumeRole; the target's session inherits them
 * @param sessionPolicy sent on the AssumeRole that yields the pod's credentials
 */
public record CredentialKey(RoleArn role, String sessionName, Optional<String> externalId, Optional<RoleArn> target,
                            List<SessionTag> tags, Optional<String> sessionPolicy) {
    public CredentialKey {
        tags = List.copyOf(tags);
    }

    /** A plain role: no target, no tags, no session policy. */
    public CredentialKey(RoleArn role, String sessionName, Optional<String> externalId) {
        this(role, sessionName, externalId, Optional.empty(), List.of(), Optional.empty());
    }

    public static CredentialKey of(RoleDecision.Allowed decision) {
        return new CredentialKey(decision.arn(), decision.sessionName(), decision.externalId(), decision.target(), decision.tags(),
                decision.sessionPolicy());
    }

    @Override
    public String toString() {
        return role + target.map(t -> " then " + t).orElse("") + " as " + sessionName
                + externalId.map(x -> " (external id set)").orElse("")
                + (tags.isEmpty() ? "" : " (" + tags.size() + " session tags)")
                + sessionPolicy.map(p -> " (session policy)").orElse("");
    }
}
