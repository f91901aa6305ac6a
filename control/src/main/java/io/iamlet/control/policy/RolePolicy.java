package io.iamlet.control.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iamlet.control.pods.NamespaceInfo;
import io.iamlet.control.pods.PodInfo;
import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Decides which role a pod may have. Statuses: 404 when the pod names no usable role (no annotation and
 * no default, or an annotation that is not a role), 403 when policy forbids the role, 500 when the agent
 * itself lacks configuration it needs.
 */
public final class RolePolicy {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern EXTERNAL_ID = Pattern.compile("[\\w+=,.@:/-]{2,1224}");

    private final RoleSettings settings;
    private final SettingNames names;
    private final Optional<RoleArn> defaultArn;
    // Annotation text -> ARN and ARN -> display name, remembered: decide() runs on every request, and a node's
    // pods name a handful of roles. Bounded like the patterns below.
    private final ConcurrentHashMap<String, RoleArn> arns = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<RoleArn, String> displayNames = new ConcurrentHashMap<>();
    /**
     * Compiled patterns and parsed allowed-roles lists by their source text: both are pure functions of the
     * annotation, which changes rarely, and compiling/parsing them on every request was most of a cache hit's
     * cost (JFR, bin/bench). Bounded: cleared when a cluster churns through more distinct texts than this.
     */
    private static final int MEMO_LIMIT = 4096;
    private final ConcurrentHashMap<String, Pattern> patterns = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, List<String>> entryLists = new ConcurrentHashMap<>();
    /**
     * Whether an allowed-roles entry admits an ARN, by the pair: a pure function of the two under one policy's
     * settings. Matching again built the entry's and the ARN's text and a matcher on every request.
     */
    private record EntryAndArn(String entry, RoleArn arn) {
    }

    private final ConcurrentHashMap<EntryAndArn, Boolean> matched = new ConcurrentHashMap<>();
    /** Session policy text to its problem (empty: fit to send): parsing 2 KiB of JSON on every request is not free. */
    private final ConcurrentHashMap<String, Optional<String>> policyProblems = new ConcurrentHashMap<>();

    /** A policy whose refusals name settings by their fields. */
    public RolePolicy(RoleSettings settings) {
        this(settings, SettingNames.FIELDS);
    }

    /** @param names how refusals name a setting (the agent's flags) */
    public RolePolicy(RoleSettings settings, SettingNames names) {
        this.settings = settings;
        this.names = names;
        this.defaultArn = settings.defaultRole().flatMap(this::normalise);
    }

    public RoleSettings settings() {
        return settings;
    }

    public RoleDecision decide(PodInfo pod, Optional<NamespaceInfo> namespace) {
        String annotation = Optional.ofNullable(pod.annotations().get(settings.roleKey())).map(String::strip).orElse("");
        boolean viaDefault = annotation.isEmpty();
        if (viaDefault) {
            if (settings.defaultRole().isEmpty()) {
                return new RoleDecision.Denied(404, "pod " + pod.key() + " has no " + settings.roleKey()
                        + " annotation and no default role is set");
            }
            annotation = settings.defaultRole().get();
        }
        Checked<RoleArn> role = allowedRole(pod, annotation, viaDefault, namespace);
        return role.denied() != null ? role.denied() : withSessionOptions(pod, namespace, role.value(), viaDefault);
    }

    /** The role the annotation (or the default) names, when the accounts and the pod's namespace allow it. */
    private Checked<RoleArn> allowedRole(PodInfo pod, String annotation, boolean viaDefault, Optional<NamespaceInfo> namespace) {
        Resolved role = resolve(pod, annotation, "role");
        if (role.denied() != null) {
            return Checked.refused(role.denied());
        }
        RoleArn arn = role.arn();
        Optional<String> crossAccount = crossAccountProblem(arn);
        if (crossAccount.isPresent()) {
            return Checked.refused(new RoleDecision.Denied(403, "pod " + pod.key() + ": " + crossAccount.get()));
        }
        // kube2iam allows the default role under namespace restrictions whether the pod names it or not.
        if (!viaDefault && !arn.equals(defaultArn().orElse(null))) {
            Optional<String> restricted = namespaceProblem(arn, annotation, pod.namespace(), namespace);
            if (restricted.isPresent()) {
                return Checked.refused(new RoleDecision.Denied(403, "pod " + pod.key() + ": role " + arn + " is not allowed in namespace "
                        + pod.namespace() + ": " + restricted.get()));
            }
        }
        return Checked.ok(arn);
    }

