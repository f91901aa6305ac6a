package io.iamlet.redirect.netfilter;

import io.iamlet.redirect.Backend;
import io.iamlet.redirect.Redirect;
import io.iamlet.redirect.Shown;
import io.iamlet.redirect.RedirectSpec;
import io.iamlet.redirect.RuleCheck;

import java.util.Optional;

/** The nftables and iptables backends, which read back into the same kind of rules. */
public record NetfilterRedirect(Backend backend, RedirectBackend rules) implements Redirect {
    @Override
    public Shown install(RedirectSpec spec) {
        return shown(rules.install(spec), Optional.of(spec));
    }

    @Override
    public Shown block(RedirectSpec spec) {
        InstalledRules installed = rules.block(spec);
        return new Shown(backend, installed.location() + ": blocking", installed.describe(), installed.check(Optional.empty()));
    }

    @Override
    public void remove() {
        rules.remove();
    }

    @Override
    public Shown show(Optional<RedirectSpec> expected) {
        return shown(rules.show(), expected);
    }

    private Shown shown(InstalledRules installed, Optional<RedirectSpec> expected) {
        RuleCheck check = installed.check(expected);
        return new Shown(backend, installed.location() + ": " + check.summary(), installed.describe(), check);
    }
}
