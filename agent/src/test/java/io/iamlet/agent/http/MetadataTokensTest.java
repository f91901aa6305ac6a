package io.iamlet.agent.http;

import io.iamlet.control.testing.TestClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** IMDSv2 tokens are accepted only as issued: no other spelling of the same expiry, uid or MAC. */
class MetadataTokensTest {
    private static final String IP = "10.1.2.3";
    private static final String UID = "4f1c2a9e-7d1b-4c55-9a0e-0123456789ab";
    /** Every character a base64url decoder or a lenient parser might take, and some it should not. */
    private static final String CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \t%";

    private final TestClock clock = new TestClock(Instant.parse("2026-12-03T10:00:00Z"));
    private final MetadataTokens tokens = new MetadataTokens(clock);

    private String issue(int ttl) {
        MetadataTokens.Issue issue = tokens.issue(IP, UID, String.valueOf(ttl), false);
        return assertInstanceOf(MetadataTokens.Issue.Issued.class, issue).token();
    }

    @Test
    void theIssuedTokenIsValidForItsCallerUntilItExpires() {
        String token = issue(60);
        assertEquals(new MetadataTokens.Check.Valid(UID), tokens.check(token, IP));
        assertInstanceOf(MetadataTokens.Check.Invalid.class, tokens.check(token, "10.1.2.4"));
        clock.advance(Duration.ofSeconds(60));
        assertEquals(new MetadataTokens.Check.Valid(UID), tokens.check(token, IP), "valid through its last second");
        clock.advance(Duration.ofSeconds(1));
        assertEquals(new MetadataTokens.Check.Invalid("token expired"), tokens.check(token, IP));
    }

    /** The fuzzer's find: the last character changed (its unused bits ignored by a lenient decode) was accepted. */
    @Test
    void everyOtherLastCharacterIsRefused() {
        String token = issue(300);
        String head = token.substring(0, token.length() - 1);
        char last = token.charAt(token.length() - 1);
        int tried = 0;
        for (char c : CHARACTERS.toCharArray()) {
            if (c != last) {
                assertInstanceOf(MetadataTokens.Check.Invalid.class, tokens.check(head + c, IP), "last character " + c);
                tried++;
            }
        }
        assertTrue(tried >= 64, "every base64url character but the issued one");
    }

    @Test
    void everyCharacterChangedAnywhereIsRefused() {
        String token = issue(300);
        int refused = 0;
        for (int i = 0; i < token.length(); i++) {
            for (char c : CHARACTERS.toCharArray()) {
                if (c == token.charAt(i)) {
                    continue;
                }
                String mutated = token.substring(0, i) + c + token.substring(i + 1);
                assertInstanceOf(MetadataTokens.Check.Invalid.class, tokens.check(mutated, IP), mutated);
                refused++;
            }
        }
        assertTrue(refused > token.length() * 60, "tried " + refused);
    }

    @Test
    void otherSpellingsOfTheSameValuesAreRefused() {
        String token = issue(300);
        String[] p = token.split("\\.");
        List<String> spellings = new ArrayList<>(List.of(
                "+" + token, "0" + token, token + "=", token + "==", token + " ", " " + token, token + "\n",
                p[0] + "." + p[1].toUpperCase() + "." + p[2],
                p[0] + "." + p[1] + "." + p[2].replace('-', '+').replace('_', '/'),
                p[0] + "." + p[1] + "." + p[2] + "A",
                p[0] + "." + p[1] + "." + p[2].substring(0, p[2].length() - 1),
                token + ".", "." + token));
        for (String s : spellings) {
            if (!s.equals(token)) {
                assertInstanceOf(MetadataTokens.Check.Invalid.class, tokens.check(s, IP), "'" + s + "'");
            }
        }
        assertEquals(new MetadataTokens.Check.Valid(UID), tokens.check(token, IP), "the issued spelling still works");
    }
}
