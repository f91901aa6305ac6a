package io.iamlet.control.credentials;

import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.RoleDecision;

import java.util.Optional;

/** What identifies one set of credentials: role, session name and external id. */
public record CredentialKey(RoleArn role, String sessionName, Optional<String> externalId) {
    public static CredentialKey of(RoleDecision.Allowed decision) {
        return new CredentialKey(decision.arn(), decision.sessionName(), decision.externalId());
    }

    @Override
    public String toString() {
        return role + " as " + sessionName + externalId.map(x -> " (external id set)").orElse("");
    }
}
