package io.iamlet.control.policy;

import java.util.Optional;
import java.util.List;

/**
 * The role-related flags, parsed and checked once at start-up.
 *
 * @param baseArn            prefix for bare role names (--base-role-arn, or discovered from the node)
 * @param defaultRole        role for pods without annotation (--default-role or the node's own role)
 * @param allowCrossAccount  full ARNs of other accounts or partitions are allowed
 * @param sessionNaming      how STS session names are made, and so how credentials are shared
 * @param sessionTags        EKS Pod Identity's session tags on every AssumeRole (--session-tags)
 */
public record RoleSettings(String roleKey, String externalIdKey, Optional<RoleArn.Base> baseArn, Optional<String> defaultRole,
                           boolean allowCrossAccount, boolean namespaceRestrictions, String namespaceKey,
                           RestrictionFormat restrictionFormat, SessionNaming sessionNaming, SessionTagSettings sessionTags) {
    public static final String DEFAULT_ROLE_KEY = "iam.amazonaws.com/role";
    public static final String DEFAULT_EXTERNAL_ID_KEY = "iam.amazonaws.com/external-id";
    public static final String DEFAULT_NAMESPACE_KEY = "iam.amazonaws.com/allowed-roles";
    /** kiam's namespace annotation: one regular expression the role must match. */
    public static final String KIAM_PERMITTED_KEY = "iam.amazonaws.com/permitted";
    /** Pod annotation: a role assumed with the credentials of the pod's role; the pod gets the target's (EKS's targetRoleArn). */
    public static final String TARGET_ROLE_KEY = "iam.amazonaws.com/target-role";
    /** Pod annotation: an inline JSON session policy that scopes the pod's credentials down (EKS's association policy). */
    public static final String SESSION_POLICY_KEY = "iam.amazonaws.com/session-policy";
    /** Pod or namespace annotation: "false" sends no session tags for it (EKS's disableSessionTags). */
    public static final String SESSION_TAGS_KEY = "iam.amazonaws.com/session-tags";

    /** Without session tags, as before --session-tags. */
    public RoleSettings(String roleKey, String externalIdKey, Optional<RoleArn.Base> baseArn, Optional<String> defaultRole,
                        boolean allowCrossAccount, boolean namespaceRestrictions, String namespaceKey,
                        RestrictionFormat restrictionFormat, SessionNaming sessionNaming) {
        this(roleKey, externalIdKey, baseArn, defaultRole, allowCrossAccount, namespaceRestrictions, namespaceKey, restrictionFormat,
                sessionNaming, SessionTagSettings.off());
    }

    /** The pod annotations that say what role a pod gets and how; a ServiceAccount's stand in for missing ones. */
    public List<String> roleAnnotationKeys() {
        return List.of(roleKey, externalIdKey, TARGET_ROLE_KEY, SESSION_POLICY_KEY, SESSION_TAGS_KEY);
    }

    public enum RestrictionFormat { GLOB, REGEXP }

    public enum SessionNaming {
        /** One STS session per pod, named after it: CloudTrail shows which pod did what. */
        POD,
        /** One STS session per role, shared by every pod with that role: fewer STS calls. */
        ROLE
    }

    public static RoleSettings defaults() {
        return new RoleSettings(DEFAULT_ROLE_KEY, DEFAULT_EXTERNAL_ID_KEY, Optional.empty(), Optional.empty(), true,
                false, DEFAULT_NAMESPACE_KEY, RestrictionFormat.GLOB, SessionNaming.POD);
    }

    public RoleSettings withBaseArn(String base) {
        return new RoleSettings(roleKey, externalIdKey, Optional.of(RoleArn.Base.parse(base)), defaultRole,
                allowCrossAccount, namespaceRestrictions, namespaceKey, restrictionFormat, sessionNaming, sessionTags);
    }

    public RoleSettings withDefaultRole(String role) {
        return new RoleSettings(roleKey, externalIdKey, baseArn, Optional.of(role), allowCrossAccount, namespaceRestrictions,
                namespaceKey, restrictionFormat, sessionNaming, sessionTags);
    }

    public RoleSettings withCrossAccount(boolean allowed) {
        return new RoleSettings(roleKey, externalIdKey, baseArn, defaultRole, allowed, namespaceRestrictions, namespaceKey,
                restrictionFormat, sessionNaming, sessionTags);
    }

    public RoleSettings withNamespaceRestrictions(boolean on, RestrictionFormat format) {
        return new RoleSettings(roleKey, externalIdKey, baseArn, defaultRole, allowCrossAccount, on, namespaceKey, format,
                sessionNaming, sessionTags);
    }

    public RoleSettings withSessionNaming(SessionNaming naming) {
        return new RoleSettings(roleKey, externalIdKey, baseArn, defaultRole, allowCrossAccount, namespaceRestrictions,
                namespaceKey, restrictionFormat, naming, sessionTags);
    }

    public RoleSettings withSessionTags(SessionTagSettings tags) {
        return new RoleSettings(roleKey, externalIdKey, baseArn, defaultRole, allowCrossAccount, namespaceRestrictions,
                namespaceKey, restrictionFormat, sessionNaming, tags);
    }
}
