package io.iamlet.redirect.nftables;

import io.iamlet.redirect.InterfacePattern;
import io.iamlet.redirect.IpFamily;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.netfilter.InstalledRules;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.netlink.NetlinkException;
import io.iamlet.netlink.testing.Capabilities;
import io.iamlet.netlink.testing.TestNamespace;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Installs, reads and removes the nftables redirect in a throwaway network namespace (needs root). */
class NftablesBackendKernelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.20.0.1", "cali+,eni+,docker0", 8181, "fd20::1");

    @RegisterExtension
    final TestNamespace ns = new TestNamespace();
    private final NftablesBackend backend = new NftablesBackend("test");



    /** Everything `nft -j list ruleset` reports, minus metainfo. */
    private List<JsonNode> ruleset() throws Exception {
        JsonNode root = JSON.readTree(ns.exec("nft", "-j", "list", "ruleset").ok().stdout());
        List<JsonNode> items = new ArrayList<>();
        root.get("nftables").forEach(n -> {
            if (!n.has("metainfo")) {
                items.add(n);
            }
        });
        return items;
    }

    private static List<JsonNode> of(List<JsonNode> items, String kind) {
        return items.stream().filter(n -> n.has(kind)).map(n -> n.get(kind)).toList();
    }

    private void assertExactlyOurRules() throws Exception {
        List<JsonNode> items = ruleset();
        List<JsonNode> tables = of(items, "table");
        assertEquals(1, tables.size(), "exactly one table: " + items);
        assertEquals("inet", tables.getFirst().get("family").asText());
        assertEquals("iamlet", tables.getFirst().get("name").asText());
        List<JsonNode> chains = of(items, "chain");
        assertEquals(1, chains.size(), "exactly one chain: " + chains);
        JsonNode chain = chains.getFirst();
        assertEquals("nat", chain.get("type").asText());
        assertEquals("prerouting", chain.get("hook").asText());
        assertEquals(-110, chain.get("prio").asInt());
        List<JsonNode> rules = of(items, "rule");
        assertEquals(SPEC.rules().size(), rules.size(), "one rule per interface and family: " + rules);
        List<String> seen = new ArrayList<>();
        for (JsonNode rule : rules) {
            JsonNode expr = rule.get("expr");
            String iif = expr.get(0).get("match").get("right").asText();
            JsonNode daddr = expr.get(1).get("match");
            String proto = daddr.get("left").get("payload").get("protocol").asText();
            JsonNode dnat = expr.get(4).get("dnat");
            assertEquals(80, expr.get(2).get("match").get("right").asInt(), rule.toString());
            assertEquals(8181, dnat.get("port").asInt(), rule.toString());
            assertTrue(rule.get("comment").asText().startsWith("iamlet format=1 version=test host-ip=10.20.0.1"), rule.toString());
            seen.add(proto + " " + iif + " " + daddr.get("right").asText() + " -> " + dnat.get("addr").asText());
        }
        assertEquals(List.of(
                "ip cali* 169.254.169.254 -> 10.20.0.1",
                "ip eni* 169.254.169.254 -> 10.20.0.1",
                "ip docker0 169.254.169.254 -> 10.20.0.1",
                "ip6 cali* fd00:ec2::254 -> fd20::1",
                "ip6 eni* fd00:ec2::254 -> fd20::1",
                "ip6 docker0 fd00:ec2::254 -> fd20::1"), seen);
    }

    @Test
    void installWritesExactlyOurRulesAndShowReadsThemBack() throws Exception {
        InstalledRules installed = ns.call(() -> backend.installRules(SPEC));
        assertEquals(SPEC.rules(), installed.redirectRules());
        assertExactlyOurRules();
        InstalledRules shown = ns.call(backend::rules);
        assertEquals(new RuleCheck.AsExpected(), shown.check(Optional.of(SPEC)));
        assertEquals(Optional.of(new OwnershipMarker(1, "test", "10.20.0.1")), shown.marker());
        assertTrue(shown.describe().contains("ip   iifname cali+      169.254.169.254:80 -> 10.20.0.1:8181"), shown.describe());
    }

    @Test
    void installingAHundredTimesLeavesOneSet() throws Exception {
        ns.run(() -> {
            for (int i = 0; i < 100; i++) {
                backend.installRules(SPEC);
            }
        });
        assertExactlyOurRules();
    }

    @Test
    void reinstallWithOtherSettingsReplacesTheOldRules() throws Exception {
        ns.run(() -> backend.installRules(SPEC));
        RedirectSpec other = RedirectSpec.parse("10.20.0.9", "eni+", 9000, null);
        ns.run(() -> backend.installRules(other));
        InstalledRules shown = ns.call(backend::rules);
        assertEquals(other.rules(), shown.redirectRules());
        assertInstanceOf(RuleCheck.Unexpected.class, shown.check(Optional.of(SPEC)));
        assertEquals(1, of(ruleset(), "rule").size());
    }

    @Test
    void removeDeletesTheTableAndIsIdempotent() throws Exception {
        ns.run(() -> backend.installRules(SPEC));
        ns.run(backend::remove);
        assertEquals(List.of(), ruleset(), "nothing may be left behind");
        ns.run(backend::remove);
        ns.run(backend::remove);
        assertFalse(ns.call(backend::rules).present());
        assertInstanceOf(RuleCheck.Absent.class, ns.call(backend::rules).check(Optional.of(SPEC)));
    }

    @Test
    void foreignTablesAreNeverTouched() throws Exception {
        ns.exec("nft", "add table ip filter; add chain ip filter input { type filter hook input priority 0; };"
                + " add rule ip filter input tcp dport 22 accept; add table inet other;"
                + " add chain inet other pre { type nat hook prerouting priority dstnat; };"
                + " add rule inet other pre ip daddr 10.9.9.9 tcp dport 80 dnat ip to 10.9.9.8:80").ok();
        String before = ns.exec("nft", "list", "ruleset").ok().stdout();
        ns.run(() -> backend.installRules(SPEC));
        ns.run(() -> backend.installRules(SPEC));
        ns.run(backend::remove);
        assertEquals(before, ns.exec("nft", "list", "ruleset").ok().stdout());
    }

    @Test
    void showReportsForeignAndDuplicateRulesAndInstallCleansThemUp() throws Exception {
        ns.run(() -> backend.installRules(SPEC));
        ns.exec("nft", "add rule inet iamlet prerouting tcp dport 22 accept").ok();
        // A copy of one of our rules, as a second writer would leave it.
        ns.exec("nft", "add rule inet iamlet prerouting iifname \"cali*\" meta nfproto ipv4 ip daddr 169.254.169.254"
                + " tcp dport 80 counter dnat ip to 10.20.0.1:8181 comment \"iamlet format=1 version=test host-ip=10.20.0.1\"").ok();
        InstalledRules shown = ns.call(backend::rules);
        RuleCheck check = shown.check(Optional.of(SPEC));
        assertInstanceOf(RuleCheck.Unexpected.class, check);
        assertTrue(shown.problems().stream().anyMatch(p -> p.startsWith("foreign rule in chain prerouting")), shown.problems().toString());
        assertTrue(shown.problems().stream().anyMatch(p -> p.startsWith("duplicate rule (2 copies")), shown.problems().toString());
        ns.run(() -> backend.installRules(SPEC));
        assertExactlyOurRules();
    }

    @Test
    void aRuleWrittenByNftForTheSameRedirectIsRecognised() throws Exception {
        // Proves our expression sequence is the one nft itself produces.
        ns.exec("nft", "add table inet iamlet { comment \"iamlet format=1 version=nft host-ip=10.20.0.1\"; };"
                + " add chain inet iamlet prerouting { type nat hook prerouting priority dstnat - 10; };"
                + " add rule inet iamlet prerouting iifname \"eni*\" meta nfproto ipv4 ip daddr 169.254.169.254 tcp dport 80"
                + " counter dnat ip to 10.20.0.1:8181 comment \"iamlet format=1 version=nft host-ip=10.20.0.1\"").ok();
        InstalledRules shown = ns.call(backend::rules);
        assertEquals(List.of(), shown.problems());
        assertEquals(List.of(new RedirectRule(IpFamily.IPV4, InterfacePattern.parse("eni+"), SPEC.hostIp(), 8181)),
                shown.redirectRules());
    }

    @Test
    void withoutCapNetAdminTheErrorNamesTheCause() throws Exception {
        NetlinkException e = ns.call(() -> {
            Capabilities.dropAllForThisThread();
            return assertThrows(NetlinkException.class, () -> backend.installRules(SPEC));
        });
        assertTrue(e.getMessage().contains("EPERM") && e.getMessage().contains("CAP_NET_ADMIN"), e.getMessage());
        assertTrue(e.getMessage().contains("install metadata redirect in table inet iamlet"), e.getMessage());
        assertEquals(List.of(), ruleset(), "a refused install leaves nothing behind");
    }
}
