package io.iamlet.agent.cli;

import io.iamlet.agent.AgentConfig;
import io.iamlet.control.policy.RoleSettings;
import io.iamlet.redirect.Backend;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** kube2iam command lines, read by `iamlet run` (no kernel, no API). */
class RunCommandTest {
    static AgentConfig config(Map<String, String> env, String... args) {
        return RunCommand.config(Flags.parse(RunCommand.FLAGS, List.of(args)), env);
    }

    @Test
    void aKube2iamDaemonSetCommandLineWorksUnchanged() {
        AgentConfig c = config(Map.of("HOST_IP", "10.1.2.3", "NODE_NAME", "ip-10-1-2-3"),
                "--app-port=8181", "--iptables=true", "--host-interface=cali+", "--auto-discover-base-arn", "--verbose", "--debug",
                "--namespace-restrictions", "--namespace-restriction-format=regexp", "--iam-role-session-ttl=30m", "--log-format=json");
        assertEquals("ip-10-1-2-3", c.node().name());
        assertEquals("10.1.2.3", c.rules().spec().orElseThrow().hostIp().getHostAddress());
        assertEquals("cali+", c.rules().spec().orElseThrow().interfaces().getFirst().toString());
        assertTrue(c.credentials().autoDiscoverBaseArn());
        assertTrue(c.credentials().roles().namespaceRestrictions());
        assertEquals(RoleSettings.RestrictionFormat.REGEXP, c.credentials().roles().restrictionFormat());
        assertEquals(Duration.ofHours(1), c.credentials().sessionDuration(), "kube2iam asks STS for twice the session TTL");
        assertEquals(AgentConfig.OnExit.AUTO, c.rules().onExit());
        assertEquals(8182, c.serving().metricsPort());
        assertTrue(c.pods().resolveDuplicates(), "on by default here");
        assertEquals(Duration.ofSeconds(2), c.pods().lookupBudget());
        assertEquals("http://169.254.169.254", c.serving().metadata().toString());
    }

    /** kube2iam's flags are pflag booleans: bare means true, and strconv.ParseBool's spellings work (issue: exit 64 before). */
    @Test
    void everyBooleanFlagTakesTheBareFormAndPflagSpellings() {
        List<String> booleans = RunCommand.FLAGS.stream().filter(Flags.Spec::bool).map(Flags.Spec::name)
                .filter(n -> !n.equals("version")).toList();
        assertTrue(booleans.containsAll(List.of("resolve-duplicate-cache-ips", "allow-cross-account", "iptables", "insecure",
                "auto-discover-base-arn", "auto-discover-default-role", "namespace-restrictions", "use-regional-sts-endpoint",
                "verbose", "debug")), booleans.toString());
        for (String name : booleans) {
            Flags bare = Flags.parse(RunCommand.FLAGS, List.of("--" + name, "--node=n"));
            assertTrue(bare.bool(name), name + " bare");
            assertEquals(List.of(), bare.positional(), "a bare boolean does not swallow the next argument: " + name);
            for (String yes : List.of("true", "True", "TRUE", "t", "1")) {
                assertTrue(Flags.parse(RunCommand.FLAGS, List.of("--" + name + "=" + yes)).bool(name), name + "=" + yes);
            }
            for (String no : List.of("false", "False", "FALSE", "f", "0")) {
                assertFalse(Flags.parse(RunCommand.FLAGS, List.of("--" + name + "=" + no)).bool(name), name + "=" + no);
            }
            assertThrows(UsageException.class, () -> Flags.parse(RunCommand.FLAGS, List.of("--" + name + "=yes")));
        }
        AgentConfig c = config(Map.of(), "--node=n", "--resolve-duplicate-cache-ips", "--allow-cross-account=false",
                "--base-role-arn=arn:aws:iam::123456789012:role/");
        assertTrue(c.pods().resolveDuplicates());
        assertFalse(c.credentials().roles().allowCrossAccount());
    }

    @Test
    void withoutIptablesNoRulesAndNoHostIpNeeded() {
        AgentConfig c = config(Map.of(), "--node=n1", "--base-role-arn=arn:aws:iam::123456789012:role/", "--on-exit=remove");
        assertTrue(c.rules().spec().isEmpty());
        assertEquals("arn:aws:iam::123456789012:role/", c.credentials().roles().baseArn().orElseThrow().text());
        assertEquals(AgentConfig.OnExit.REMOVE, c.rules().onExit());
    }

    @Test
    void containerCredentialsIsOffUnlessAskedAndReachesTheSpec() {
        Map<String, String> env = Map.of("HOST_IP", "10.1.2.3", "NODE_NAME", "n1");
        assertFalse(config(env, "--iptables").rules().spec().orElseThrow().containerCredentials());
        assertTrue(config(env, "--iptables", "--container-credentials=on").rules().spec().orElseThrow().containerCredentials());
        assertFalse(config(env, "--iptables", "--container-credentials=off").rules().spec().orElseThrow().containerCredentials());
        UsageException e = assertThrows(UsageException.class, () -> config(env, "--iptables", "--container-credentials=yes"));
        assertEquals("--container-credentials takes on or off, not 'yes'", e.getMessage());
    }

