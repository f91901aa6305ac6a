package io.iamlet.agent.cli;

import io.iamlet.agent.Version;
import io.iamlet.netlink.redirect.InstalledRules;
import io.iamlet.netlink.redirect.IptablesBackend;
import io.iamlet.netlink.redirect.NftablesBackend;
import io.iamlet.netlink.redirect.RedirectBackend;
import io.iamlet.netlink.redirect.RedirectSpec;
import io.iamlet.netlink.redirect.RuleCheck;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * `iamlet rules install|show|remove`: the redirect rules by hand, for operators and tests. Works in the
 * network namespace it is started in.
 */
final class RulesCommand implements Subcommand {
    /** The rule flags of `iamlet run`, so both commands read them the same way. */
    private static final List<String> OWN = List.of("host-ip", "host-interface", "app-port", "host-ipv6", "backend",
            "adopt-kube2iam-rules", "container-credentials");
    private static final List<Flags.Spec> FLAGS = RunCommand.FLAGS.stream().filter(f -> OWN.contains(f.name())).toList();

    private final PrintStream out;
    private final Map<String, String> env;

    RulesCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    public String name() {
        return "rules";
    }

    public String summary() {
        return "install, show or remove the metadata redirect rules";
    }

    public String usage() {
        return """
                Usage: iamlet rules install|show|remove [flags]

                  install  replace whatever iamlet installed with exactly these rules (idempotent)
                  show     print the installed rules; exit 0 present as expected, 1 absent,
                           2 present but unexpected (foreign or duplicate rules, other settings), 3 unreadable.
                           Compared with the flags when --host-ip (or HOST_IP) is given.
                  remove   delete everything iamlet installed; succeeds when nothing is installed

                Flags:
                """ + Flags.describe(FLAGS);
    }

    public int run(List<String> args) {
        Flags flags = Flags.parse(FLAGS, args);
        if (flags.positional().size() != 1) {
            throw new UsageException("expected one action: install, show or remove");
        }
        RedirectBackend backend = backend(flags);
        return switch (flags.positional().getFirst()) {
            case "install" -> {
                InstalledRules installed = backend.install(spec(flags));
                out.print("installed " + installed.describe());
                yield ExitCode.OK;
            }
            case "show" -> {
                InstalledRules installed = backend.show();
                Optional<RedirectSpec> expected = hostIp(flags).isPresent() ? Optional.of(spec(flags)) : Optional.empty();
                RuleCheck check = installed.check(expected);
                out.print(installed.describe());
                if (backend instanceof IptablesBackend iptables) {
                    iptables.competingRules().forEach(r -> out.println("competing rule (kube2iam's?): " + r
                            + " (--adopt-kube2iam-rules removes it on install)"));
                    if (IptablesBackend.legacyNatInUse()) {
                        out.println("note: this node also has a legacy (x_tables) iptables nat table, which nf_tables cannot see;"
                                + " the nftables backend works on such nodes");
                    }
                }
                out.println("status: " + check.summary());
                yield check.exitCode();
            }
            case "remove" -> {
                backend.remove();
                out.println(backend instanceof IptablesBackend
                        ? "removed chain " + IptablesBackend.CHAIN + " and the jumps to it (if they were there); nothing else was touched"
                        : "removed table inet " + NftablesBackend.TABLE + " (if it was there); nothing else was touched");
                yield ExitCode.OK;
            }
            default -> throw new UsageException("unknown action '" + flags.positional().getFirst() + "': expected install, show or remove");
        };
    }

    private static RedirectBackend backend(Flags flags) {
        String name = flags.require("backend");
        return switch (name) {
            case "nftables" -> new NftablesBackend(Version.current());
            case "iptables" -> new IptablesBackend(Version.current(), flags.bool("adopt-kube2iam-rules"));
            case "ebpf" -> throw new UsageException("--backend=ebpf has no rules: `iamlet run --backend=ebpf` attaches its cgroup"
                    + " program, `iamlet doctor --backend=ebpf` shows it and `iamlet uninstall` removes it");
            default -> throw new UsageException("--backend must be nftables or iptables here, not '" + name + "'");
        };
    }

    private Optional<String> hostIp(Flags flags) {
        return flags.get("host-ip").or(() -> Optional.ofNullable(env.get("HOST_IP")).filter(s -> !s.isBlank()));
    }

    private RedirectSpec spec(Flags flags) {
        return RedirectSpec.parse(hostIp(flags).orElse(""), flags.require("host-interface"), flags.integer("app-port"),
                flags.get("host-ipv6").orElse(null)).withContainerCredentials(RunCommand.containerCredentials(flags));
    }
}
