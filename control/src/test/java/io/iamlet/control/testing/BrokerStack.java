package io.iamlet.control.testing;

import io.iamlet.control.CredentialBroker;
import io.iamlet.control.PodRoles;
import io.iamlet.control.credentials.CredentialCache;
import io.iamlet.control.events.PodEventRecorder;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.policy.RoleSettings;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The control layer as the agent assembles it (pod index, policy, cache, events, broker) against {@link FakeAws}'s mock
 * API server and fake STS, synced and ready; closing it stops what it started.
 */
public record BrokerStack(PodIndex index, RolePolicy policy, CredentialCache cache, PodEventRecorder events, CredentialBroker broker)
        implements AutoCloseable {
    public static final String NODE = "node-a";

    public static BrokerStack start(FakeAws aws, RoleSettings settings) throws InterruptedException {
        PodIndex index = new PodIndex(aws.api().client(), new PodIndex.Settings(NODE, Duration.ofMinutes(30), Duration.ofSeconds(2), true));
        RolePolicy policy = new RolePolicy(settings);
        PodRoles roles = new PodRoles(index, policy);
        CredentialCache cache = new CredentialCache(aws.stsSource(), CredentialCache.Settings.defaults(), Clock.systemUTC(), roles::wants);
        PodEventRecorder events = new PodEventRecorder(aws.api().client(), NODE, Clock.systemUTC(), Duration.ofMinutes(5));
        BrokerStack stack = new BrokerStack(index, policy, cache, events, new CredentialBroker(roles, cache, events, Optional.empty()));
        index.start();
        index.awaitSynced(Duration.ofSeconds(10));
        return stack;
    }

    @Override
    public void close() {
        index.close();
        cache.close();
        events.close();
    }
}
