package io.iamlet.control.identity;

/** The outcome of checking one service-account token. */
public sealed interface TokenCheck {
    record Verified(PodIdentity identity) implements TokenCheck {
    }

    /** The token is not good: forged, expired, for another audience or cluster, not bound to a pod (401). */
    record Rejected(String reason) implements TokenCheck {
    }

    /** Whether the token is good cannot be told now: keys and TokenReview both out of reach (503). */
    record Unavailable(String reason) implements TokenCheck {
    }
}
