package io.iamlet.control.policy;

import java.util.List;
import java.util.Optional;

/** What the agent may hand a pod: a role to assume, or a refusal with its HTTP status and the reason. */
public sealed interface RoleDecision {
    /**
     * @param annotation    the role as the pod (or the default) named it, for listing it back to the pod
     * @param externalId    sent on the AssumeRole that yields the pod's credentials: the target's when there is one
     * @param viaDefault    true when the pod has no annotation and the default role applies
     * @param target        a role assumed with the credentials of {@code arn}; the pod gets the target's credentials
     * @param tags          session tags for the first AssumeRole, all transitive (so the target's session has them too)
     * @param sessionPolicy inline policy sent on the AssumeRole that yields the pod's credentials
     */
    record Allowed(RoleArn arn, String annotation, String sessionName, Optional<String> externalId, boolean viaDefault,
                   Optional<RoleArn> target, List<SessionTag> tags, Optional<String> sessionPolicy)
            implements RoleDecision {
        public Allowed {
            tags = List.copyOf(tags);
        }

        /** The role whose credentials the pod gets: the target when there is one (its account is the credentials'). */
        public RoleArn credentialsRole() {
            return target.orElse(arn);
        }

        /** A plain role: no target, no tags, no session policy. */
        public Allowed(RoleArn arn, String annotation, String sessionName, Optional<String> externalId, boolean viaDefault) {
            this(arn, annotation, sessionName, externalId, viaDefault, Optional.empty(), List.of(), Optional.empty());
        }
    }

    /** @param annotation the pod annotation that is malformed, when that is why: its owner is told with an Event */
    record Denied(int httpStatus, String reason, Optional<String> annotation) implements RoleDecision {
        public Denied(int httpStatus, String reason) {
            this(httpStatus, reason, Optional.empty());
        }
    }
}