    /** {@code arn} allowed, with the session the pod asks for: external ID, target role, session policy and tags, each checked. */
    private RoleDecision withSessionOptions(PodInfo pod, Optional<NamespaceInfo> namespace, RoleArn arn, boolean viaDefault) {
        Optional<String> externalId = annotation(pod, settings.externalIdKey());
        if (externalId.isPresent() && !EXTERNAL_ID.matcher(externalId.get()).matches()) {
            return new RoleDecision.Denied(404, "pod " + pod.key() + ": " + settings.externalIdKey()
                    + " must be 2-1224 characters of letters, digits and +=,.@:/-");
        }
        Checked<Optional<RoleArn>> target = target(pod, namespace);
        if (target.denied() != null) {
            return target.denied();
        }
        Optional<String> sessionPolicy = annotation(pod, RoleSettings.SESSION_POLICY_KEY);
        Optional<RoleDecision.Denied> badPolicy = sessionPolicy.flatMap(text -> sessionPolicyProblem(pod, text));
        if (badPolicy.isPresent()) {
            return badPolicy.get();
        }
        Checked<List<SessionTag>> tags = sessionTags(pod, namespace);
        if (tags.denied() != null) {
            return tags.denied();
        }
        String session = settings.sessionNaming() == RoleSettings.SessionNaming.ROLE
                ? SessionNames.forRole(arn)
                : SessionNames.forPod(pod.namespace(), pod.name());
        return new RoleDecision.Allowed(arn, displayName(arn), session, externalId, viaDefault, target.value(), tags.value(), sessionPolicy);
    }

    /** A value the policy worked out for a pod, or the refusal saying why it could not. */
    private record Checked<T>(T value, RoleDecision.Denied denied) {
        static <T> Checked<T> ok(T value) {
            return new Checked<>(value, null);
        }

        static <T> Checked<T> refused(RoleDecision.Denied denied) {
            return new Checked<>(null, denied);
        }
    }

    /** The role to chain to (iam.amazonaws.com/target-role), held to the same rules as the role itself. */
    private Checked<Optional<RoleArn>> target(PodInfo pod, Optional<NamespaceInfo> namespace) {
        Optional<String> targetText = annotation(pod, RoleSettings.TARGET_ROLE_KEY);
        if (targetText.isEmpty()) {
            return Checked.ok(Optional.empty());
        }
        Resolved resolved = resolve(pod, targetText.get(), "target role");
        if (resolved.denied() != null) {
            return Checked.refused(resolved.denied());
        }
        RoleArn t = resolved.arn();
        Optional<String> targetCrossAccount = crossAccountProblem(t);
        if (targetCrossAccount.isPresent()) {
            return Checked.refused(new RoleDecision.Denied(403, "pod " + pod.key() + ": target " + targetCrossAccount.get()));
        }
        // The target's credentials are what the pod gets: the namespace must allow it as much as the role.
        if (!t.equals(defaultArn().orElse(null))) {
            Optional<String> restricted = namespaceProblem(t, targetText.get(), pod.namespace(), namespace);
            if (restricted.isPresent()) {
                return Checked.refused(new RoleDecision.Denied(403, "pod " + pod.key() + ": target role " + t + " ("
                        + RoleSettings.TARGET_ROLE_KEY + ") is not allowed in namespace " + pod.namespace() + ": " + restricted.get()));
            }
        }
        return Checked.ok(Optional.of(t));
    }

    /** Why STS would refuse the pod's session policy, as a refusal naming the annotation; empty when it would not. */
    private Optional<RoleDecision.Denied> sessionPolicyProblem(PodInfo pod, String sessionPolicy) {
        // Only texts STS could take are remembered: a pod's annotations may hold up to 256 KiB.
        Optional<String> problem = sessionPolicy.length() > SessionPolicy.MAX_CHARS
                ? SessionPolicy.problem(sessionPolicy)
                : memo(policyProblems, sessionPolicy, SessionPolicy::problem);
        return problem.map(p -> new RoleDecision.Denied(400, "pod " + pod.key() + ": its " + RoleSettings.SESSION_POLICY_KEY + " " + p
                + "; the pod gets no credentials until the annotation is fixed or removed", Optional.of(RoleSettings.SESSION_POLICY_KEY)));
    }

