package io.iamlet.redirect.netfilter;

import io.iamlet.redirect.Destination;
import io.iamlet.redirect.OwnershipMarker;
import io.iamlet.redirect.RedirectRule;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the kernel holds of iamlet's redirect, as read back over netlink: our rules in kernel order, and
 * every problem found on the way (foreign chains or rules in our table, duplicates, a wrong hook).
 *
 * @param location where the rules live, e.g. "table inet iamlet"
 * @param marker   the ownership marker on the table, if any
 */
public record InstalledRules(String location, boolean present, Optional<OwnershipMarker> marker,
                             List<Entry> rules, List<String> problems, List<RedirectRule> blocked) {
    public InstalledRules {
        rules = List.copyOf(rules);
        problems = List.copyOf(problems);
        blocked = List.copyOf(blocked);
    }

    public InstalledRules(String location, boolean present, Optional<OwnershipMarker> marker, List<Entry> rules, List<String> problems) {
        this(location, present, marker, rules, problems, List.of());
    }

    /** True when a stopping agent left the block in place: pods' metadata connections are reset. */
    public boolean blocking() {
        return !blocked.isEmpty();
    }

    /** One rule of ours as the kernel reports it. */
    public record Entry(RedirectRule rule, long handle, long packets) {
    }

    public static InstalledRules absent(String location) {
        return new InstalledRules(location, false, Optional.empty(), List.of(), List.of());
    }

    public List<RedirectRule> redirectRules() {
        return rules.stream().map(Entry::rule).toList();
    }

    /** Compares with what should be installed; without an expectation, judges only internal consistency. */
    public RuleCheck check(Optional<RedirectSpec> expected) {
        if (!present) {
            return new RuleCheck.Absent(location + " is not installed");
        }
        List<String> reasons = new ArrayList<>(problems);
        if (blocking()) {
            reasons.add("blocking: pods' metadata connections are reset (left by a stopping agent until the next install)");
        }
        expected.ifPresent(spec -> {
            List<RedirectRule> want = spec.rules();
            List<RedirectRule> have = redirectRules();
            for (RedirectRule rule : want) {
                if (!have.contains(rule)) {
                    reasons.add("missing rule: " + rule);
                }
            }
            Set<RedirectRule> wanted = new HashSet<>(want);
            for (RedirectRule rule : have) {
                if (!wanted.contains(rule)) {
                    reasons.add("rule not asked for: " + rule);
                }
            }
        });
        return reasons.isEmpty() ? new RuleCheck.AsExpected() : new RuleCheck.Unexpected(reasons);
    }

    /** This, when it holds exactly what {@code spec} asks for; otherwise an error saying how it differs. */
    public InstalledRules verified(RedirectSpec spec) {
        RuleCheck check = check(Optional.of(spec));
        if (!(check instanceof RuleCheck.AsExpected)) {
            throw new IllegalStateException("read back " + location + " after installing it, and it is " + check.summary());
        }
        return this;
    }

    /** A listing for people: where, who wrote it, each rule with its counter, then problems. */
    public String describe() {
        StringBuilder out = new StringBuilder();
        if (!present) {
            return out.append(location).append(": not installed\n").toString();
        }
        out.append(location).append(marker.map(m -> " (" + m.text() + ")").orElse(" (no iamlet marker)")).append('\n');
        for (RedirectRule b : blocked) {
            out.append("  blocking ").append(b.family().label()).append(" iifname ").append(b.iface())
                    .append(" -> ").append(b.destinationAddress().getHostAddress()).append(":").append(Destination.PORT).append(" reset\n");
        }
        if (rules.isEmpty() && blocked.isEmpty()) {
            out.append("  no redirect rules\n");
        }
        for (Entry e : rules) {
            out.append("  ").append(e.rule()).append("   packets ").append(e.packets())
                    .append(" handle ").append(e.handle()).append('\n');
        }
        for (String problem : problems) {
            out.append("  problem: ").append(problem).append('\n');
        }
        return out.toString();
    }
}
