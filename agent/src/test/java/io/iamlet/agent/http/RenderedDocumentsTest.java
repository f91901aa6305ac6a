package io.iamlet.agent.http;

import io.iamlet.control.credentials.Credentials;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.*;

class RenderedDocumentsTest {
    private static Credentials creds(String key) {
        return new Credentials(key, "secret", "token", Instant.parse("2026-11-25T12:00:00Z"), Instant.parse("2026-11-25T11:00:00Z"));
    }

    @Test
    void sameCredentialsSameDocumentNewCredentialsNewDocument() {
        CredentialDocument.Rendered rendered = new CredentialDocument.Rendered(2, false);
        byte[] first = rendered.bytes(creds("AKIA1"), "111122223333");
        assertSame(first, rendered.bytes(creds("AKIA1"), "111122223333"), "rendered once per credentials");
        assertEquals(CredentialDocument.json(creds("AKIA1")), new String(first, StandardCharsets.UTF_8));
        byte[] refreshed = rendered.bytes(creds("AKIA2"), "111122223333");
        assertTrue(new String(refreshed, StandardCharsets.UTF_8).contains("\"AccessKeyId\":\"AKIA2\""));
        rendered.bytes(creds("AKIA3"), "111122223333"); // over the bound: starts again
        assertNotSame(first, rendered.bytes(creds("AKIA1"), "111122223333"));
        assertEquals(CredentialDocument.json(creds("AKIA1")), new String(rendered.bytes(creds("AKIA1"), "111122223333"), StandardCharsets.UTF_8));
    }
}
