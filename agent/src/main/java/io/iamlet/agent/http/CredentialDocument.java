package io.iamlet.agent.http;

import io.iamlet.agent.log.Json;
import io.iamlet.control.credentials.Credentials;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The body of {@code GET .../iam/security-credentials/ROLE}, byte for byte in the shape real IMDS sends:
 * keys in IMDS's order, timestamps ISO-8601 UTC with Z and no fraction. Some SDKs parse it strictly.
 */
public final class CredentialDocument {
    private CredentialDocument() {
    }

    public static String json(Credentials c) {
        return json(c, null);
    }

    /**
     * The document with {@code AccountId} last when {@code accountId} is not null: the extended credentials API's
     * shape (security-credentials-extended/ROLE), read by the Java SDK v2 (InstanceProfileCredentialsProvider).
     */
    public static String json(Credentials c, String accountId) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("Code", "Success");
        doc.put("LastUpdated", timestamp(c.lastUpdated()));
        doc.put("Type", "AWS-HMAC");
        doc.put("AccessKeyId", c.accessKeyId());
        doc.put("SecretAccessKey", c.secretAccessKey());
        doc.put("Token", c.sessionToken());
        doc.put("Expiration", timestamp(c.expiration()));
        if (accountId != null) {
            doc.put("AccountId", accountId);
        }
        return Json.object(doc);
    }

    /**
     * The documents last rendered, by credentials: a pod asks for the same credentials until they are
     * refreshed, so rendering (JSON and two timestamps) is done once per credentials, not once per request.
     * Bounded: cleared when it holds more than {@code max} (refreshed credentials leave old entries behind).
     */
    static final class Rendered {
        private final ConcurrentHashMap<Credentials, byte[]> documents = new ConcurrentHashMap<>();
        private final int max;
        private final boolean withAccount;

        Rendered(int max, boolean withAccount) {
            this.max = max;
            this.withAccount = withAccount;
        }

        /** The document; credentials belong to one role, so one account: the key needs only the credentials. */
        byte[] bytes(Credentials c, String accountId) {
            byte[] doc = documents.get(c);
            if (doc == null) {
                if (documents.size() >= max) {
                    documents.clear();
                }
                doc = json(c, withAccount ? accountId : null).getBytes(StandardCharsets.UTF_8);
                documents.put(c, doc);
            }
            return doc;
        }
    }

    static String timestamp(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }
}
