package io.iamlet.redirect;

/**
 * What a backend holds in the kernel, read back.
 *
 * @param headline    one line: where, and what state (for a log line or a doctor finding)
 * @param description the listing for people, one line per rule or program
 * @param check       compared with what was asked for, when something was
 */
public record Shown(Backend backend, String headline, String description, RuleCheck check) {
}
