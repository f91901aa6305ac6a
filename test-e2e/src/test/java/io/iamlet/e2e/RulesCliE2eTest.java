package io.iamlet.e2e;

import io.iamlet.netlink.testing.Command;
import io.iamlet.netlink.testing.TestNamespace;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The real launcher, bin/iamlet, as an operator runs it on a node (here: inside a throwaway namespace). */
class RulesCliE2eTest {
    @RegisterExtension
    final TestNamespace ns = new TestNamespace();



    private Command.Result iamlet(String... args) {
        return ns.exec(concat(Launcher.iamlet(), args));
    }

    private static String[] concat(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Test
    void installTwiceLeavesExactlyOneRulePerInterface() {
        String[] install = {"rules", "install", "--host-ip", "10.50.0.1", "--host-interface", "cali+,eni+,docker0"};
        iamlet(install).ok();
        iamlet(install).ok();
        String ruleset = ns.exec("nft", "list", "ruleset").ok().stdout();
        for (String iface : List.of("\"cali*\"", "\"eni*\"", "\"docker0\"")) {
            assertEquals(1, ruleset.lines().filter(l -> l.contains("iifname " + iface) && l.contains("dnat ip to 10.50.0.1:8181")).count(),
                    iface + " must appear exactly once:\n" + ruleset);
        }
        assertEquals(3, ruleset.lines().filter(l -> l.contains("dnat")).count(), ruleset);
        assertEquals(0, iamlet("rules", "show", "--host-ip", "10.50.0.1", "--host-interface", "cali+,eni+,docker0").exitCode());
        iamlet("rules", "remove").ok();
        assertEquals(1, iamlet("rules", "show").exitCode());
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout());
    }

    @Test
    void withoutNetAdminTheOperatorIsToldWhy() {
        Command.Result r = Command.run(Duration.ofSeconds(60), List.of("setpriv", "--bounding-set=-net_admin",
                "ip", "netns", "exec", ns.name(), Launcher.iamlet(), "rules", "install", "--host-ip", "10.50.0.1"));
        assertEquals(1, r.exitCode(), r.output());
        assertTrue(r.stderr().contains("EPERM") && r.stderr().contains("NET_ADMIN"), r.stderr());
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout());
    }

    @Test
    void badInputIsAUsageErrorNamingTheFlag() {
        Command.Result r = iamlet("rules", "install", "--host-ip", "10.50.0.300");
        assertEquals(64, r.exitCode());
        assertTrue(r.stderr().contains("--host-ip '10.50.0.300' is not an IPv4 address"), r.stderr());
    }
}
