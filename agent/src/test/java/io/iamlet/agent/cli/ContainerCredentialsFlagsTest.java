package io.iamlet.agent.cli;

import io.iamlet.agent.http.ContainerCredentialsEndpoint;
import io.iamlet.control.identity.TokenVerifier;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The container-credentials flags of `iamlet run`. */
class ContainerCredentialsFlagsTest {
    private static ContainerCredentialsEndpoint settings(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "--node=n1";
        System.arraycopy(args, 0, all, 1, args.length);
        return RunCommandTest.config(Map.of(), all).serving().containerCredentials();
    }

    @Test
    void defaultsAreTheEksContractWithTheIamletAudience() {
        ContainerCredentialsEndpoint s = settings();
        assertFalse(s.enabled(), "off unless --container-credentials=on");
        assertEquals("/v1/credentials", s.path());
        assertEquals(Set.of("iamlet", "pods.eks.amazonaws.com"), s.audiences());
        assertEquals(TokenVerifier.Mode.AUTO, s.tokenReview());
    }

    @Test
    void audiencesPathAndTokenReviewAreSet() {
        ContainerCredentialsEndpoint s = settings("--token-audience=sts.example, iamlet-prod", "--token-review=always",
                "--container-credentials-path=/creds/v2", "--container-credentials=on");
        assertTrue(s.enabled(), "on without --iptables too: the endpoint is on the app port");
        assertEquals(Set.of("sts.example", "iamlet-prod", "pods.eks.amazonaws.com"), s.audiences());
        assertEquals(TokenVerifier.Mode.ALWAYS, s.tokenReview());
        assertEquals("/creds/v2", s.path());
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(assertThrows(UsageException.class, () -> settings("--token-review=sometimes")).getMessage().contains("--token-review"));
        assertTrue(assertThrows(UsageException.class, () -> settings("--token-audience=,")).getMessage().contains("--token-audience"));
        for (String path : new String[] {"v1/credentials", "/v1/../latest", "/v1//x", "/v1/credentials?x=1"}) {
            assertTrue(assertThrows(UsageException.class, () -> settings("--container-credentials-path=" + path)).getMessage()
                    .contains("--container-credentials-path"), path);
        }
    }
}
