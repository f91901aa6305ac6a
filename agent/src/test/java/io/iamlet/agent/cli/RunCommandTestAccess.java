package io.iamlet.agent.cli;

import io.iamlet.agent.AgentConfig;

import java.util.List;
import java.util.Map;

/** Lets tests outside this package build an AgentConfig from a command line, as `iamlet run` does. */
public final class RunCommandTestAccess {
    private RunCommandTestAccess() {
    }

    public static AgentConfig config(Map<String, String> env, String... args) {
        return RunCommand.config(Flags.parse(RunCommand.FLAGS, List.of(args)), env);
    }
}
