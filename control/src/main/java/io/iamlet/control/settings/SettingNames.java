package io.iamlet.control.settings;

/**
 * How messages name a {@link Setting}: by its field for a library user (and the tests), as a flag for the
 * operator of the agent (its command line supplies those names).
 */
@FunctionalInterface
public interface SettingNames {
    SettingNames FIELDS = Setting::field;

    String of(Setting setting);
}
