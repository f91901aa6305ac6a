package io.iamlet.agent.cli;

/** Exit codes shared by every subcommand; `rules show` adds its own 0/1/2 for present/absent/unexpected. */
public final class ExitCode {
    public static final int OK = 0;
    public static final int FAILED = 1;
    /** `rules show`: the redirect is not installed. */
    public static final int ABSENT = 1;
    /** `rules show`: installed, but not as asked for (foreign or duplicate rules, other settings, blocking). */
    public static final int UNEXPECTED = 2;
    /** `rules show` could not read the rules at all. */
    public static final int CHECK_FAILED = 3;
    /** EX_USAGE from sysexits.h: bad flag or subcommand. */
    public static final int USAGE = 64;

    private ExitCode() {
    }
}
