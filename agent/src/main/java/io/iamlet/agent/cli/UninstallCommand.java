package io.iamlet.agent.cli;

import io.iamlet.redirect.ebpf.CgroupRedirect;

import java.io.PrintStream;
import java.util.List;

/** `iamlet uninstall`: every rule of every backend, any version, gone; for a pre-delete hook, a Job or a person. */
final class UninstallCommand implements Subcommand {
    private final PrintStream out;

    UninstallCommand(PrintStream out) {
        this.out = out;
    }

    public String name() {
        return "uninstall";
    }

    public String summary() {
        return "remove everything iamlet installed on this node (idempotent)";
    }

    public String usage() {
        return "Usage: iamlet uninstall [--bpf-pin-dir=DIR]\n\nRemoves the nftables table inet iamlet (redirect or block) and the iptables chain\n"
                + "IAMLET-METADATA with every jump to it, in ip and ip6 nat, in one transaction, and unpins the eBPF\n"
                + "backend's link (default " + CgroupRedirect.DEFAULT_PIN_DIR + "), which detaches its program. Pods reach the\n"
                + "node's metadata service directly afterwards. Succeeds when there is nothing to remove.\n";
    }

    public int run(List<String> args) {
        Flags flags = Flags.parse(List.of(Flags.Spec.string("bpf-pin-dir", CgroupRedirect.DEFAULT_PIN_DIR.toString(),
                "where the eBPF backend pinned its link")), args);
        if (!flags.positional().isEmpty()) {
            throw new UsageException("uninstall takes no arguments besides --bpf-pin-dir");
        }
        String before = RedirectFlags.redirects(flags).removeAll();
        out.print("before:\n" + before.indent(2));
        out.println("uninstalled: no iamlet rule is left in this network namespace, and no iamlet eBPF program on this node");
        return ExitCode.OK;
    }
}
