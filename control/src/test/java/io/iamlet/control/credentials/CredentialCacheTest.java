package io.iamlet.control.credentials;

import io.iamlet.control.testing.Eventually;
import io.iamlet.control.policy.RoleArn;
import io.iamlet.control.testing.FakeSts;
import io.iamlet.control.testing.TestClock;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/** The cache with the real SDK StsClient against a local fake STS (no AWS). */
class CredentialCacheTest {
    private static final CredentialKey KEY = new CredentialKey(RoleArn.parse("arn:aws:iam::111122223333:role/reader").orElseThrow(),
            "team.web-1", Optional.empty());

    private FakeSts sts;
    private StsCredentialSource source;
    private final List<CredentialCache> caches = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        sts = FakeSts.start();
        source = new StsCredentialSource(new StsCredentialSource.Settings(Optional.of(sts.endpoint()), Region.US_EAST_1,
                Duration.ofHours(1), Duration.ofSeconds(5),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIANODE0000000000", "node-secret"))),
                Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        caches.forEach(CredentialCache::close);
        source.close();
        sts.close();
    }

    private CredentialCache cache(CredentialCache.Settings settings, boolean wanted) {
        CredentialCache cache = new CredentialCache(source, settings, Clock.systemUTC(), k -> wanted);
        caches.add(cache);
        return cache;
    }

    /** Short lifetimes so refresh and expiry happen within a test. */
    private static CredentialCache.Settings fast(Duration minRemaining, Duration refreshAhead, Duration safety) {
        return new CredentialCache.Settings(minRemaining, refreshAhead, Duration.ZERO, safety, Duration.ZERO, Duration.ofMinutes(5),
                Duration.ofSeconds(5));
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        Eventually.within(Duration.ofSeconds(10), what, condition);
    }

    @Test
    void assumesTheRoleWithTheSessionNameAndDuration() {
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), true);
        Credentials c = cache.get(new CredentialKey(KEY.role(), KEY.sessionName(), Optional.of("ext-1")));
        assertTrue(c.accessKeyId().startsWith("ASIAFAKE"));
        FakeSts.Call call = sts.calls().getFirst();
        assertEquals("AKIANODE0000000000", call.callerAccessKey(), "signed with the agent's own credentials");
        assertEquals("arn:aws:iam::111122223333:role/reader", call.roleArn());
        assertEquals("team.web-1", call.sessionName());
        assertEquals("ext-1", call.externalId());
        assertEquals(3600, call.durationSeconds());
        assertFalse(c.toString().contains(c.secretAccessKey()), "secrets never appear in logs");
    }

    @Test
    void twoHundredConcurrentRequestsMakeOneStsCall() throws Exception {
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), true);
        sts.closeGate();
        CountDownLatch ready = new CountDownLatch(200);
        List<Future<Credentials>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                results.add(pool.submit(() -> {
                    ready.countDown();
                    return cache.get(KEY);
                }));
            }
            ready.await();
            eventually("the first call reaches STS", () -> sts.assumeRoleCalls() == 1);
            Thread.sleep(100);
            sts.open();
            Credentials first = results.getFirst().get();
            for (Future<Credentials> f : results) {
                assertEquals(first, f.get(), "everyone gets the same credentials");
            }
        }
        assertEquals(1, sts.assumeRoleCalls());
        assertEquals(1, cache.stats().stsCalls());
        cache.get(KEY);
        assertEquals(1, sts.assumeRoleCalls(), "a later request is a hit");
        assertTrue(cache.stats().hits() >= 1);
    }

    @Test
    void refreshesBeforeExpiryWithoutARequestWaiting() throws Exception {
        sts.lifetime(Duration.ofSeconds(4));
        // Served while more than 1s is left; the refresh starts 1s before that, i.e. ~2s after issue.
        CredentialCache cache = cache(fast(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(200)), true);
        Credentials first = cache.get(KEY);
        sts.closeGate();
        eventually("the background refresh reaches STS", () -> sts.assumeRoleCalls() == 2);
        long started = System.nanoTime();
        Credentials during = cache.get(KEY);
        assertTrue(Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofMillis(500)) < 0,
                "a request during the refresh is answered from memory");
        assertEquals(first, during);
        sts.open();
        eventually("the refreshed credentials are served", () -> !cache.get(KEY).equals(first));
        assertEquals(2, sts.assumeRoleCalls());
        assertTrue(cache.stats().refreshes() >= 1);
    }

    /**
     * The SDKs refresh on every call when less than 15 minutes are left (botocore credentials.py advisory timeout,
     * Java SDK v2): with the default margins and the shortest session they allow, every answer over the whole life
     * of the credentials (clock moved by hand, minute by minute, no background refresh in time) has more than 15
     * minutes left, and one STS call serves each stretch.
     */
    @Test
    void withDefaultMarginsServedCredentialsAlwaysHaveMoreThanFifteenMinutesLeft() {
        CredentialCache.Settings defaults = CredentialCache.Settings.defaults();
        TestClock clock = new TestClock(Instant.parse("2026-12-03T10:00:00Z"));
        for (Duration session : List.of(defaults.shortestSession(), Duration.ofHours(1), Duration.ofHours(12))) {
            AtomicInteger calls = new AtomicInteger();
            CredentialSource fresh = key -> {
                calls.incrementAndGet();
                Instant now = clock.instant();
                return new Credentials("ASIA" + calls.get(), "secret", "token", now.plus(session), now);
            };
            CredentialCache cache = new CredentialCache(fresh, defaults, clock, k -> false);
            caches.add(cache);
            for (Duration t = Duration.ZERO; t.compareTo(session.multipliedBy(3)) < 0; t = t.plusMinutes(1)) {
                Duration left = cache.get(KEY).remaining(clock.instant());
                assertTrue(left.compareTo(Duration.ofMinutes(15)) > 0, session + " sessions, at " + t + ": served with " + left + " left");
                clock.advance(Duration.ofMinutes(1));
            }
            long stretches = session.multipliedBy(3).toMinutes() / (session.toMinutes() - 15) + 1;
            assertTrue(calls.get() <= stretches, session + ": " + calls.get() + " STS calls");
        }
        assertEquals(Duration.ofMinutes(23), defaults.shortestSession());
    }

    @Test
    void duringAnStsOutageValidCredentialsAreServedThenAClearError() throws Exception {
        sts.lifetime(Duration.ofSeconds(3));
        // Every request wants more than 2.5s left, so each one after the first tries STS.
        CredentialCache cache = cache(fast(Duration.ofMillis(2500), Duration.ZERO, Duration.ofMillis(1000)), true);
        Credentials warm = cache.get(KEY);
        sts.down(true);
        Thread.sleep(600);
        assertEquals(warm, cache.get(KEY), "still valid: served although STS is down");
        assertTrue(cache.stats().staleServed() >= 1);
        assertTrue(cache.stats().stsErrors() >= 1);
        Thread.sleep(Duration.between(Instant.now(), warm.expiration()).minusMillis(900).toMillis());
        CredentialException e = assertThrows(CredentialException.class, () -> cache.get(KEY));
        assertEquals(503, e.httpStatus());
        assertTrue(e.getMessage().contains("ServiceUnavailable") && e.getMessage().contains("reader"), e.getMessage());
    }

    @Test
    void accessDeniedIsReportedAndErrorsAreCachedForTheirTtl() {
        sts.deny(KEY.role().text());
        CredentialCache cache = cache(CredentialCache.Settings.defaults().withErrorTtl(Duration.ofMinutes(1)), true);
        CredentialException e = assertThrows(CredentialException.class, () -> cache.get(KEY));
        assertTrue(e.accessDenied());
        assertEquals(500, e.httpStatus());
        assertTrue(e.getMessage().contains("not authorized to perform: sts:AssumeRole"), e.getMessage());
        assertThrows(CredentialException.class, () -> cache.get(KEY));
        assertEquals(1, sts.assumeRoleCalls(), "within --iam-role-error-ttl the error is repeated without calling STS");
    }

    /** kube2iam's --iam-role-error-ttl means one STS call per TTL for a failing role: background retries too. */
    @Test
    void backgroundRetriesOfAFailingRoleWaitForTheErrorTtl() throws Exception {
        sts.deny(KEY.role().text());
        Duration ttl = Duration.ofSeconds(3);
        CredentialCache cache = cache(CredentialCache.Settings.defaults().withErrorTtl(ttl), true);
        assertThrows(CredentialException.class, () -> cache.get(KEY));
        // The background retry of a wanted key would start after about a second without the TTL.
        Thread.sleep(ttl.toMillis() - 500);
        assertEquals(1, sts.assumeRoleCalls(), "no background retry within --iam-role-error-ttl");
        eventually("the retry after the TTL", () -> sts.assumeRoleCalls() >= 2);
    }

    @Test
    void withoutErrorTtlEveryRequestTriesAgain() {
        sts.deny(KEY.role().text());
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), false);
        assertThrows(CredentialException.class, () -> cache.get(KEY));
        assertThrows(CredentialException.class, () -> cache.get(KEY));
        assertEquals(2, sts.assumeRoleCalls());
    }

    @Test
    void unreachableStsIsA503NamingTheRole() throws Exception {
        sts.close();
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), false);
        CredentialException e = assertThrows(CredentialException.class, () -> cache.get(KEY));
        assertEquals(503, e.httpStatus());
        assertTrue(e.getMessage().contains("could not be reached") && e.getMessage().contains("reader"), e.getMessage());
    }

    @Test
    void prefetchMakesTheFirstRequestAHit() throws Exception {
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), true);
        cache.prefetch(KEY);
        eventually("prefetched", () -> cache.has(KEY));
        cache.get(KEY);
        assertEquals(1, cache.stats().hits());
        assertEquals(0, cache.stats().misses());
    }

    @Test
    void prefetchesRunAFewAtATimeAndAPodsRequestDoesNotQueueBehindThem() throws Exception {
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), true);
        List<CredentialKey> keys = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            keys.add(new CredentialKey(KEY.role(), "team.web-" + i, Optional.empty()));
        }
        sts.closeGate();
        keys.forEach(cache::prefetch);
        eventually("the first prefetches reach STS", () -> sts.assumeRoleCalls() == 8);
        Thread.sleep(300);
        assertEquals(8, sts.assumeRoleCalls(), "no more than 8 background calls at once (a node's 1000 pods at start-up)");
        CredentialKey last = keys.getLast();
        CompletableFuture<Credentials> asked = CompletableFuture.supplyAsync(() -> cache.get(last), Thread.ofVirtual()::start);
        eventually("the request's own call reaches STS while the prefetches wait", () -> sts.assumeRoleCalls() == 9);
        sts.open();
        asked.get(10, TimeUnit.SECONDS);
        eventually("every key prefetched", () -> keys.stream().allMatch(cache::has));
        assertEquals(20, sts.assumeRoleCalls(), "the queued prefetch of the key a request fetched is skipped");
    }

    @Test
    void heldPrefetchesWaitForTheReleaseAndARequestDoesNot() throws Exception {
        CredentialCache cache = cache(CredentialCache.Settings.defaults(), true);
        cache.holdPrefetches();
        cache.holdPrefetches(); // twice: still one release opens them
        List<CredentialKey> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            keys.add(new CredentialKey(KEY.role(), "team.web-" + i, Optional.empty()));
        }
        keys.forEach(cache::prefetch);
        Thread.sleep(300);
        assertEquals(0, sts.assumeRoleCalls(), "held prefetches do not call STS (the agent's start-up)");
        cache.get(keys.getFirst());
        assertEquals(1, sts.assumeRoleCalls(), "a pod's request fetches while prefetches are held");
        cache.releasePrefetches();
        eventually("every key prefetched after the release", () -> keys.stream().allMatch(cache::has));
        assertEquals(5, sts.assumeRoleCalls(), "the prefetch of the key a request fetched is skipped");
        cache.releasePrefetches(); // a second release gives no extra slots
        sts.closeGate();
        List<CredentialKey> more = new ArrayList<>();
        for (int i = 5; i < 25; i++) {
            more.add(new CredentialKey(KEY.role(), "team.web-" + i, Optional.empty()));
        }
        more.forEach(cache::prefetch);
        eventually("the next prefetches reach STS", () -> sts.assumeRoleCalls() == 5 + 8);
        Thread.sleep(300);
        assertEquals(5 + 8, sts.assumeRoleCalls(), "still no more than 8 background calls at once after two releases");
        sts.open();
    }

    @Test
    void aKeyNobodyWantsIsDroppedInsteadOfRefreshed() throws Exception {
        sts.lifetime(Duration.ofSeconds(3));
        CredentialCache cache = new CredentialCache(source, new CredentialCache.Settings(Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ZERO, Duration.ofMillis(200), Duration.ZERO, Duration.ZERO, Duration.ofSeconds(5)), Clock.systemUTC(), k -> false);
        caches.add(cache);
        cache.get(KEY);
        eventually("evicted", () -> cache.stats().evictions() == 1);
        assertEquals(0, cache.stats().entries());
        assertEquals(1, sts.assumeRoleCalls(), "no refresh for an unwanted key");
    }
}
