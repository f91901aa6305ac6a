package io.iamlet.agent.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.iamlet.control.KubeClients;
import io.iamlet.control.aws.StsRegion;
import io.iamlet.control.pods.PodIndex;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.pods.PodLookup;
import io.iamlet.control.policy.RoleDecision;
import io.iamlet.control.policy.RolePolicy;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.control.settings.Setting;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The libraries name their settings by field; what the operator reads names the flag. These are the messages
 * as `iamlet run` words them (it hands the libraries {@link FlagNames#FLAGS}).
 */
class FlagNamesTest {
    @Test
    void everySettingIsAFlagOfTheRunCommand() {
        Set<String> flags = RunCommand.FLAGS.stream().map(Flags.Spec::name).collect(Collectors.toSet());
        for (Setting s : Setting.values()) {
            assertTrue(flags.contains(FlagNames.flag(s)), s + " names --" + FlagNames.flag(s) + ", which `iamlet run` does not take");
        }
    }

    @Test
    void theRunCommandHandsTheFlagNamesOn() {
        assertSame(FlagNames.FLAGS, RunCommandTest.config(Map.of(), "--node=n").names());
    }

    @Test
    void aRoleRefusalNamesTheFlags() {
        RoleDecision decision = new RolePolicy(RoleSettings.defaults(), FlagNames.FLAGS)
                .decide(new PodInfo("t", "p", "u", List.of("10.1.0.1"), "Running", false, false, Map.of(RoleSettings.DEFAULT_ROLE_KEY, "reader")),
                        Optional.empty());
        String reason = assertInstanceOf(RoleDecision.Denied.class, decision).reason();
        assertTrue(reason.contains("set --base-role-arn or --auto-discover-base-arn"), reason);
        RoleDecision cross = new RolePolicy(RoleSettings.defaults().withBaseArn("arn:aws:iam::123456789012:role/").withCrossAccount(false),
                FlagNames.FLAGS).decide(new PodInfo("t", "p", "u", List.of("10.1.0.1"), "Running", false, false,
                Map.of(RoleSettings.DEFAULT_ROLE_KEY, "arn:aws:iam::210987654321:role/other")), Optional.empty());
        String crossReason = assertInstanceOf(RoleDecision.Denied.class, cross).reason();
        assertTrue(crossReason.contains("(--allow-cross-account=false)"), crossReason);
    }

    @Test
    void twoClaimantsOfAnAddressNameTheFlagThatSettlesThem() {
        try (KubernetesClient kube = KubeClients.create(new KubeClients.ApiSettings(Optional.empty(), Optional.of("http://127.0.0.1:9"),
                Optional.empty(), false));
             PodIndex index = new PodIndex(kube, new PodIndex.Settings("n", Duration.ofMinutes(30), Duration.ofMillis(10), false),
                     FlagNames.FLAGS)) {
            index.upsert(new PodInfo("t", "a", "ua", List.of("10.1.0.7"), "Running", false, false, Map.of()));
            index.upsert(new PodInfo("t", "b", "ub", List.of("10.1.0.7"), "Running", false, false, Map.of()));
            String reason = assertInstanceOf(PodLookup.Ambiguous.class, index.find("10.1.0.7")).reason();
            assertTrue(reason.endsWith("; enable --resolve-duplicate-cache-ips to ask the API server"), reason);
        }
    }

    @Test
    void aRegionalEndpointWithoutARegionNamesTheFlags() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> StsRegion.choose(true, Optional.empty(), Map.of(),
                () -> {
                    throw new IllegalStateException("no metadata");
                }, FlagNames.FLAGS));
        assertTrue(e.getMessage().startsWith("--use-regional-sts-endpoint needs a region: set --region or AWS_REGION"), e.getMessage());
    }
}
