package io.iamlet.agent.cli;

import io.iamlet.netlink.ffm.NativeException;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirects;
import io.iamlet.redirect.Shown;

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
            "adopt-kube2iam-rules", "container-credentials", "cgroup", "bpf-pin-dir");
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

                With --backend=ebpf the "rules" are the cgroup connect program (--cgroup, --bpf-pin-dir);
                it redirects every process under the cgroup, so --host-interface does not apply.

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
        Backend backend = RedirectFlags.backend(flags);
        Redirects redirects = RedirectFlags.redirects(flags);
        return switch (flags.positional().getFirst()) {
            case "install" -> {
                if (backend == Backend.EBPF) {
                    RedirectFlags.requireCgroup(flags);
                }
                Shown installed = redirects.switchTo(backend, spec(flags));
                out.print("installed " + installed.description());
                yield ExitCode.OK;
            }
            case "show" -> show(backend, redirects, flags);
            case "remove" -> {
                out.println(redirects.of(backend).remove());
                yield ExitCode.OK;
            }
            default -> throw new UsageException("unknown action '" + flags.positional().getFirst() + "': expected install, show or remove");
        };
    }

    private int show(Backend backend, Redirects redirects, Flags flags) {
        Shown shown;
        try {
            Optional<RedirectSpec> expected = RedirectFlags.hostIp(flags, env).isPresent() ? Optional.of(spec(flags)) : Optional.empty();
            shown = redirects.of(backend).show(expected);
        } catch (NativeException | IllegalStateException e) {
            throw new CommandFailure(ExitCode.CHECK_FAILED, e.getMessage(), e);
        }
        out.print(shown.description());
        if (backend == Backend.IPTABLES) {
            redirects.competingRules().forEach(r -> out.println("competing rule (kube2iam's?): " + r
                    + " (--adopt-kube2iam-rules removes it on install)"));
            if (Redirects.legacyNatInUse()) {
                out.println("note: this node also has a legacy (x_tables) iptables nat table, which nf_tables cannot see;"
                        + " the nftables backend works on such nodes");
            }
        }
        out.println("status: " + shown.check().summary());
        return exitCode(shown.check());
    }

    /** `rules show`'s exit codes: 0 as expected, 1 absent, 2 present but unexpected (3, unreadable, is thrown). */
    static int exitCode(RuleCheck check) {
        return switch (check) {
            case RuleCheck.AsExpected ignored -> ExitCode.OK;
            case RuleCheck.Absent ignored -> ExitCode.ABSENT;
            case RuleCheck.Unexpected ignored -> ExitCode.UNEXPECTED;
        };
    }

    private RedirectSpec spec(Flags flags) {
        return RedirectFlags.spec(flags, RedirectFlags.hostIp(flags, env).orElse(""), flags.integer("app-port"));
    }
}
