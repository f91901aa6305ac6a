package io.iamlet.redirect;

import io.iamlet.netlink.testing.Command;
import io.iamlet.netlink.testing.TestNamespace;
import io.iamlet.redirect.ebpf.CgroupRedirect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The one owner of backend switching, in a throwaway network namespace with a BPF filesystem and a cgroup of
 * the test's own: whichever backend is switched to, exactly that one is left, and removeAll leaves nothing.
 */
class RedirectsKernelTest {
    private static final RedirectSpec SPEC = RedirectSpec.parse("10.90.0.1", "cali+", 8181, null).withContainerCredentials(true);

    @RegisterExtension
    final TestNamespace ns = new TestNamespace();
    private Path bpffs;
    private Path cgroup;
    private Redirects redirects;

    @BeforeEach
    void world() throws Exception {
        bpffs = Files.createTempDirectory("iamlet-bpffs");
        Command.run("mount", "-t", "bpf", "bpf", bpffs.toString()).ok();
        cgroup = cgroup2Root().resolve("iamlet-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Files.createDirectory(cgroup);
        redirects = new Redirects("test", false, bpffs.resolve("iamlet"), Optional.of(cgroup));
    }

    @AfterEach
    void teardown() throws Exception {
        ns.run(() -> redirects.removeAll());
        Command.run("umount", bpffs.toString());
        Files.deleteIfExists(bpffs);
        Files.deleteIfExists(cgroup);
    }

    private static Path cgroup2Root() throws IOException {
        for (Path root : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))) {
            if (Files.isDirectory(root) && Files.getFileStore(root).type().equals("cgroup2")) {
                return root;
            }
        }
        throw new AssertionError("no cgroup v2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified: the eBPF backend needs one");
    }

    /** Which backends hold something now. */
    private List<Backend> present() throws Exception {
        return ns.call(() -> Arrays.stream(Backend.values())
                .filter(b -> !(redirects.of(b).show(Optional.empty()).check() instanceof RuleCheck.Absent)).toList());
    }

    @Test
    void switchingLeavesExactlyTheChosenBackendWhateverCameBefore() throws Exception {
        for (Backend to : List.of(Backend.NFTABLES, Backend.IPTABLES, Backend.EBPF, Backend.NFTABLES, Backend.EBPF, Backend.IPTABLES)) {
            Shown installed = ns.call(() -> redirects.switchTo(to, SPEC));
            assertEquals(to, installed.backend());
            assertEquals(List.of(to), present(), "after switching to " + to);
            Shown shown = ns.call(() -> redirects.of(to).show(Optional.of(SPEC)));
            assertInstanceOf(RuleCheck.AsExpected.class, shown.check(), shown.description());
        }
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup), "no program left attached once a netfilter backend took over");

        String before = ns.call(() -> redirects.removeAll());
        assertTrue(before.contains("IAMLET-METADATA"), before);
        assertEquals(List.of(), present(), "uninstall is remove-all");
        assertEquals(0, CgroupRedirect.attachedPrograms(cgroup));
    }

    @Test
    void blockReplacesTheRedirectAndShowSaysSo() throws Exception {
        for (Backend b : Backend.values()) {
            ns.run(() -> redirects.switchTo(b, SPEC));
            ns.run(() -> redirects.block(b, SPEC));
            Shown shown = ns.call(() -> redirects.of(b).show(Optional.of(SPEC)));
            RuleCheck.Unexpected check = assertInstanceOf(RuleCheck.Unexpected.class, shown.check(), b + ": " + shown.description());
            assertTrue(check.summary().contains("blocking"), b + ": " + check.summary());
        }
    }

    @Test
    void ebpfShowComparesTheProgramWithTheSpec() throws Exception {
        ns.run(() -> redirects.switchTo(Backend.EBPF, SPEC));
        Shown other = ns.call(() -> redirects.of(Backend.EBPF).show(Optional.of(SPEC.withContainerCredentials(false))));
        assertInstanceOf(RuleCheck.Unexpected.class, other.check(), "a program without the credentials endpoint is not the one asked for");
        Shown install = ns.call(() -> redirects.switchTo(Backend.EBPF, SPEC));
        assertTrue(install.description().contains("interfaces [cali+] are not used"), "the eBPF install explains --host-interface: "
                + install.description());
        RedirectSpec v6 = RedirectSpec.parse(SPEC.hostIp().getHostAddress(), "cali+", SPEC.port(), "fd90::1").withContainerCredentials(true);
        Shown withoutIpv6 = ns.call(() -> redirects.of(Backend.EBPF).show(Optional.of(v6)));
        RuleCheck.Unexpected missing = assertInstanceOf(RuleCheck.Unexpected.class, withoutIpv6.check(),
                "a connect6 program without the IPv6 redirect is not the one asked for");
        assertTrue(missing.summary().contains("connect6"), missing.summary());
        ns.run(() -> redirects.switchTo(Backend.EBPF, v6));
        assertInstanceOf(RuleCheck.AsExpected.class, ns.call(() -> redirects.of(Backend.EBPF).show(Optional.of(v6))).check());
        assertInstanceOf(RuleCheck.Unexpected.class, ns.call(() -> redirects.of(Backend.EBPF).show(Optional.of(SPEC))).check(),
                "and the other way round");
    }

    private String ruleset() {
        return ns.exec("nft", "list", "ruleset").ok().stdout();
    }

    @Test
    void removeAllTakesEveryKindOfOursAndNobodyElsesAndIsIdempotent() throws Exception {
        ns.run(() -> redirects.switchTo(Backend.NFTABLES, SPEC));
        // A stale chain of an older iptables-backend agent, left beside it.
        ns.exec("iptables-nft", "-t", "nat", "-N", "IAMLET-METADATA").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "PREROUTING", "-i", "eni+", "-j", "IAMLET-METADATA").ok();
        ns.exec("iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE").ok();
        String before = ns.call(() -> redirects.removeAll());
        assertTrue(before.contains("table inet iamlet"), before);
        String after = ruleset();
        assertFalse(after.contains("iamlet") || after.contains("IAMLET"), after);
        assertTrue(after.contains("masquerade"), "nobody else's rules go");
        ns.call(() -> redirects.removeAll());
        ns.run(() -> redirects.block(Backend.NFTABLES, SPEC));
        ns.call(() -> redirects.removeAll());
        assertFalse(ruleset().contains("iamlet"));
    }
}
