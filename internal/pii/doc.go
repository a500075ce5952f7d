// Package pii finds personal data and secrets in strings, for the privacy
// processor to redact before events leave the collector.
//
// A [Scanner] is built once from [Options] (which built-in types are on, and
// any user-defined RE2 patterns) and is then safe for concurrent use. Its
// [Scanner.Scan] appends the [Match]es found in a string to a caller-owned
// slice, sorted by offset and non-overlapping, without allocating when the
// string holds no PII; [Redact] replaces them.
//
// The built-in types are found by a hand-written, single-pass, byte-oriented
// scanner, not by regular expressions: a 256-entry byte-class table skips
// boring bytes eight at a time, and a detector runs only at a cheap signal (a
// digit or an upper-case letter starting a word, '@', "://", '?', '&', '#',
// ';', '+', '(', ':', and the first '_' or '-' of a word that may be a key
// prefix). Every built-in match is made of ASCII bytes only, so its offsets
// always fall on rune boundaries; invalid UTF-8 is just more non-word bytes.
// Custom patterns run through package regexp, only when configured.
//
// # What each type matches, and what it deliberately does not
//
// Every match must stand on its own: the bytes around it must not continue it
// (a letter, a digit or '_' before or after; for numbers also a '.' or '-'
// followed by a digit after, and a "1." or "a-" before). Bytes that belong to
// a match found earlier are PII, not context: they never veto what follows,
// so redacting them cannot make the scanner find something it did not find
// before (the fuzz test checks this).
//
// [Email]: local@domain, the local part of letters, digits and . _ % + - '
// (at most 64 bytes, not across "..", no leading or trailing dot), the
// domain two or more labels of letters, digits and inner '-', the last one
// 2-24 letters.
// Not: "icon@2x.png" and other asset names whose "TLD" is a file extension
// (png, jpg, svg, js, css, json, ...), "user@localhost", "pkg@1.2.3",
// "@mention", the userinfo of a URL ("ssh://git@host"), internationalized
// (non-ASCII) addresses.
//
// [Phone]: international numbers: '+', a country code starting 1-9, then
// groups separated by single spaces, '-' or '.', a group possibly in
// parentheses ("+44 (0)20 7946 0958"), 7-15 digits in all (8-15 without any
// separator, "+14155552671"). National numbers: North American
// 555-123-4567, 555.123.4567, 555 123 4567, (555) 123-4567 and 1-800-...
// forms, and trunk-prefixed numbers whose first group is 0 then 1-9, 2-5
// digits, with consistent separators and 9-13 digits in all (07911 123456,
// 030 12345678, (02) 9876 5432, 01 23 45 67 89, 090-1234-5678), and numbers
// whose area code is in parentheses, 10-12 digits in all ((11) 98765-4321).
// A trailing group of one or two digits after a space is not taken once the
// number has ten digits ("+44 20 7946 0958 24 hours"). Not: bare
// digit runs (epoch seconds and milliseconds, ids), ISO dates and times,
// dotted dates (15.01.2024: too few digits), amounts and prices, a "+x.y"
// with one dot (coordinates, deltas), time-zone offsets, 7-digit local
// numbers (555-0199), national numbers without a trunk 0 outside North
// America without parentheses (Brazil's 11 98765-4321), and '/' as a
// separator (030/12345678).
//
// [CreditCard]: 14-19 digits, contiguous or in groups (the first of four
// digits, the others two to six) separated by all-spaces or all-dashes,
// passing the Luhn check, with a known issuer prefix for the length (Visa,
// Mastercard incl. 2-series, American Express, Discover, Diners Club, JCB,
// UnionPay, Maestro, Mir). Not: Luhn failures, unknown prefixes (epoch
// milliseconds start with 1), 13-digit numbers (legacy Visa and Maestro
// lengths, left out because one EAN-13 barcode in ten would pass),
// decimals ("4111111111111111.50"), digits inside words or longer digit
// runs.
//
// [IBAN]: two upper-case letters naming a country with a known IBAN length,
// two check digits, then the BBAN (digits and upper-case letters), compact or
// in space-separated groups of four, passing mod-97. Not: lower-case IBANs,
// other groupings, wrong lengths. An IBAN-shaped string that fails mod-97 is
// skipped whole, so its digit groups are not taken for a phone or a card.
//
// [IPv4]: a dotted quad, octets 0-255 without leading zeros. Not: versions
// (right after a letter as in "v1.2.3.4", or after the word v, ver, version,
// appVersion, os_version, build, release, firmware, fw, rev, revision, and
// "version" in a few other languages: 版本, バージョン, версия, versión,
// ...), user agent product tokens ("Chrome/120.0.0.0"), out-of-range octets, and runs
// of more than four numbers ("1.3.6.1.4.1", "1.2.3.4.5"). A range
// "10.0.0.1-10.0.0.9" is two addresses; an address may be followed by a
// ":port" or "/prefix", which is not part of the match.
//
// [IPv6]: eight groups of 1-4 hex digits, or fewer with one "::" (leading,
// inner or trailing), the last 32 bits possibly dotted IPv4
// ("::ffff:192.0.2.1"); the zone ("%eth0") and a bracketed port are not part
// of the match. Not: times ("10:20:30"), MAC addresses (six groups), "::"
// alone, C++ scopes ("std::vector"), "a::b" (an inner "::" needs a first
// group of two or more hex digits). An unbracketed "addr:port" is read as one longer
// address when that is valid.
//
// [SSN]: US AAA-GG-SSSS with dashes or spaces (the same separator twice), area
// not 000, 666 or 900-999, group not 00, serial not 0000. Not: nine bare
// digits.
//
// [JWT]: three base64url segments separated by dots, the first starting with
// "eyJ" (the encoding of `{"`) and at least ten long; the signature may be
// empty (unsigned tokens); five segments (JWE) also match. Not: a lone
// "eyJ..." base64 JSON blob.
//
// [BearerToken]: the token after "Bearer" (any case) and spaces: RFC 6750
// characters (letters, digits, - . _ ~ + / and trailing '='), at least 16
// long with both a digit and a letter, trailing dots dropped. Not: prose
// ("Bearer token missing", "Bearer realm=..."). A JWT or an API key after
// "Bearer" is reported as that more specific type.
//
// [APIKey]: whole keys with a well-known prefix: Stripe sk_live_, sk_test_,
// pk_live_, rk_live_ (16+ alphanumerics); GitHub ghp_, gho_, ghu_, ghs_, ghr_
// (30+) and github_pat_ (22+); Slack xoxb-, xoxp-, xoxa-, xoxr- (10+, with a
// digit and a letter); AWS AKIA/ASIA + 16 upper-case alphanumerics; Google
// AIza + 35; GitLab glpat- (20+); SendGrid SG.x.y; OpenAI/Anthropic-style sk-
// (20+ base64url with a digit and a letter); npm_ (30+). Not: the prefix
// inside a longer word ("mysk_live_..."), too short bodies, CSS classes such
// as "sk-double-bounce".
//
// [URLSecret]: the userinfo of a URL when it has a password
// ("postgres://app:s3cret@db" matches "app:s3cret"), and the value of a query,
// fragment or matrix parameter (after '?', '&', '#' or ';') whose name is
// secret-like, case-insensitive, '-' read as '_': token, access_token,
// api_key, apikey, key, password, passwd, pwd, secret, auth, signature, sig,
// session, sessionid, code, and refresh_token, id_token, auth_token,
// client_secret, session_id, jsessionid, phpsessid, private_token,
// x_amz_signature, x_amz_security_token, x_goog_signature, access_key,
// secret_key. The value ends at '&', '#', whitespace, quotes, ',' or ';';
// trailing sentence punctuation is dropped. Not: empty values and
// placeholders (true, false, null, none, yes, no, on, off, 0, 1, redacted,
// value, xxx, example, %s), parameters outside a URL context ("key=value" in
// a log line without '?'), cookie headers ("; token=" has a space).
//
// Hex identifiers are never PII: a UUID (8-4-4-4-12 hex) is skipped whole,
// and trace ids, span ids, hashes and base64 blobs are single words in which
// no detector starts.
//
// # Overlaps
//
// Candidates that overlap are resolved so that the more specific one is
// kept: URLSecret, JWT, APIKey and BearerToken (in that order for equal
// spans) win over Email, and Email over every other type; within the same
// tier the longer match wins. A custom pattern is in the lowest tier; its
// matches, like the built-in ones, are PII rather than context for what
// follows them.
package pii // import "github.com/pulse-otel/pulse/internal/pii"
