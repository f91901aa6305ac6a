package io.iamlet.redirect;

import io.iamlet.redirect.netfilter.InstalledRules;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class ModelTest {
    @Test
    void interfacePatternsFollowKube2iamSyntax() {
        assertEquals(new InterfacePattern("cali", true), InterfacePattern.parse("cali+"));
        assertEquals(new InterfacePattern("cali", true), InterfacePattern.parse("cali*"));
        assertEquals(new InterfacePattern("docker0", false), InterfacePattern.parse("docker0"));
        assertEquals(List.of(InterfacePattern.parse("cali+"), InterfacePattern.parse("eni+"), InterfacePattern.parse("weave")),
                InterfacePattern.parseList("cali+, eni+,weave,cali+"));
        for (String bad : List.of("", "+", "a/b", "way-too-long-interface-name", "ca li", "cali++")) {
            assertThrows(IllegalArgumentException.class, () -> InterfacePattern.parseList(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> InterfacePattern.parseList("cali+,,eni+"));
    }

    @Test
    void matchBytesRoundTrip() {
        for (String p : List.of("cali+", "eni+", "lxc+", "docker0", "cni0", "weave", "a")) {
            InterfacePattern pattern = InterfacePattern.parse(p);
            assertEquals(pattern, InterfacePattern.fromMatchBytes(pattern.matchBytes()), p);
        }
    }

    @Test
    void hostAddressesAreCheckedWithReasons() {
        assertEquals("10.1.2.3", RedirectSpec.parse("10.1.2.3", "cali+", 8181, null).hostIp().getHostAddress());
        record Case(String ip, String expected) {
        }
        for (Case c : List.of(
                new Case("node-1.example", "not an IPv4 address"),
                new Case("999.1.1.1", "not an IPv4 address"),
                new Case("10.1", "not an IPv4 address"),
                new Case("", "host IP is required"),
                new Case("127.0.0.1", "martian"),
                new Case("0.0.0.0", "unspecified"),
                new Case("169.254.169.254", "loop"),
                new Case("224.0.0.1", "multicast"),
                new Case("255.255.255.255", "broadcast"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RedirectSpec.parse(c.ip(), "cali+", 8181, null), c.ip());
            assertTrue(e.getMessage().contains(c.expected()) && e.getMessage().startsWith("host IP "), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> RedirectSpec.parse("10.1.2.3", "cali+", 0, null));
        assertThrows(IllegalArgumentException.class, () -> RedirectSpec.parse("10.1.2.3", "cali+", 8181, "10.1.2.3"));
        assertThrows(IllegalArgumentException.class, () -> RedirectSpec.parse("10.1.2.3", "cali+", 8181, "::1"));
    }

    @Test
    void specListsIpv4RulesThenIpv6() {
        RedirectSpec spec = RedirectSpec.parse("10.1.2.3", "cali+,eni+", 9000, "fd00::5");
        assertEquals(4, spec.rules().size());
        assertEquals(IpFamily.IPV4, spec.rules().get(1).family());
        assertEquals(IpFamily.IPV6, spec.rules().get(2).family());
        assertEquals(9000, spec.rules().get(3).port());
    }

    @Test
    void containerCredentialsAddsOneRulePerFamilyAndInterfaceAfterTheMetadataOnes() {
        RedirectSpec spec = RedirectSpec.parse("10.1.2.3", "cali+,eni+", 9000, "fd00::5");
        assertFalse(spec.containerCredentials(), "off unless asked");
        assertEquals(List.of(Destination.IMDS), spec.destinations());
        List<String> rules = spec.withContainerCredentials(true).rules().stream().map(RedirectRule::toString).toList();
        assertEquals(List.of(
                "ip   iifname cali+      169.254.169.254:80 -> 10.1.2.3:9000",
                "ip   iifname eni+       169.254.169.254:80 -> 10.1.2.3:9000",
                "ip   iifname cali+      169.254.170.23:80 -> 10.1.2.3:9000",
                "ip   iifname eni+       169.254.170.23:80 -> 10.1.2.3:9000",
                "ip6  iifname cali+      [fd00:ec2:0:0:0:0:0:254]:80 -> [fd00:0:0:0:0:0:0:5]:9000",
                "ip6  iifname eni+       [fd00:ec2:0:0:0:0:0:254]:80 -> [fd00:0:0:0:0:0:0:5]:9000",
                "ip6  iifname cali+      [fd00:ec2:0:0:0:0:0:23]:80 -> [fd00:0:0:0:0:0:0:5]:9000",
                "ip6  iifname eni+       [fd00:ec2:0:0:0:0:0:23]:80 -> [fd00:0:0:0:0:0:0:5]:9000"), rules);
        assertThrows(IllegalArgumentException.class, () -> RedirectSpec.parse("169.254.170.23", "cali+", 8181, null),
                "the credentials endpoint itself is no redirect target");
        assertThrows(IllegalArgumentException.class, () -> RedirectSpec.parse("10.1.2.3", "cali+", 8181, "fd00:ec2::23"));
    }

    @Test
    void aRuleForTheOtherDestinationIsNotTheSameRule() {
        RedirectSpec spec = RedirectSpec.parse("10.0.0.1", "cali+", 8181, null);
        InstalledRules imdsOnly = new InstalledRules("table inet iamlet", true, Optional.empty(),
                List.of(new InstalledRules.Entry(spec.rules().getFirst(), 2, 0)), List.of());
        RuleCheck check = imdsOnly.check(Optional.of(spec.withContainerCredentials(true)));
        assertTrue(check.summary().contains("missing rule: ip   iifname cali+      169.254.170.23:80"), check.summary());
        assertEquals(new RuleCheck.AsExpected(), imdsOnly.check(Optional.of(spec)));
    }

    @Test
    void markerRoundTripsAndIgnoresOtherComments() {
        OwnershipMarker marker = new OwnershipMarker(1, "0.1.0", "10.0.0.1");
        assertEquals(Optional.of(marker), OwnershipMarker.parse(marker.text()));
        assertEquals(Optional.empty(), OwnershipMarker.parse("kube2iam"));
        assertEquals(Optional.empty(), OwnershipMarker.parse(null));
        assertEquals(Optional.empty(), OwnershipMarker.parse("iamlet garbage"));
    }

    @Test
    void checkNamesMissingAndUnaskedRules() {
        RedirectSpec spec = RedirectSpec.parse("10.0.0.1", "cali+,eni+", 8181, null);
        InstalledRules onlyCali = new InstalledRules("table inet iamlet", true, Optional.empty(),
                List.of(new InstalledRules.Entry(spec.rules().getFirst(), 2, 0),
                        new InstalledRules.Entry(new RedirectRule(IpFamily.IPV4, InterfacePattern.parse("lxc+"),
                                spec.hostIp(), 8181), 3, 0)),
                List.of());
        RuleCheck check = onlyCali.check(Optional.of(spec));
        assertInstanceOf(RuleCheck.Unexpected.class, check);
        assertTrue(check.summary().contains("missing rule: ip   iifname eni+"), check.summary());
        assertTrue(check.summary().contains("rule not asked for: ip   iifname lxc+"), check.summary());
        assertInstanceOf(RuleCheck.Absent.class, InstalledRules.absent("x").check(Optional.of(spec)));
        assertInstanceOf(RuleCheck.AsExpected.class, onlyCali.check(Optional.empty()));
    }
}
