package io.iamlet.netlink.redirect;

import java.util.List;

/** The outcome of comparing installed rules with what should be there; the exit codes are `iamlet rules show`'s. */
public sealed interface RuleCheck {
    int exitCode();

    String summary();

    record AsExpected() implements RuleCheck {
        public int exitCode() {
            return 0;
        }

        public String summary() {
            return "present and as expected";
        }
    }

    record Absent(String summary) implements RuleCheck {
        public int exitCode() {
            return 1;
        }
    }

    record Unexpected(List<String> reasons) implements RuleCheck {
        public Unexpected {
            reasons = List.copyOf(reasons);
        }

        public int exitCode() {
            return 2;
        }

        public String summary() {
            return "present but not as expected: " + String.join("; ", reasons);
        }
    }
}
