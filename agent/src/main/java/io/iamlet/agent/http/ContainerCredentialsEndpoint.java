package io.iamlet.agent.http;

import io.iamlet.control.identity.TokenVerifier;

import java.util.Set;

/**
 * Whether and where the container-credentials endpoint is served, and how its tokens are checked: what the
 * configuration says of it, apart from the route that serves it.
 *
 * @param enabled     served (and, with the netfilter redirect, 169.254.170.23 redirected here)
 * @param path        where the endpoint listens
 * @param audiences   accepted token audiences (the EKS one included)
 * @param tokenReview when the API server's TokenReview checks tokens
 */
public record ContainerCredentialsEndpoint(boolean enabled, String path, Set<String> audiences, TokenVerifier.Mode tokenReview) {
    /** EKS Pod Identity's path. */
    public static final String DEFAULT_PATH = "/v1/credentials";
    /** Not served. */
    public static final ContainerCredentialsEndpoint DISABLED = new ContainerCredentialsEndpoint(false, DEFAULT_PATH, Set.of(),
            TokenVerifier.Mode.AUTO);

    public ContainerCredentialsEndpoint {
        if (!path.matches("/[A-Za-z0-9._/-]*") || path.contains("..") || path.contains("//")) {
            throw new IllegalArgumentException("the container-credentials path must be an absolute path like " + DEFAULT_PATH
                    + ", not '" + path + "'");
        }
        audiences = Set.copyOf(audiences);
    }
}
