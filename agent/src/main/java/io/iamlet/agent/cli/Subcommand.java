package io.iamlet.agent.cli;

import java.util.List;

/** One `iamlet NAME ...` command. */
public interface Subcommand {
    String name();

    /** One line for `iamlet help`. */
    String summary();

    /** Full usage for `iamlet NAME --help`. */
    String usage();

    int run(List<String> args);
}
