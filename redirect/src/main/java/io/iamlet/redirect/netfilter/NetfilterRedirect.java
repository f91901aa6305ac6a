package io.iamlet.redirect.netfilter;

import io.iamlet.netlink.nft.NftTables;
import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirect;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;
import io.iamlet.redirect.Shown;

import java.util.Optional;

/**
 * What the two netfilter backends share: both read back into {@link InstalledRules} (rules with handles and
 * counters, and every problem found), which is what their own tests and the model compare; {@link Redirect}'s
 * answers are made from it the same way for both.
 */
public abstract class NetfilterRedirect implements Redirect {
    private final Backend backend;
    /** The agent version recorded in the ownership marker. */
    protected final String version;
    /** The kernel's nf_tables, or a model of them. */
    protected final NftTables.Opener tables;

    protected NetfilterRedirect(Backend backend, String version, NftTables.Opener tables) {
        this.backend = backend;
        this.version = version;
        this.tables = tables;
    }

    @Override
    public final Backend backend() {
        return backend;
    }

    /** Atomically replaces whatever this backend had installed with exactly the rules of {@code spec}, read back. */
    public abstract InstalledRules installRules(RedirectSpec spec);

    /** Atomically replaces the redirect with TCP resets of pods' metadata connections, read back. */
    public abstract InstalledRules blockRules(RedirectSpec spec);

    /** Reads back what is installed. */
    public abstract InstalledRules rules();

    @Override
    public final Shown install(RedirectSpec spec) {
        return shown(installRules(spec), Optional.of(spec));
    }

    @Override
    public final Shown block(RedirectSpec spec) {
        InstalledRules installed = blockRules(spec);
        return new Shown(backend(), installed.location() + ": blocking", installed.describe(), installed.check(Optional.empty()));
    }

    @Override
    public final Shown show(Optional<RedirectSpec> expected) {
        return shown(rules(), expected);
    }

    private Shown shown(InstalledRules installed, Optional<RedirectSpec> expected) {
        RuleCheck check = installed.check(expected);
        return new Shown(backend(), installed.location() + ": " + check.summary(), installed.describe(), check);
    }
}
