package io.iamlet.agent.cli;

import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;

/** The control layer's settings as the operator sets them: the flag of each, for the messages the agent gives. */
public final class FlagNames implements SettingNames {
    public static final FlagNames FLAGS = new FlagNames();

    private FlagNames() {
    }

    @Override
    public String of(Setting setting) {
        return "--" + flag(setting);
    }

    /** The flag's name without its dashes, as {@link RunCommand#FLAGS} declares it. */
    static String flag(Setting setting) {
        return switch (setting) {
            case RESOLVE_DUPLICATES -> "resolve-duplicate-cache-ips";
            case API_READS_PER_SECOND -> "api-reads-per-second";
            case TOKEN_AUDIENCES -> "token-audience";
            case SESSION_TAGS -> "session-tags";
            case BASE_ROLE_ARN -> "base-role-arn";
            case AUTO_DISCOVER_BASE_ARN -> "auto-discover-base-arn";
            case ALLOW_CROSS_ACCOUNT -> "allow-cross-account";
            case REGIONAL_STS -> "use-regional-sts-endpoint";
            case REGION -> "region";
        };
    }
}
