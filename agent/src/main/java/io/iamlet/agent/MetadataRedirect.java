package io.iamlet.agent;

import io.iamlet.bpf.CgroupRedirect;
import io.iamlet.netlink.redirect.InstalledRules;
import io.iamlet.netlink.redirect.IptablesBackend;
import io.iamlet.netlink.redirect.NftablesBackend;
import io.iamlet.netlink.redirect.RedirectBackend;
import io.iamlet.netlink.redirect.RedirectSpec;
import io.iamlet.netlink.redirect.Uninstall;

import java.nio.file.Path;

/**
 * How the agent sends pods' metadata traffic to itself: netfilter rules (nftables or iptables-nft) or the
 * eBPF cgroup program. Each installs atomically and idempotently, reads back what it installed, and after
 * installing removes what the other kind left, so switching --backend leaves one redirect on the node.
 */
sealed interface MetadataRedirect permits MetadataRedirect.Netfilter, MetadataRedirect.Ebpf {
    /** Installs (or replaces) the redirect and says what the kernel now holds. */
    String install();

    /** Replaces the redirect with a block: pods reach no metadata service until the next install. */
    void block();

    void remove();

    /** Read-only work that makes the first install fast (linking native calls); failures are the install's to report. */
    void prepare();

    static MetadataRedirect of(AgentConfig config, String version) {
        RedirectSpec spec = config.redirect().orElseThrow();
        return switch (config.backend()) {
            case "ebpf" -> new Ebpf(new CgroupRedirect(config.bpfPinDir()),
                    new CgroupRedirect.Target(config.cgroup().orElseThrow(), spec.hostIp(), spec.port()));
            case "iptables" -> new Netfilter(new IptablesBackend(version, config.adoptKube2iamRules()), spec, config.bpfPinDir());
            default -> new Netfilter(new NftablesBackend(version), spec, config.bpfPinDir());
        };
    }

    record Netfilter(RedirectBackend backend, RedirectSpec spec, Path bpfPinDir) implements MetadataRedirect {
        public String install() {
            InstalledRules installed = backend.install(spec);
            // The eBPF backend's pin, if an earlier agent used it; the rules above already redirect.
            new CgroupRedirect(bpfPinDir).remove();
            return installed.rules().size() + " rules in " + installed.location();
        }

        public void block() {
            backend.block(spec);
        }

        public void remove() {
            backend.remove();
        }

        public void prepare() {
            try {
                backend.show();
            } catch (RuntimeException e) {
                // nothing installed yet, or no permission: install says so with the reason
            }
        }
    }

    record Ebpf(CgroupRedirect redirect, CgroupRedirect.Target target) implements MetadataRedirect {
        public String install() {
            CgroupRedirect.Attached attached = redirect.install(target);
            // Netfilter rules an earlier agent left: the program above already rewrites pods' connects.
            Uninstall.everything();
            return attached.toString();
        }

        public void block() {
            redirect.block(target);
        }

        public void remove() {
            redirect.remove();
        }

        public void prepare() {
            // the eBPF program loads in one bpf() call; nothing worth doing ahead
        }
    }
}
