package io.iamlet.redirect;

import java.util.Optional;

/**
 * One backend's redirect of pods' metadata traffic. Every call is idempotent (install N times == install
 * once, also after a crash) and works in the network namespace of the calling thread. Choosing a backend
 * and cleaning up the others is {@link Redirects}'s job, not this one's.
 */
public interface Redirect {
    Backend backend();

    /** Atomically replaces whatever this backend had installed with exactly {@code spec}, and reads it back. */
    Shown install(RedirectSpec spec);

    /** Atomically replaces the redirect with a refusal of pods' connects, until the next install. */
    Shown block(RedirectSpec spec);

    /**
     * Removes everything this backend installed; a no-op success when nothing is installed. Returns what it
     * removed, as people read it.
     */
    String remove();

    /** Reads back what is installed, compared with {@code expected} when given. */
    Shown show(Optional<RedirectSpec> expected);
}