    /** The session tags for the pod: none unless enabled, and none when the pod or its namespace opts out. */
    private Checked<List<SessionTag>> sessionTags(PodInfo pod, Optional<NamespaceInfo> namespace) {
        if (!settings.sessionTags().enabled()) {
            return Checked.ok(List.of());
        }
        TagChoice podChoice = TagChoice.of(pod.annotations().get(RoleSettings.SESSION_TAGS_KEY));
        TagChoice namespaceChoice = TagChoice.of(namespace.map(n -> n.annotations().get(RoleSettings.SESSION_TAGS_KEY)).orElse(null));
        if (podChoice == TagChoice.INVALID || namespaceChoice == TagChoice.INVALID) {
            return Checked.refused(new RoleDecision.Denied(400, "pod " + pod.key() + ": " + RoleSettings.SESSION_TAGS_KEY + " on the "
                    + (podChoice == TagChoice.INVALID ? "pod" : "namespace") + " must be \"true\" or \"false\"",
                    Optional.of(RoleSettings.SESSION_TAGS_KEY)));
        }
        // Either one opting out is enough: a namespace opts out because its roles' trust policies lack sts:TagSession.
        if (podChoice == TagChoice.OFF || namespaceChoice == TagChoice.OFF) {
            return Checked.ok(List.of());
        }
        try {
            return Checked.ok(SessionTags.forPod(settings.sessionTags(), pod));
        } catch (IllegalArgumentException e) {
            return Checked.refused(new RoleDecision.Denied(400, "pod " + pod.key() + ": " + e.getMessage()));
        }
    }

    private static Optional<String> annotation(PodInfo pod, String key) {
        return Optional.ofNullable(pod.annotations().get(key)).map(String::strip).filter(s -> !s.isEmpty());
    }

    /** What an iam.amazonaws.com/session-tags annotation says. */
    private enum TagChoice {
        UNSET, ON, OFF, INVALID;

