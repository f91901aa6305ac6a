package io.iamlet.agent.cli;

import io.iamlet.netlink.testing.Capabilities;
import io.iamlet.netlink.testing.TestNamespace;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** `iamlet rules` in-process, inside a throwaway network namespace (needs root). */
class RulesCommandKernelTest {
    @RegisterExtension
    final TestNamespace ns = new TestNamespace();



    private CliTest.Run run(Map<String, String> env, String... args) throws Exception {
        return ns.call(() -> CliTest.run(env, args));
    }

    @Test
    void installShowRemoveWithExitCodes() throws Exception {
        String[] install = {"rules", "install", "--host-ip=10.40.0.1", "--host-interface=cali+,eni+"};
        assertEquals(0, run(Map.of(), install).exit());
        CliTest.Run again = run(Map.of(), install);
        assertEquals(0, again.exit(), again.err());
        assertTrue(again.out().contains("ip   iifname eni+       169.254.169.254:80 -> 10.40.0.1:8181"), again.out());
        assertEquals(2, ns.exec("nft", "list", "ruleset").ok().stdout().lines().filter(l -> l.contains("dnat")).count());

        CliTest.Run show = run(Map.of("HOST_IP", "10.40.0.1"), "rules", "show", "--host-interface=cali+,eni+");
        assertEquals(0, show.exit(), show.out());
        assertTrue(show.out().contains("status: present and as expected"), show.out());
        assertEquals(2, run(Map.of(), "rules", "show", "--host-ip=10.40.0.2", "--host-interface=cali+,eni+").exit(),
                "rules pointing at another host IP are not as expected");
        ns.exec("nft", "add rule inet iamlet prerouting tcp dport 22 accept").ok();
        CliTest.Run foreign = run(Map.of(), "rules", "show");
        assertEquals(2, foreign.exit());
        assertTrue(foreign.out().contains("problem: foreign rule"), foreign.out());

        assertEquals(0, run(Map.of(), "rules", "remove").exit());
        assertEquals(0, run(Map.of(), "rules", "remove").exit(), "removing nothing is a success");
        assertEquals(1, run(Map.of(), "rules", "show").exit());
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout());
    }

    @Test
    void containerCredentialsFromTheCommandLine() throws Exception {
        String[] install = {"rules", "install", "--host-ip=10.40.0.1", "--host-interface=cali+", "--container-credentials=on"};
        CliTest.Run installed = run(Map.of(), install);
        assertEquals(0, installed.exit(), installed.err());
        assertTrue(installed.out().contains("ip   iifname cali+      169.254.170.23:80 -> 10.40.0.1:8181"), installed.out());
        assertTrue(ns.exec("nft", "list", "ruleset").ok().stdout().contains("ip daddr 169.254.170.23 tcp dport 80"));
        assertEquals(0, run(Map.of(), "rules", "show", "--host-ip=10.40.0.1", "--host-interface=cali+", "--container-credentials=on").exit());
        assertEquals(2, run(Map.of(), "rules", "show", "--host-ip=10.40.0.1", "--host-interface=cali+").exit(),
                "a redirect of the credentials endpoint not asked for is not as expected");
        assertEquals(64, run(Map.of(), "rules", "install", "--host-ip=10.40.0.1", "--container-credentials=true").exit());
        assertEquals(0, run(Map.of(), "rules", "remove").exit());
        assertEquals("", ns.exec("nft", "list", "ruleset").ok().stdout());
    }

    @Test
    void theIptablesBackendFromTheCommandLine() throws Exception {
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-d", "169.254.169.254/32", "-i", "cali+", "-p", "tcp",
                "--dport", "80", "-j", "DNAT", "--to-destination", "10.40.0.1:8181").ok();
        String[] install = {"rules", "install", "--backend=iptables", "--host-ip=10.40.0.1", "--host-interface=cali+"};
        assertEquals(0, run(Map.of(), install).exit());
        CliTest.Run show = run(Map.of(), "rules", "show", "--backend=iptables", "--host-ip=10.40.0.1", "--host-interface=cali+");
        assertEquals(0, show.exit(), show.out());
        assertTrue(show.out().contains("competing rule (kube2iam's?)"), show.out());
        String[] adopt = {"rules", "install", "--backend=iptables", "--adopt-kube2iam-rules", "--host-ip=10.40.0.1", "--host-interface=cali+"};
        assertEquals(0, run(Map.of(), adopt).exit());
        assertFalse(run(Map.of(), "rules", "show", "--backend=iptables").out().contains("competing"));
        assertTrue(ns.exec("iptables-nft", "-t", "nat", "-S").ok().stdout().contains("-j IAMLET-METADATA"));
        assertEquals(0, run(Map.of(), "rules", "remove", "--backend=iptables").exit());
        assertEquals(1, run(Map.of(), "rules", "show", "--backend=iptables").exit());
        assertFalse(ns.exec("iptables-nft", "-t", "nat", "-S").ok().stdout().contains("IAMLET"));
    }

    @Test
    void uninstallRemovesEveryBackendsRules() throws Exception {
        assertEquals(0, run(Map.of(), "rules", "install", "--host-ip=10.40.0.1", "--host-interface=cali+").exit());
        ns.exec("iptables-nft", "-t", "nat", "-N", "IAMLET-METADATA").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-i", "eni+", "-j", "IAMLET-METADATA").ok();
        CliTest.Run r = run(Map.of(), "uninstall");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("table inet iamlet") && r.out().contains("uninstalled"), r.out());
        String left = ns.exec("nft", "list", "ruleset").ok().stdout();
        assertFalse(left.contains("iamlet") || left.contains("IAMLET"), left);
        assertEquals(0, run(Map.of(), "uninstall").exit(), "uninstalling nothing is a success");
    }

    @Test
    void withoutPermissionInstallFailsWithTheCause() throws Exception {
        CliTest.Run r = ns.call(() -> {
            Capabilities.dropAllForThisThread();
            return CliTest.run(Map.of(), "rules", "install", "--host-ip=10.40.0.1");
        });
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("EPERM") && r.err().contains("CAP_NET_ADMIN"), r.err());
        CliTest.Run show = ns.call(() -> {
            Capabilities.dropAllForThisThread();
            return CliTest.run(Map.of(), "rules", "show");
        });
        assertEquals(3, show.exit(), "show that cannot read says so with its own exit code: " + show.err());
    }
}
