package io.iamlet.agent.cli;

/** A command failed with an exit code of its own; the dispatcher prints the message and returns the code. */
final class CommandFailure extends RuntimeException {
    private final int exitCode;

    CommandFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