        static TagChoice of(String value) {
            if (value == null || value.isBlank()) {
                return UNSET;
            }
            return switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "true" -> ON;
                case "false" -> OFF;
                default -> INVALID;
            };
        }
    }

    /** A role annotation made into an ARN, or the refusal saying why it cannot be. */
    private record Resolved(RoleArn arn, RoleDecision.Denied denied) {
    }

    private Resolved resolve(PodInfo pod, String annotation, String what) {
        RoleArn arn = arns.get(annotation);
        if (arn != null) {
            return new Resolved(arn, null);
        }
        if (RoleArn.looksLikeArn(annotation)) {
            Optional<RoleArn> parsed = RoleArn.parse(annotation);
            if (parsed.isEmpty()) {
                return new Resolved(null, new RoleDecision.Denied(404, "pod " + pod.key() + ": " + what + " '" + annotation
                        + "' is not a valid IAM role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)"));
            }
            arn = parsed.get();
        } else {
            if (settings.baseArn().isEmpty()) {
                return new Resolved(null, new RoleDecision.Denied(500, "pod " + pod.key() + ": " + what + " '" + annotation
                        + "' is a bare name but no base ARN is known: " + setBaseArn()));
            }
            try {
                arn = settings.baseArn().get().withName(annotation);
            } catch (IllegalArgumentException e) {
                return new Resolved(null, new RoleDecision.Denied(404, "pod " + pod.key() + ": " + what + " '" + annotation
                        + "' is not a valid IAM role name"));
            }
        }
        remember(arns, annotation, arn);
        return new Resolved(arn, null);
    }

    /** The default role as an ARN, when one is set and can be made into an ARN. */
    public Optional<RoleArn> defaultArn() {
        return defaultArn;
    }

    /**
     * A role as a pod or an SDK names it, made into an ARN as kube2iam's RoleARN() does: a full ARN (any case of
     * the "arn:" prefix) as it is, a bare name or path behind the base ARN. Empty when it is neither.
     */
    public Optional<RoleArn> normalise(String role) {
        String r = role.strip();
        if (RoleArn.looksLikeArn(r)) {
            return RoleArn.parse(r);
        }
        try {
            return settings.baseArn().map(base -> base.withName(r));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** kube2iam lists the role without the base ARN when it has that prefix, else the full ARN. */
    public String displayName(RoleArn arn) {
        return memo(displayNames, arn, a -> settings.baseArn()
                .filter(base -> a.text().startsWith(base.text()))
                .map(base -> a.text().substring(base.text().length()))
                .orElse(a.text()));
    }

    private static <K, V> void remember(ConcurrentHashMap<K, V> memo, K key, V value) {
        if (memo.size() >= MEMO_LIMIT) {
            memo.clear();
        }
        memo.put(key, value);
    }

    private Optional<String> crossAccountProblem(RoleArn arn) {
        if (settings.allowCrossAccount()) {
            return Optional.empty();
        }
        if (settings.baseArn().isEmpty()) {
            return Optional.of("cross-account roles are not allowed and the node's own account is unknown ("
                    + setBaseArn() + ")");
        }
        RoleArn.Base base = settings.baseArn().get();
        if (!base.account().equals(arn.account()) || !base.partition().equals(arn.partition())) {
            return Optional.of("role " + arn + " is in another account or partition than " + base
                    + " and cross-account roles are not allowed (" + names.of(Setting.ALLOW_CROSS_ACCOUNT) + "=false)");
        }
        return Optional.empty();
    }

    private String setBaseArn() {
        return "set " + names.of(Setting.BASE_ROLE_ARN) + " or " + names.of(Setting.AUTO_DISCOVER_BASE_ARN);
    }

    /** Empty when allowed, else why not. The default role never gets here: it is always allowed. */
    private Optional<String> namespaceProblem(RoleArn arn, String annotation, String namespaceName, Optional<NamespaceInfo> namespace) {
        Optional<String> kiam = namespace.map(n -> n.annotations().get(RoleSettings.KIAM_PERMITTED_KEY)).filter(s -> !s.isBlank());
        if (!settings.namespaceRestrictions() && kiam.isEmpty()) {
            return Optional.empty();
        }
        List<String> reasons = new ArrayList<>();
        if (kiam.isPresent()) {
            try {
                Pattern permitted = memo(patterns, kiam.get(), Pattern::compile);
                if (permitted.matcher(annotation).matches() || permitted.matcher(arn.text()).matches()) {
                    return Optional.empty();
                }
                reasons.add("it does not match " + RoleSettings.KIAM_PERMITTED_KEY + " '" + kiam.get() + "'");
            } catch (PatternSyntaxException e) {
                reasons.add(RoleSettings.KIAM_PERMITTED_KEY + " is not a valid regular expression: " + e.getDescription());
            }
        }
        if (settings.namespaceRestrictions()) {
            String raw = namespace.map(n -> n.annotations().get(settings.namespaceKey())).orElse(null);
            if (namespace.isEmpty()) {
                reasons.add("namespace " + namespaceName + " is not known to the agent");
            } else if (raw == null || raw.isBlank()) {
                reasons.add("the namespace has no " + settings.namespaceKey() + " annotation");
            } else {
                try {
                    List<String> entries = memo(entryLists, raw, RolePolicy::allowedEntries);
                    for (String entry : entries) {
                        if (matches(entry, arn)) {
                            return Optional.empty();
                        }
                    }
                    reasons.add("it matches none of " + settings.namespaceKey() + " " + entries);
                } catch (IllegalArgumentException e) {
                    reasons.add(settings.namespaceKey() + " is malformed: " + e.getMessage());
                }
            }
        }
        return Optional.of(String.join("; ", reasons));
    }

    private static List<String> allowedEntries(String raw) {
        JsonNode node;
        try {
            node = JSON.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON (expected an array such as [\"role-a\", \"team-*\"])");
        }
        if (node == null || !node.isArray()) {
            throw new IllegalArgumentException("not a JSON array (expected [\"role-a\", \"team-*\"])");
        }
        List<String> entries = new ArrayList<>();
        node.forEach(n -> entries.add(n.asText()));
        return List.copyOf(entries);
    }

    /** An entry is a role name or ARN, glob or regexp; a bare entry is prefixed with the base ARN first. */
    private boolean matches(String entry, RoleArn arn) {
        return memo(matched, new EntryAndArn(entry, arn), m -> matchesNow(m.entry(), m.arn()));
    }

    private boolean matchesNow(String entry, RoleArn arn) {
        String full = RoleArn.looksLikeArn(entry) || settings.baseArn().isEmpty() ? entry : settings.baseArn().get().text() + entry;
        if (settings.restrictionFormat() == RoleSettings.RestrictionFormat.REGEXP) {
            try {
                // Anchored, unlike kube2iam: "team-a" must not also allow "not-team-a-admin".
                return memo(patterns, full, Pattern::compile).matcher(arn.text()).matches();
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("'" + entry + "' is not a valid regular expression");
            }
        }
        // The glob's key cannot collide with a REGEXP entry's: one policy uses one format.
        return memo(patterns, full, RolePolicy::globToRegex).matcher(arn.text()).matches();
    }

    /** A failing compute (bad pattern, bad JSON) throws each time and is not remembered. */
    private static <K, T> T memo(ConcurrentHashMap<K, T> memo, K key, Function<K, T> compute) {
        T known = memo.get(key);
        if (known != null) {
            return known;
        }
        T value = compute.apply(key);
        remember(memo, key, value);
        return value;
    }

    /** kube2iam's glob: '*' matches any run of characters (slashes too); nothing else is special. */
    static Pattern globToRegex(String glob) {
        List<String> quoted = Arrays.stream(glob.split("\\*", -1)).map(Pattern::quote).toList();
        return Pattern.compile(String.join(".*", quoted), Pattern.DOTALL);
    }
}
