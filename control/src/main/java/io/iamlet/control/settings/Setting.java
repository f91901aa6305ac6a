package io.iamlet.control.settings;

/**
 * A setting that a message of the control layer points an operator to. The library knows each by the field
 * that holds it; whoever configures the library names it as the operator sets it ({@link SettingNames}).
 */
public enum Setting {
    /** {@code PodIndex.Settings.resolveDuplicates}: ask the API server when two live pods claim one IP. */
    RESOLVE_DUPLICATES("resolveDuplicates"),
    /** {@code PodIndex.Settings.apiReadsPerSecond}: the node's budget of API reads during a watch outage. */
    API_READS_PER_SECOND("apiReadsPerSecond"),
    /** {@code TokenVerifier.Settings.audiences}: the service-account token audiences accepted. */
    TOKEN_AUDIENCES("audiences"),
    /** {@code RoleSettings.sessionTags}: EKS Pod Identity's session tags on every AssumeRole. */
    SESSION_TAGS("sessionTags"),
    /** {@code RoleSettings.baseArn}: the prefix of bare role names, and the node's own account. */
    BASE_ROLE_ARN("baseArn"),
    /** The base ARN discovered from the node's instance profile. */
    AUTO_DISCOVER_BASE_ARN("autoDiscoverBaseArn"),
    /** {@code RoleSettings.allowCrossAccount}: whether roles of other accounts may be assumed. */
    ALLOW_CROSS_ACCOUNT("allowCrossAccount"),
    /** STS called in the node's region rather than through the global endpoint. */
    REGIONAL_STS("regionalSts"),
    /** The region given, ahead of the environment and the node's metadata. */
    REGION("region");

    private final String field;

    Setting(String field) {
        this.field = field;
    }

    /** The field's name: how a library user sets it. */
    public String field() {
        return field;
    }
}
