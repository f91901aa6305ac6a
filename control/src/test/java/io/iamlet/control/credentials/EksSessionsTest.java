package io.iamlet.control.credentials;

import io.iamlet.control.testing.Eventually;
import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.policy.SessionTag;
import io.iamlet.control.testing.FakeSts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Session tags, role chaining and session policies on the wire: the real SDK StsClient against the fake STS,
 * which records what each AssumeRole carried and who signed it, and holds calls to real STS's documented rules
 * (chained sessions at most one hour, inherited transitive tags not sent again, sts:TagSession).
 */
class EksSessionsTest {
    private static final String AGENT_KEY = "AKIANODE0000000000";
    private static final RoleArn ROLE = RoleArn.parse("arn:aws:iam::111122223333:role/hub").orElseThrow();
    private static final RoleArn TARGET = RoleArn.parse("arn:aws:iam::444455556666:role/data").orElseThrow();
    private static final List<SessionTag> TAGS = List.of(new SessionTag("kubernetes-namespace", "team"),
            new SessionTag("kubernetes-service-account", "default"), new SessionTag("kubernetes-pod-name", "web-1"),
            new SessionTag("kubernetes-pod-uid", "uid-1"));
    private static final String POLICY = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}";

    private FakeSts sts;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        sts = FakeSts.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        sts.close();
    }

    private StsCredentialSource source(Duration session) {
        StsCredentialSource s = new StsCredentialSource(new StsCredentialSource.Settings(Optional.of(sts.endpoint()), Region.US_EAST_1,
                session, Duration.ofSeconds(5), StaticCredentialsProvider.create(AwsBasicCredentials.create(AGENT_KEY, "node-secret"))),
                Clock.systemUTC());
        open.add(s);
        return s;
    }

    private static Map<String, String> asMap(List<SessionTag> tags) {
        Map<String, String> m = new LinkedHashMap<>();
        tags.forEach(t -> m.put(t.key(), t.value()));
        return m;
    }

    @Test
    void tagsAreSentAllTransitive() {
        source(Duration.ofHours(1)).assume(new CredentialKey(ROLE, "team.web-1", Optional.of("ext-1"), Optional.empty(), TAGS,
                Optional.of(POLICY)));
        FakeSts.Call call = sts.calls().getFirst();
        assertEquals(AGENT_KEY, call.callerAccessKey());
        assertEquals(asMap(TAGS), call.tags());
        assertEquals(TAGS.stream().map(SessionTag::key).toList(), call.transitiveKeys());
        assertEquals(POLICY, call.policy());
        assertEquals("ext-1", call.externalId());
    }

    @Test
    void theTargetIsAssumedWithTheRolesCredentialsAndGetsTheExternalIdPolicyAndInheritedTags() {
        Credentials c = source(Duration.ofHours(2)).assume(new CredentialKey(ROLE, "team.web-1", Optional.of("ext-target"),
                Optional.of(TARGET), TAGS, Optional.of(POLICY)));
        assertEquals(2, sts.calls().size(), sts.calls().toString());
        FakeSts.Call first = sts.calls().get(0);
        FakeSts.Call second = sts.calls().get(1);
        assertEquals(ROLE.text(), first.roleArn());
        assertEquals(AGENT_KEY, first.callerAccessKey(), "the first link is signed by the agent");
        assertNull(first.externalId(), "the external id is the target's");
        assertNull(first.policy(), "the session policy scopes the credentials the pod gets: the target's");
        assertEquals(asMap(TAGS), first.tags());
        assertEquals(7200, first.durationSeconds());

        assertEquals(TARGET.text(), second.roleArn());
        assertTrue(second.callerAccessKey().startsWith("ASIAFAKE") && !second.callerAccessKey().equals(AGENT_KEY),
                "the target is assumed with the first link's credentials: " + second.callerAccessKey());
        assertEquals("ext-target", second.externalId());
        assertEquals(POLICY, second.policy());
        assertTrue(second.tags().isEmpty(), "inherited transitive tags are not sent again (STS refuses that)");
        assertEquals(asMap(TAGS), second.inheritedTags(), "the target's session carries the pod's tags");
        assertEquals(3600, second.durationSeconds(), "a chained session is at most one hour");
        assertEquals("team.web-1", second.sessionName());
        assertTrue(c.sessionToken().contains("data"), "the pod gets the target's credentials");
    }

    @Test
    void theChainExpiresWithItsFirstLinkAndIsRefreshedAheadOfIt() throws Exception {
        // The first link lives 17 minutes, the target an hour: the chain must be renewed by the first link's expiry.
        sts.lifetime(ROLE.text(), Duration.ofMinutes(17));
        StsCredentialSource source = source(Duration.ofHours(1));
        CredentialKey key = new CredentialKey(ROLE, "team.web-1", Optional.empty(), Optional.of(TARGET), TAGS, Optional.empty());
        Credentials c = source.assume(key);
        Instant firstExpiry = Instant.now().plus(Duration.ofMinutes(17));
        assertFalse(c.expiration().isAfter(firstExpiry.plusSeconds(2)), "served expiry is the first link's: " + c.expiration());

        // Settings.defaults: served above 15 minutes left, refreshed 5 minutes before that, so at once here.
        CredentialCache cache = new CredentialCache(source, CredentialCache.Settings.defaults(), Clock.systemUTC(), k -> true);
        open.add(cache);
        Credentials served = cache.get(key);
        eventually("the chain is assumed again, both links, before the first expires",
                () -> sts.calls(ROLE.text()).size() >= 3 && sts.calls(TARGET.text()).size() >= 3);
        List<FakeSts.Call> hub = sts.calls(ROLE.text());
        List<FakeSts.Call> data = sts.calls(TARGET.text());
        // Each target call is signed by a fresh first link, never by an old one.
        for (int i = 1; i < Math.min(hub.size(), data.size()); i++) {
            assertNotEquals(data.get(i - 1).callerAccessKey(), data.get(i).callerAccessKey());
        }
        eventually("the cache serves the refreshed chain", () -> !cache.get(key).accessKeyId().equals(served.accessKeyId()));
    }

    @Test
    void aTrustPolicyWithoutTagSessionIsRefusedOnceWithBothFixes() {
        sts.refuseTagSession(ROLE.text());
        CredentialCache cache = new CredentialCache(source(Duration.ofHours(1)), CredentialCache.Settings.defaults(), Clock.systemUTC(), k -> false);
        open.add(cache);
        CredentialException e = assertThrows(CredentialException.class, () -> cache.get(new CredentialKey(ROLE, "team.web-1",
                Optional.empty(), Optional.empty(), TAGS, Optional.empty())));
        assertTrue(e.tagSessionRefused(), e.getMessage());
        assertTrue(e.forPodOwner());
        assertTrue(e.getMessage().contains("sts:TagSession") && e.getMessage().contains("trust policy of " + ROLE)
                && e.getMessage().contains("iam.amazonaws.com/session-tags: \"false\""), e.getMessage());
        assertTrue(e.getMessage().contains("Session tags are on (sessionTags)"), "names the setting: " + e.getMessage());
        assertEquals(1, sts.calls().size(), "no silent retry without tags: " + sts.calls());
        assertFalse(sts.calls().getFirst().tags().isEmpty());
    }

    @Test
    void aTargetWithoutTagSessionIsRefusedToo() {
        sts.refuseTagSession(TARGET.text());
        CredentialException e = assertThrows(CredentialException.class, () -> source(Duration.ofHours(1)).assume(new CredentialKey(ROLE,
                "team.web-1", Optional.empty(), Optional.of(TARGET), TAGS, Optional.empty())));
        assertTrue(e.tagSessionRefused() && e.getMessage().contains("trust policy of " + TARGET), e.getMessage());
        assertTrue(e.getMessage().contains("target " + TARGET + " with the credentials of " + ROLE), e.getMessage());
    }

    @Test
    void aPolicyStsFindsTooLargeIsTheOwnersMistake() {
        sts.packedLimit(100);
        CredentialException e = assertThrows(CredentialException.class, () -> source(Duration.ofHours(1)).assume(new CredentialKey(ROLE,
                "team.web-1", Optional.empty(), Optional.empty(), TAGS, Optional.of(POLICY))));
        assertEquals(400, e.httpStatus());
        assertEquals("PackedPolicyTooLarge", e.code());
        assertTrue(e.forPodOwner());
        assertTrue(e.getMessage().contains("iam.amazonaws.com/session-policy"), e.getMessage());
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        Eventually.within(Duration.ofSeconds(15), what, condition);
    }
}
