package io.iamlet.agent.cli;

import io.iamlet.agent.Version;

import java.io.PrintStream;
import java.util.List;

final class VersionCommand implements Subcommand {
    private final PrintStream out;

    VersionCommand(PrintStream out) {
        this.out = out;
    }

    public String name() {
        return "version";
    }

    public String summary() {
        return "print the version";
    }

    public String usage() {
        return "Usage: iamlet version\n";
    }

    public int run(List<String> args) {
        if (!args.isEmpty()) {
            throw new UsageException("version takes no arguments");
        }
        out.println("iamlet " + Version.current() + " (Java " + Runtime.version() + ")");
        return ExitCode.OK;
    }
}