    @Test
    void sessionTagsAreOffUnlessAskedAndTakeTheClusterFromTheFlags() {
        var off = config(Map.of(), "--node=n").credentials().roles().sessionTags();
        assertFalse(off.enabled(), "a kube2iam cluster's trust policies lack sts:TagSession: off by default");
        var on = config(Map.of(), "--node=n", "--session-tags", "--cluster-name=prod",
                "--cluster-arn=arn:aws:eks:eu-west-1:111122223333:cluster/prod").credentials().roles().sessionTags();
        assertTrue(on.enabled());
        assertEquals(Optional.of("prod"), on.clusterName());
        assertEquals(Optional.of("arn:aws:eks:eu-west-1:111122223333:cluster/prod"), on.clusterArn());
        assertTrue(config(Map.of(), "--node=n", "--session-tags").credentials().roles().sessionTags().clusterName().isEmpty());
        UsageException e = assertThrows(UsageException.class, () -> config(Map.of(), "--node=n", "--session-tags", "--cluster-name=a;b"));
        assertTrue(e.getMessage().contains("--cluster-name"), e.getMessage());
        assertThrows(UsageException.class, () -> config(Map.of(), "--node=n", "--session-tags", "--cluster-arn=prod"));
    }

    @Test
    void badFlagsAreNamed() {
        record Case(List<String> args, String expected) {
        }
        for (Case c : List.of(
                new Case(List.of(), "--node is required"),
                new Case(List.of("--node=n", "--iptables"), "--host-ip is required"),
                new Case(List.of("--node=n", "--backend=bpf"), "--backend must be nftables, iptables or ebpf, not 'bpf'"),
                new Case(List.of("--node=n", "--on-exit=later"), "--on-exit must be one of [remove, block, auto]"),
                new Case(List.of("--node=n", "--iam-role-error-ttl=5 minutes"), "--iam-role-error-ttl takes a duration"),
                new Case(List.of("--node=n", "--session-duration=5m"), "sessions must last 15m to 12h"),
                new Case(List.of("--node=n", "--session-duration=20m"), "--session-duration: sessions must last at least 23m"),
                new Case(List.of("--node=n", "--iam-role-session-ttl=10m"), "--iam-role-session-ttl: sessions must last at least 23m"),
                new Case(List.of("--node=n", "--app-port=70000"), "--app-port must be 1..65535"),
                new Case(List.of("--node=n", "--imds-v2=sometimes"), "--imds-v2 must be one of [optional, required]"),
                new Case(List.of("--node=n", "--default-role=a", "--auto-discover-default-role"), "alternatives"),
                new Case(List.of("--node=n", "--base-role-arn=arn:aws:iam::12:role/"), "--base-role-arn: invalid base role ARN"),
                new Case(List.of("--node=n", "--sts-endpoint=not a url"), "--sts-endpoint must be a URL"),
                new Case(List.of("--node=n", "--api-reads-per-second=-1"), "--api-reads-per-second: API reads per second must be 0 or more"),
                new Case(List.of("--node=n", "--api-reads-per-second=lots"), "--api-reads-per-second must be a whole number"),
                new Case(List.of("--node=n", "--no-such-flag"), "unknown flag --no-such-flag"))) {
            Exception e = assertThrows(IllegalArgumentException.class, () -> config(Map.of(), c.args().toArray(String[]::new)),
                    c.args().toString());
            assertTrue(e.getMessage().contains(c.expected()), c.args() + " should say '" + c.expected() + "': " + e.getMessage());
        }
    }

    @Test
    void theEbpfBackendTakesTheCgroupAndPinDirectory() {
        AgentConfig c = config(Map.of("HOST_IP", "10.0.0.1"), "--node=n", "--iptables", "--backend=ebpf",
                "--cgroup=/sys/fs/cgroup/kubepods.slice", "--bpf-pin-dir=/sys/fs/bpf/other");
        assertEquals(Backend.EBPF, c.rules().backend());
        assertEquals(Path.of("/sys/fs/cgroup/kubepods.slice"), c.rules().cgroup().orElseThrow());
        assertEquals(Path.of("/sys/fs/bpf/other"), c.rules().bpfPinDir());
        assertEquals(Path.of("/sys/fs/bpf/iamlet"), config(Map.of(), "--node=n").rules().bpfPinDir(), "the default");
        AgentConfig v6 = config(Map.of("HOST_IP", "10.0.0.1"), "--node=n", "--iptables", "--backend=ebpf", "--host-ipv6=fd00::1",
                "--cgroup=/sys/fs/cgroup/kubepods.slice");
        assertEquals("fd00:0:0:0:0:0:0:1", v6.rules().spec().orElseThrow().hostIpv6().orElseThrow().getHostAddress(),
                "the eBPF backend takes --host-ipv6 (native IPv6 connects to [fd00:ec2::254]:80)");
    }

    @Test
    void theApiReadBudgetHasADefaultAndTakesZero() {
        assertEquals(5, config(Map.of(), "--node=n").pods().apiReadsPerSecond(), "docs/scale.md's figures are for this default");
        assertEquals(0, config(Map.of(), "--node=n", "--api-reads-per-second=0").pods().apiReadsPerSecond());
        assertEquals(20, config(Map.of(), "--node=n", "--api-reads-per-second", "20").pods().apiReadsPerSecond());
    }

    @Test
    void goDurations() {
        assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m", "x"));
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms", "x"));
        assertEquals(Duration.ZERO, Durations.parse("0", "x"));
        assertEquals(Duration.ofSeconds(2), Durations.parse("2s", "x"));
        assertThrows(UsageException.class, () -> Durations.parse("2", "x"));
        assertThrows(UsageException.class, () -> Durations.parse("m", "x"));
    }

    @Test
    void bareFlagsMeanRunAsWithKube2iam() {
        CliTest.Run r = CliTest.run(Map.of(), "--node=n", "--backend=bpf");
        assertEquals(64, r.exit());
        assertTrue(r.err().contains("iamlet run: --backend must be nftables, iptables or ebpf"), r.err());
        assertEquals(0, CliTest.run("--version").exit());
    }
}
