package io.iamlet.control.credentials;

/** Where credentials come from: STS in production. */
public interface CredentialSource {
    /** Assumes the role; throws {@link CredentialException} with a reason a person can act on. */
    Credentials assume(CredentialKey key);
}
