package io.iamlet.redirect;

import java.util.List;

/** The outcome of comparing installed rules with what should be there. */
public sealed interface RuleCheck {
    String summary();

    record AsExpected() implements RuleCheck {
        public String summary() {
            return "present and as expected";
        }
    }

    record Absent(String summary) implements RuleCheck {
    }

    record Unexpected(List<String> reasons) implements RuleCheck {
        public Unexpected {
            reasons = List.copyOf(reasons);
        }

        public String summary() {
            return "present but not as expected: " + String.join("; ", reasons);
        }
    }
}
