package io.iamlet.redirect.iptables;

import io.iamlet.netlink.testing.Netns;
import io.iamlet.netlink.testing.TestNamespace;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.netfilter.InstalledRules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The iptables-compatible backend, checked with iptables-nft itself in a throwaway namespace (needs root). */
class IptablesBackendKernelTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.60.0.1", "cali+,docker0", 8181, null);
    private static final String MARK = "-m comment --comment \"iamlet format=1 version=test host-ip=10.60.0.1\"";

    @RegisterExtension
    final TestNamespace ns = new TestNamespace();
    private final IptablesBackend backend = new IptablesBackend("test", false);



    private List<String> rules(String tool) {
        return ns.exec(tool, "-t", "nat", "-S").ok().stdout().lines().toList();
    }

    private List<String> ours(String tool) {
        return rules(tool).stream().filter(l -> l.contains("IAMLET")).toList();
    }

    @Test
    void iptablesUsersSeeOrdinaryRules() throws Exception {
        ns.run(() -> backend.installRules(SPEC));
        assertEquals(List.of(
                "-N IAMLET-METADATA",
                "-A PREROUTING -d 169.254.169.254/32 -i cali+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A PREROUTING -d 169.254.169.254/32 -i docker0 -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A IAMLET-METADATA -p tcp " + MARK + " -j DNAT --to-destination 10.60.0.1:8181"), ours("iptables-nft"));
        assertEquals(0, ns.exec("iptables-nft-save").exitCode(), "iptables-save must keep working for the whole ruleset");
        InstalledRules shown = ns.call(backend::rules);
        assertEquals(new RuleCheck.AsExpected(), shown.check(Optional.of(SPEC)), shown.describe());
        assertEquals(SPEC.rules(), shown.redirectRules());
    }

    @Test
    void aThousandInstallsLeaveOneJumpPerInterface() throws Exception {
        ns.run(() -> {
            for (int i = 0; i < 1000; i++) {
                backend.installRules(SPEC);
            }
        });
        assertEquals(4, ours("iptables-nft").size(), ours("iptables-nft").toString());
    }

    @Test
    void otherRulesKeepTheirPlaceAndOrder() throws Exception {
        ns.exec("iptables-nft", "-t", "nat", "-N", "KUBE-SERVICES").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals",
                "-j", "KUBE-SERVICES").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "RETURN").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-s", "10.9.0.0/16", "-j", "MASQUERADE").ok();
        List<String> before = rules("iptables-nft");
        ns.run(() -> backend.installRules(SPEC));
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-p", "udp", "--dport", "53", "-j", "RETURN").ok();
        ns.run(() -> backend.installRules(RedirectSpec.parse("10.60.0.1", "eni+", 8181, null)));
        List<String> others = rules("iptables-nft").stream().filter(l -> !l.contains("IAMLET")).toList();
        List<String> expected = new ArrayList<>(before);
        expected.add("-A PREROUTING -p udp -m udp --dport 53 -j RETURN");
        expected.sort(null);
        assertEquals(expected, others.stream().sorted().toList(), "nobody else's rule is added, lost or changed");
        List<String> prerouting = others.stream().filter(l -> l.startsWith("-A PREROUTING")).toList();
        assertTrue(prerouting.getFirst().contains("KUBE-SERVICES") && prerouting.getLast().contains("udp"),
                "kube-proxy-like rules keep their order: " + prerouting);
        assertEquals(List.of("-N IAMLET-METADATA",
                "-A PREROUTING -d 169.254.169.254/32 -i eni+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A IAMLET-METADATA -p tcp " + MARK + " -j DNAT --to-destination 10.60.0.1:8181"), ours("iptables-nft"),
                "the jumps of interfaces no longer asked for are gone");

        ns.run(backend::remove);
        ns.run(backend::remove);
        assertEquals(List.of(), ours("iptables-nft"));
        assertEquals(expected, rules("iptables-nft").stream().sorted().toList());
    }

    @Test
    void ipv6GoesIntoIp6NatAndLeavesWhenNoLongerAsked() throws Exception {
        RedirectSpec dual = RedirectSpec.parse("10.60.0.1", "cali+", 8181, "fd60::1");
        ns.run(() -> backend.installRules(dual));
        assertEquals(List.of("-N IAMLET-METADATA",
                "-A PREROUTING -d fd00:ec2::254/128 -i cali+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A IAMLET-METADATA -p tcp " + MARK + " -j DNAT --to-destination [fd60::1]:8181"), ours("ip6tables-nft"));
        assertEquals(dual.rules(), ns.call(backend::rules).redirectRules());
        ns.run(() -> backend.installRules(RedirectSpec.parse("10.60.0.1", "cali+", 8181, null)));
        assertEquals(List.of(), ours("ip6tables-nft"));
        assertEquals(3, ours("iptables-nft").size(), "IPv4: the chain, one jump, the DNAT");
    }

    @Test
    void kube2iamRulesAreReportedAndAdoptedOnlyWhenAsked() throws Exception {
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-d", "169.254.169.254/32", "-i", "cali+", "-p", "tcp",
                "--dport", "80", "-j", "DNAT", "--to-destination", "10.60.0.1:8181").ok();
        List<String> competing = ns.call(backend::competingRules);
        assertEquals(1, competing.size(), competing.toString());
        assertTrue(competing.getFirst().contains("target DNAT"), competing.toString());
        ns.run(() -> backend.installRules(SPEC));
        assertEquals(1, ns.call(backend::competingRules).size(), "without --adopt-kube2iam-rules nothing foreign is removed");
        ns.run(() -> new IptablesBackend("test", true).installRules(SPEC));
        assertEquals(List.of(), ns.call(backend::competingRules));
        assertEquals(4, rules("iptables-nft").stream().filter(l -> l.startsWith("-A") || l.startsWith("-N")).count(),
                rules("iptables-nft").toString());
    }

    @Test
    void showReportsForeignJumpsAndDuplicates() throws Exception {
        ns.run(() -> backend.installRules(SPEC));
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-s", "10.1.0.0/16", "-j", "IAMLET-METADATA").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "IAMLET-METADATA", "-j", "RETURN").ok();
        InstalledRules shown = ns.call(backend::rules);
        assertInstanceOf(RuleCheck.Unexpected.class, shown.check(Optional.of(SPEC)));
        assertTrue(shown.problems().stream().anyMatch(p -> p.contains("foreign jump")), shown.problems().toString());
        assertTrue(shown.problems().stream().anyMatch(p -> p.contains("foreign rule in chain IAMLET-METADATA")), shown.problems().toString());
        ns.run(() -> backend.installRules(SPEC));
        assertEquals(new RuleCheck.AsExpected(), ns.call(backend::rules).check(Optional.of(SPEC)));
    }

    @Test
    void legacyIptablesIsDetected() throws Exception {
        assertFalse(ns.call(IptablesBackend::legacyNatInUse));
        ns.exec("iptables-legacy", "-t", "nat", "-A", "PREROUTING", "-d", "169.254.169.254/32", "-j", "RETURN").ok();
        assertTrue(ns.call(IptablesBackend::legacyNatInUse));
        try (Netns other = Netns.create()) {
            assertFalse(other.call(IptablesBackend::legacyNatInUse), "detection looks at the calling thread's namespace");
        }
    }

    @Test
    void containerCredentialsJumpsAreOrdinaryIptablesRulesAndGoWhenSwitchedOff() throws Exception {
        RedirectSpec spec = RedirectSpec.parse("10.60.0.1", "cali+", 8181, "fd60::1").withContainerCredentials(true);
        ns.run(() -> {
            backend.installRules(spec);
            backend.installRules(spec);
        });
        assertEquals(List.of(
                "-N IAMLET-METADATA",
                "-A PREROUTING -d 169.254.169.254/32 -i cali+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A PREROUTING -d 169.254.170.23/32 -i cali+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A IAMLET-METADATA -p tcp " + MARK + " -j DNAT --to-destination 10.60.0.1:8181"), ours("iptables-nft"));
        assertEquals(List.of(
                "-N IAMLET-METADATA",
                "-A PREROUTING -d fd00:ec2::254/128 -i cali+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A PREROUTING -d fd00:ec2::23/128 -i cali+ -p tcp -m tcp --dport 80 " + MARK + " -j IAMLET-METADATA",
                "-A IAMLET-METADATA -p tcp " + MARK + " -j DNAT --to-destination [fd60::1]:8181"), ours("ip6tables-nft"));
        assertEquals(0, ns.exec("iptables-nft-save").exitCode(), "iptables-save must keep reading the table");
        InstalledRules shown = ns.call(backend::rules);
        assertEquals(new RuleCheck.AsExpected(), shown.check(Optional.of(spec)), shown.describe());
        assertEquals(spec.rules(), shown.redirectRules());

        ns.run(() -> backend.installRules(spec.withContainerCredentials(false)));
        assertTrue(ours("iptables-nft").stream().noneMatch(l -> l.contains("169.254.170.23")), ours("iptables-nft").toString());
        assertEquals(3, ours("iptables-nft").size(), "IPv4: the chain, one jump, the DNAT");
        ns.run(() -> backend.installRules(spec));
        ns.run(backend::remove);
        assertEquals(List.of(), ours("iptables-nft"));
        assertEquals(List.of(), ours("ip6tables-nft"));
    }
}
