package io.iamlet.control.identity;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.fabric8.kubernetes.api.model.Pod;
import io.iamlet.control.testing.FakeTokenIssuer;
import io.iamlet.control.testing.MockApiServer;
import io.iamlet.control.testing.Pods;
import io.iamlet.control.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Offline verification and TokenReview against the fake cluster's issuer (real RS256 tokens, discovery, JWKS),
 * and every kind of token that must not pass: forged, foreign, stale, for someone else, or not a token at all.
 */
class TokenVerifierTest {
    private MockApiServer api;
    private FakeTokenIssuer issuer;
    private Pod pod;

    @BeforeEach
    void start() {
        api = MockApiServer.start();
        issuer = api.tokens();
        pod = Pods.withRole("team", "web", "node-a", "reader", "10.0.0.5");
    }

    @AfterEach
    void stop() {
        api.close();
    }

    private TokenVerifier verifier(TokenVerifier.Mode mode) {
        return new TokenVerifier(api.client(), new TokenVerifier.Settings(TokenVerifier.Settings.audiences(Set.of("iamlet")), mode,
                Duration.ofSeconds(30), Duration.ofSeconds(5)), Clock.systemUTC());
    }

    private static PodIdentity verified(TokenCheck check) {
        if (check instanceof TokenCheck.Verified(PodIdentity identity)) {
            return identity;
        }
        throw new AssertionError("expected a verified token, got " + check);
    }

    private static String rejected(TokenCheck check) {
        if (check instanceof TokenCheck.Rejected(String reason)) {
            return reason;
        }
        throw new AssertionError("expected a rejected token, got " + check);
    }

    @Test
    void aProjectedTokenNamesItsPodAndServiceAccount() {
        PodIdentity id = verified(verifier(TokenVerifier.Mode.AUTO).check(issuer.token(pod, "iamlet")));
        assertEquals(new PodIdentity("team", "default", "web", pod.getMetadata().getUid(), PodIdentity.CheckedBy.SIGNATURE), id);
        assertEquals(0, issuer.tokenReviews(), "verified offline, without asking the API server per token");
    }

    @Test
    void tokensWrittenForEksPodIdentityAreAcceptedToo() {
        verified(verifier(TokenVerifier.Mode.NEVER).check(issuer.token(pod, TokenVerifier.EKS_AUDIENCE)));
    }

    @Test
    void keysAreReadOnceForManyTokens() {
        TokenVerifier v = verifier(TokenVerifier.Mode.NEVER);
        for (int i = 0; i < 20; i++) {
            verified(v.check(issuer.token(pod, "iamlet")));
        }
        assertEquals(2, issuer.keyReads(), "one discovery document and one key set: " + issuer.keyReads());
    }

    @Test
    void aRotatedSigningKeyIsFetchedWhenATokenNamesIt() {
        TokenVerifier v = verifier(TokenVerifier.Mode.NEVER);
        verified(v.check(issuer.token(pod, "iamlet")));
        issuer.rotate();
        verified(v.check(issuer.token(pod, "iamlet")));
        assertEquals(3, issuer.keyReads(), "the unknown kid made the key set be read again");
    }

