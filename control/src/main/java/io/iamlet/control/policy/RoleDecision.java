package io.iamlet.control.policy;

import java.util.Optional;

/** What the agent may hand a pod: a role to assume, or a refusal with its HTTP status and the reason. */
public sealed interface RoleDecision {
    /**
     * @param annotation the role as the pod (or the default) named it, for listing it back to the pod
     * @param viaDefault true when the pod has no annotation and the default role applies
     */
    record Allowed(RoleArn arn, String annotation, String sessionName, Optional<String> externalId, boolean viaDefault)
            implements RoleDecision {
    }

    record Denied(int httpStatus, String reason) implements RoleDecision {
    }
}
