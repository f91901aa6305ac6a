package io.iamlet.agent.cli;

/** The command line itself is wrong; the message says which part and how to fix it. */
public final class UsageException extends IllegalArgumentException {
    public UsageException(String message) {
        super(message);
    }
}