    @Test
    void unknownKeyIdsDoNotMakeTheAgentHammerTheApiServer() {
        TokenVerifier v = verifier(TokenVerifier.Mode.AUTO);
        verified(v.check(issuer.token(pod, "iamlet")));
        for (int i = 0; i < 20; i++) {
            String reason = rejected(v.check(FakeTokenIssuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build(),
                    FakeTokenIssuer.newKey())));
            assertFalse(reason.isBlank());
        }
        assertTrue(issuer.keyReads() <= 4, "key set refreshes are rate-limited: " + issuer.keyReads() + " reads");
        assertEquals(0, issuer.tokenReviews(), "a refused token is not asked about again");
    }

    @Test
    void aTokenOfAnotherClusterIsRefused() {
        RSAKey other = FakeTokenIssuer.newKey();
        String reason = rejected(verifier(TokenVerifier.Mode.AUTO).check(
                FakeTokenIssuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build(), other)));
        assertTrue(reason.contains(other.getKeyID()), reason);
    }

    @Test
    void aForeignKeyUnderOurKeyIdFailsTheSignature() throws Exception {
        RSAKey impostor = new RSAKeyGenerator(2048).keyID(issuer.signingKey().getKeyID()).generate();
        String reason = rejected(verifier(TokenVerifier.Mode.AUTO).check(
                FakeTokenIssuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build(), impostor)));
        assertTrue(reason.toLowerCase().contains("signature"), reason);
    }

    @Test
    void aTamperedPayloadFailsTheSignature() {
        String good = issuer.token(pod, "iamlet");
        String[] parts = good.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("\"web\"", "\"admin\"");
        String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8))
                + "." + parts[2];
        rejected(verifier(TokenVerifier.Mode.AUTO).check(forged));
    }

    @Test
    void anExpiredTokenIsRefusedBeyondTheClockSkew() {
        Date past = Date.from(new Date().toInstant().minus(Duration.ofMinutes(2)));
        String reason = rejected(verifier(TokenVerifier.Mode.AUTO).check(issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1))
                .issueTime(Date.from(past.toInstant().minus(Duration.ofHours(1)))).notBeforeTime(Date.from(past.toInstant().minus(Duration.ofHours(1))))
                .expirationTime(past).build())));
        assertTrue(reason.contains("Expired"), reason);
        Date justNow = Date.from(new Date().toInstant().minusSeconds(5));
        verified(verifier(TokenVerifier.Mode.AUTO).check(issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1))
                .expirationTime(justNow).build())));
    }

    @Test
    void aTokenNotYetValidIsRefused() {
        Date later = Date.from(new Date().toInstant().plus(Duration.ofMinutes(5)));
        rejected(verifier(TokenVerifier.Mode.AUTO).check(issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1))
                .notBeforeTime(later).build())));
    }

    @Test
    void aTokenForAnotherAudienceIsRefused() {
        for (String audience : new String[] {"https://kubernetes.default.svc.cluster.local", "sts.amazonaws.com", "vault"}) {
            String reason = rejected(verifier(TokenVerifier.Mode.AUTO).check(issuer.token(pod, audience)));
            assertTrue(reason.contains("audience"), reason);
            assertTrue(reason.contains("(the projected token's audience must match audiences)"), "names the setting: " + reason);
        }
    }

    @Test
    void aTokenOfAnotherIssuerIsRefused() {
        String reason = rejected(verifier(TokenVerifier.Mode.AUTO).check(issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1))
                .issuer("https://oidc.example.com/other").build())));
        assertTrue(reason.contains("iss"), reason);
    }

    @Test
    void algNoneAndHmacTricksAreRefused() throws Exception {
        JWTClaimsSet claims = FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build();
        TokenVerifier v = verifier(TokenVerifier.Mode.AUTO);
        rejected(v.check(new PlainJWT(new PlainHeader(), claims).serialize()));
        // alg none with a signature-shaped header: {"alg":"none","kid":"<ours>"}
        String noneHeader = Base64.getUrlEncoder().withoutPadding().encodeToString(("{\"alg\":\"none\",\"kid\":\""
                + issuer.signingKey().getKeyID() + "\"}").getBytes(StandardCharsets.UTF_8));
        rejected(v.check(noneHeader + "." + issuer.token(pod, "iamlet").split("\\.")[1] + "."));
        // HS256 keyed with the public key, the classic algorithm confusion: the verifier must not treat it as a MAC key.
        byte[] publicKey = issuer.signingKey().toRSAPublicKey().getEncoded();
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(issuer.signingKey().getKeyID()).build(), claims);
        hmac.sign(new MACSigner(Arrays.copyOf(publicKey, Math.max(32, publicKey.length))));
        rejected(v.check(hmac.serialize()));
        assertEquals(0, issuer.tokenReviews());
    }

    /**
     * A compact JWS is accepted only in its one canonical spelling: a base64url decoder that ignores the last
     * character's unused bits (Nimbus's, and go-jose's in the API server) takes other strings as the same signature,
     * header or claims. Every such alias (found with Nimbus's own lenient decoder) is refused without asking
     * TokenReview; every other change is refused too, in both modes.
     */
    @Test
    void noOtherSpellingOfAValidTokenIsAccepted() {
        String good = issuer.token(pod, "iamlet");
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        String[] parts = good.split("\\.");
        for (TokenVerifier.Mode mode : new TokenVerifier.Mode[] {TokenVerifier.Mode.NEVER, TokenVerifier.Mode.ALWAYS}) {
            TokenVerifier v = verifier(mode);
            verified(v.check(good));
            int aliases = 0;
            for (int part = 0; part < 3; part++) {
                byte[] decoded = new Base64URL(parts[part]).decode();
                for (char c : (alphabet + "+/= ").toCharArray()) {
                    String[] mutated = parts.clone();
                    String segment = mutated[part];
                    if (segment.charAt(segment.length() - 1) == c) {
                        continue;
                    }
                    mutated[part] = segment.substring(0, segment.length() - 1) + c;
                    boolean alias = Arrays.equals(decoded, new Base64URL(mutated[part]).decode());
                    if (!alias && (mode == TokenVerifier.Mode.ALWAYS || part != 2)) {
                        continue; // a different token, refused by its signature or the API server: aTamperedPayloadFailsTheSignature
                    }
                    int reviews = issuer.tokenReviews();
                    TokenCheck check = v.check(String.join(".", mutated));
                    assertFalse(check instanceof TokenCheck.Verified, mode + ": segment " + part + " ending in " + c);
                    if (alias) {
                        aliases++;
                        assertTrue(rejected(check).contains("not canonical"), mode + ": alias ending in " + c + ": " + check);
                        assertEquals(reviews, issuer.tokenReviews(), "an alias never reaches TokenReview");
                    }
                }
                for (String extra : new String[] {"=", "==", "A", "*", "%3D"}) {
                    String[] mutated = parts.clone();
                    mutated[part] = mutated[part] + extra;
                    assertFalse(v.check(String.join(".", mutated)) instanceof TokenCheck.Verified, mode + ": segment " + part + " + " + extra);
                }
            }
            assertTrue(aliases >= 3, mode + ": the lenient decoder has aliases for the last characters: " + aliases);
        }
    }

    /**
     * TokenReview answers are remembered until the token's exp and never past it; a rotated token (the SDKs re-read
     * the file on every refresh: botocore ContainerMetadataFetcher, JS fromHttp) is a new question, answered at once.
     */
    @Test
    void tokenReviewAnswersAreKeptUntilTheTokensExpiry() {
        TestClock clock = new TestClock(Instant.now());
        TokenVerifier v = new TokenVerifier(api.client(), new TokenVerifier.Settings(TokenVerifier.Settings.audiences(Set.of("iamlet")),
                TokenVerifier.Mode.ALWAYS, Duration.ofSeconds(30), Duration.ofSeconds(5)), clock);
        String token = issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofMinutes(10)).build());
        verified(v.check(token));
        verified(v.check(token));
        verified(v.check(" " + token + " "));
        assertEquals(1, issuer.tokenReviews(), "one TokenReview for the same token");
        String rotated = issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofMinutes(20)).build());
        verified(v.check(rotated));
        assertEquals(2, issuer.tokenReviews(), "a rotated token is reviewed at once");
        clock.advance(Duration.ofMinutes(10).plusSeconds(1));
        v.check(token);
        assertEquals(3, issuer.tokenReviews(), "past its exp the token is asked about again, never answered from memory");
        verified(v.check(rotated));
        assertEquals(3, issuer.tokenReviews());
        rejected(v.check(issuer.token(pod, "vault")));
        rejected(v.check(issuer.token(pod, "vault")));
        assertEquals(5, issuer.tokenReviews(), "refusals are not remembered");
        assertTrue(v.reviewsKept() <= TokenVerifier.MAX_REVIEWS);
    }

    @Test
    void garbageIsRefused() {
        TokenVerifier v = verifier(TokenVerifier.Mode.AUTO);
        for (String garbage : new String[] {"", "   ", "Bearer", "not-a-jwt", "a.b.c", "eyJ.eyJ.", "x".repeat(20_000)}) {
            rejected(v.check(garbage));
        }
        rejected(v.check(null));
    }

    @Test
    void aServiceAccountTokenNotBoundToAPodIsRefused() {
        JWTClaimsSet unbound = new JWTClaimsSet.Builder(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build())
                .claim("kubernetes.io", Map.of("namespace", "team", "serviceaccount", Map.of("name", "default", "uid", "u1"))).build();
        assertTrue(rejected(verifier(TokenVerifier.Mode.AUTO).check(issuer.sign(unbound))).contains("not bound to a pod"));
    }

    @Test
    void aSubjectThatDisagreesWithTheKubernetesClaimIsRefused() {
        String reason = rejected(verifier(TokenVerifier.Mode.AUTO).check(issuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1))
                .subject("system:serviceaccount:kube-system:admin").build())));
        assertTrue(reason.contains("subject"), reason);
    }

    @Test
    void withoutIssuerKeysAutoAsksTokenReview() {
        issuer.serveKeys(false);
        TokenVerifier v = verifier(TokenVerifier.Mode.AUTO);
        PodIdentity id = verified(v.check(issuer.token(pod, "iamlet")));
        assertEquals(PodIdentity.CheckedBy.TOKEN_REVIEW, id.checkedBy());
        assertEquals("web", id.podName());
        assertEquals(pod.getMetadata().getUid(), id.podUid());
        rejected(v.check(FakeTokenIssuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build(), FakeTokenIssuer.newKey())));
        rejected(v.check(issuer.token(pod, "vault")));
    }

    @Test
    void neverMeansNoTokenReview() {
        issuer.serveKeys(false);
        TokenCheck check = verifier(TokenVerifier.Mode.NEVER).check(issuer.token(pod, "iamlet"));
        assertInstanceOf(TokenCheck.Unavailable.class, check);
        assertEquals(0, issuer.tokenReviews());
    }

    @Test
    void alwaysAsksTheApiServer() {
        TokenVerifier v = verifier(TokenVerifier.Mode.ALWAYS);
        assertEquals(PodIdentity.CheckedBy.TOKEN_REVIEW, verified(v.check(issuer.token(pod, "iamlet"))).checkedBy());
        rejected(v.check(FakeTokenIssuer.sign(FakeTokenIssuer.claims(pod, "iamlet", Duration.ofHours(1)).build(), FakeTokenIssuer.newKey())));
        assertEquals(2, issuer.tokenReviews());
    }

    @Test
    void withNeitherKeysNorTokenReviewTheAnswerIsUnavailable() {
        issuer.serveKeys(false);
        issuer.serveTokenReview(false);
        TokenCheck check = verifier(TokenVerifier.Mode.AUTO).check(issuer.token(pod, "iamlet"));
        TokenCheck.Unavailable u = assertInstanceOf(TokenCheck.Unavailable.class, check);
        assertTrue(u.reason().contains("tokenreviews"), u.reason());
    }

    @Test
    void theKeysAreReadFromTheApiServerWhateverHostJwksUriNames() throws Exception {
        IssuerKeys keys = new IssuerKeys(api.client(), Duration.ofSeconds(5), Clock.systemUTC());
        IssuerKeys.Discovery d = keys.discover();
        assertEquals(FakeTokenIssuer.ISSUER, d.issuer());
        assertEquals(api.url().replaceAll("/$", "") + "/openid/v1/jwks", d.keysFrom().toString());
        assertEquals(1, keys.fetchKeys(d).getKeys().size());
    }
}
