package io.iamlet.control.aws;

import io.iamlet.control.settings.Setting;
import io.iamlet.control.settings.SettingNames;
import software.amazon.awssdk.regions.Region;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** Which region STS is called in: the global endpoint, or with --use-regional-sts-endpoint the node's region. */
public final class StsRegion {
    private StsRegion() {
    }

    /**
     * The flag wins, then AWS_REGION / AWS_DEFAULT_REGION, then the node's metadata; global unless regional.
     * Regional endpoints keep working when us-east-1 (the global endpoint's home) has trouble.
     */
    public static Region choose(boolean regional, Optional<String> flag, Map<String, String> env, Callable<String> fromMetadata) {
        return choose(regional, flag, env, fromMetadata, SettingNames.FIELDS);
    }

    /** As above; the error names settings as {@code names} does (the agent's flags). */
    public static Region choose(boolean regional, Optional<String> flag, Map<String, String> env, Callable<String> fromMetadata,
                                SettingNames names) {
        if (!regional) {
            return Region.AWS_GLOBAL;
        }
        Optional<String> chosen = flag.filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get("AWS_REGION")).filter(s -> !s.isBlank()))
                .or(() -> Optional.ofNullable(env.get("AWS_DEFAULT_REGION")).filter(s -> !s.isBlank()));
        if (chosen.isPresent()) {
            return Region.of(chosen.get());
        }
        try {
            return Region.of(fromMetadata.call());
        } catch (Exception e) {
            throw new IllegalStateException(names.of(Setting.REGIONAL_STS) + " needs a region: set " + names.of(Setting.REGION) + " or AWS_REGION"
                    + " (the node's metadata did not tell: " + e.getMessage() + ")", e);
        }
    }
}
