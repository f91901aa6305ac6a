package io.iamlet.agent;

import io.iamlet.agent.cli.Cli;

/** Entry point of bin/iamlet. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(new Cli(System.out, System.err, System.getenv()).run(args));
    }
}
