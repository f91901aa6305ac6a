package io.iamlet.agent.cli;

import io.iamlet.agent.Version;
import io.iamlet.netlink.ffm.NativeException;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ArrayList;

/** Dispatches `iamlet SUBCOMMAND [flags]` and turns failures into a message and an exit code. */
public final class Cli {
    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, Subcommand> commands = new LinkedHashMap<>();

    public Cli(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        for (Subcommand c : List.of(new RunCommand(out, env), new RulesCommand(out, env), new UninstallCommand(out), new DoctorCommand(out, env),
                new ReadinessCommand(out, env), new VersionCommand(out))) {
            commands.put(c.name(), c);
        }
    }

    public int run(String... args) {
        List<String> list = Arrays.asList(args);
        if (list.isEmpty() || List.of("help", "--help", "-h").contains(list.getFirst())) {
            out.print(help());
            return list.isEmpty() ? ExitCode.USAGE : ExitCode.OK;
        }
        if (list.size() == 1 && list.getFirst().equals("--version")) {
            return commands.get("version").run(List.of());
        }
        // kube2iam is started as `kube2iam --flag ...`: bare flags mean run.
        if (list.getFirst().startsWith("-")) {
            list = new ArrayList<>(list);
            list.addFirst("run");
        }
        Subcommand command = commands.get(list.getFirst());
        if (command == null) {
            err.println("iamlet: unknown command '" + list.getFirst() + "'. Commands: " + String.join(", ", commands.keySet()));
            return ExitCode.USAGE;
        }
        List<String> rest = list.subList(1, list.size());
        if (rest.contains("--help") || rest.contains("-h")) {
            out.print(command.usage());
            return ExitCode.OK;
        }
        return runReporting(command, rest);
    }

    /** Runs the command; a failure is one line on stderr, named by the command, and its exit code. */
    private int runReporting(Subcommand command, List<String> rest) {
        String label = "iamlet " + command.name() + (rest.isEmpty() || rest.getFirst().startsWith("-") ? "" : " " + rest.getFirst());
        try {
            return command.run(rest);
        } catch (CommandFailure e) {
            err.println(label + ": " + e.getMessage());
            return e.exitCode();
        } catch (IllegalArgumentException e) {
            err.println(label + ": " + e.getMessage());
            err.println("Run 'iamlet " + command.name() + " --help' for usage.");
            return ExitCode.USAGE;
        } catch (NativeException | IllegalStateException e) {
            err.println(label + ": " + e.getMessage());
            return ExitCode.FAILED;
        } catch (UnsatisfiedLinkError | ExceptionInInitializerError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            err.println(label + ": a native library is missing: " + cause.getMessage());
            return ExitCode.FAILED;
        }
    }

    private String help() {
        StringBuilder text = new StringBuilder("iamlet " + Version.current()
                + ": gives every Kubernetes pod on AWS its own IAM role through the instance metadata service.\n\n"
                + "Usage: iamlet COMMAND [flags]\n\nCommands:\n");
        commands.values().forEach(c -> text.append(String.format("  %-10s %s%n", c.name(), c.summary())));
        text.append("  help       this text\n\nRun 'iamlet COMMAND --help' for a command's flags.\n")
                .append("Exit codes: 0 ok, 1 failed, 64 bad usage; 'rules show' adds 1 absent, 2 unexpected, 3 unreadable.\n");
        return text.toString();
    }
}
