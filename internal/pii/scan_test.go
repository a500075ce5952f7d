package pii

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exp is an expected match: its type and value. The value's first
// occurrence in the text (from after the previous span) gives its offsets.
type exp struct {
	typ   Type
	value string
}

type scanCase struct {
	text string
	want []exp // nil: no PII
}

func newScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	sc, err := New(opts)
	require.NoError(t, err)
	return sc
}

// expect turns spans into matches with exact offsets into text.
func expect(t *testing.T, text string, want []exp) []Match {
	t.Helper()
	var out []Match
	from := 0
	for _, w := range want {
		k := strings.Index(text[from:], w.value)
		require.GreaterOrEqual(t, k, 0, "test bug: %q not in %q", w.value, text)
		out = append(out, Match{Type: w.typ, Start: from + k, End: from + k + len(w.value), Pattern: -1})
		from += k + len(w.value)
	}
	return out
}

func runCases(t *testing.T, sc *Scanner, cases []scanCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			got := sc.Scan(nil, c.text)
			want := expect(t, c.text, c.want)
			if !assert.Equal(t, want, got) {
				for _, m := range got {
					t.Logf("got %s %q [%d:%d]", m.Type, c.text[m.Start:m.End], m.Start, m.End)
				}
			}
		})
	}
}

func TestScanEmail(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"jane.doe@example.com", []exp{{Email, "jane.doe@example.com"}}},
		{"mail me: j.doe+news@mail.example.co.uk.", []exp{{Email, "j.doe+news@mail.example.co.uk"}}},
		{"<JOHN_SMITH@EXAMPLE.ORG>", []exp{{Email, "JOHN_SMITH@EXAMPLE.ORG"}}},
		{"mailto:info@example.de?subject=hi", []exp{{Email, "info@example.de"}}},
		{"連絡先:taro@example.jp まで", []exp{{Email, "taro@example.jp"}}},
		{"o'brien@example.ie", []exp{{Email, "o'brien@example.ie"}}},
		{"'quoted@example.com'", []exp{{Email, "quoted@example.com"}}},
		{"a@b.co and c@d.io", []exp{{Email, "a@b.co"}, {Email, "c@d.io"}}},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc.x@y.com", []exp{{APIKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}, {Email, "x@y.com"}}},
		// Not addresses.
		{"icon@2x.png", nil},
		{"@babel/core@7.23.0", nil},
		{"user@localhost", nil},
		{"nginx@sha256:abc", nil},
		{"a..b@example.com", []exp{{Email, "b@example.com"}}},
		{"trailing.@example.com", nil},
		{"x@-bad.com", nil},
		{"x@bad-.com", nil},
		{"x@example.c0m", nil},
		{"ssh://git@example.com/repo.git", nil},
		{"@mention only", nil},
	})
}

func TestScanPhone(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"(555) 123-4567", []exp{{Phone, "(555) 123-4567"}}},
		{"(555)123-4567", []exp{{Phone, "(555)123-4567"}}},
		{"call 555-123-4567.", []exp{{Phone, "555-123-4567"}}},
		{"555.123.4567", []exp{{Phone, "555.123.4567"}}},
		{"555 123 4567", []exp{{Phone, "555 123 4567"}}},
		{"1-800-555-0199", []exp{{Phone, "1-800-555-0199"}}},
		{"+44 20 7946 0958", []exp{{Phone, "+44 20 7946 0958"}}},
		{"+1-555-123-4567", []exp{{Phone, "+1-555-123-4567"}}},
		{"+1 (555) 123-4567", []exp{{Phone, "+1 (555) 123-4567"}}},
		{"+44 (0)20 7946 0958", []exp{{Phone, "+44 (0)20 7946 0958"}}},
		{"+14155552671", []exp{{Phone, "+14155552671"}}},
		{"tel:+33 1 23 45 67 89", []exp{{Phone, "+33 1 23 45 67 89"}}},
		{"07911 123456", []exp{{Phone, "07911 123456"}}},
		{"030 12345678", []exp{{Phone, "030 12345678"}}},
		{"(02) 9876 5432", []exp{{Phone, "(02) 9876 5432"}}},
		{"Ligue (11) 98765-4321", []exp{{Phone, "(11) 98765-4321"}}},
		{"+49 (0) 30 1234567", []exp{{Phone, "+49 (0) 30 1234567"}}},
		{"01 23 45 67 89", []exp{{Phone, "01 23 45 67 89"}}},
		{"090-1234-5678", []exp{{Phone, "090-1234-5678"}}},
		{"電話+81 3-1234-5678です", []exp{{Phone, "+81 3-1234-5678"}}},
		{"555-123-4567,555-987-6543", []exp{{Phone, "555-123-4567"}, {Phone, "555-987-6543"}}},
		{"call +44 20 7946 0958 24 hours a day", []exp{{Phone, "+44 20 7946 0958"}}},
		{"call 030 12345678 24 hours a day", []exp{{Phone, "030 12345678"}}},
		{"+49 89 1234567-0", []exp{{Phone, "+49 89 1234567-0"}}},
		// Not phones.
		{"1732550400", nil},
		{"1732550400123", nil},
		{"5551234567", nil},
		{"2024-01-15", nil},
		{"2024-01-15T10:20:30Z", nil},
		{"15.01.2024", nil},
		{"10:20:30", nil},
		{"1,234.56", nil},
		{"$12.99", nil},
		{"2.4.0", nil},
		{"555-123-4567-89", nil},
		{"id-555-123-4567", nil},
		{"+0530", nil},
		{"+05:30", nil},
		{"+12.345678", nil},
		{"+1500 points", nil},
		{"1 234 567", nil},
		{"94107-1234", nil},
		{"978-3-16-148410-0", nil},
		{"x555-123-4567", nil},
	})
}

func TestScanCreditCard(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"4111111111111111", []exp{{CreditCard, "4111111111111111"}}},
		{"card 4111 1111 1111 1111 exp 12/26", []exp{{CreditCard, "4111 1111 1111 1111"}}},
		{"4111-1111-1111-1111", []exp{{CreditCard, "4111-1111-1111-1111"}}},
		{"amex 3782 822463 10005", []exp{{CreditCard, "3782 822463 10005"}}},
		{"378282246310005", []exp{{CreditCard, "378282246310005"}}},
		{"mc 5555555555554444", []exp{{CreditCard, "5555555555554444"}}},
		{"mc2 2223003122003222", []exp{{CreditCard, "2223003122003222"}}},
		{"discover 6011111111111117", []exp{{CreditCard, "6011111111111117"}}},
		{"jcb 3566002020360505", []exp{{CreditCard, "3566002020360505"}}},
		{"diners 3056 9309 0259 04", []exp{{CreditCard, "3056 9309 0259 04"}}},
		{"unionpay 6200000000000005", []exp{{CreditCard, "6200000000000005"}}},
		// Not cards.
		{"4111111111111112", nil},         // Luhn
		{"1234567812345670", nil},         // Luhn-valid, unknown IIN
		{"4111 1111 1111 1112", nil},      // Luhn
		{"4111111111111111.50", nil},      // a decimal
		{"4111-1111-1111-1111-1111", nil}, // too long
		{"x4111111111111111", nil},        // inside a word
		{"3782822463100050000", nil},      // Amex prefix, wrong length
		{"order 4111 1111 1111 111", nil}, // 15 digits, Luhn fails
		{"ts 1732550400123", nil},         // epoch ms
		{"4bf92f3577b34da6a3ce929d0e0e4736", nil},
	})
}

func TestScanIBAN(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"DE89370400440532013000", []exp{{IBAN, "DE89370400440532013000"}}},
		{"IBAN: DE89 3704 0044 0532 0130 00.", []exp{{IBAN, "DE89 3704 0044 0532 0130 00"}}},
		{"GB82 WEST 1234 5698 7654 32", []exp{{IBAN, "GB82 WEST 1234 5698 7654 32"}}},
		{"iban=FR1420041010050500013M02606", []exp{{IBAN, "FR1420041010050500013M02606"}}},
		{"NL91ABNA0417164300", []exp{{IBAN, "NL91ABNA0417164300"}}},
		{"BE68539007547034", []exp{{IBAN, "BE68539007547034"}}},
		{"NO9386011117947", []exp{{IBAN, "NO9386011117947"}}},
		// Not IBANs (and nothing else inside them).
		{"DE88370400440532013000", nil},      // mod 97
		{"DE89 3704 0044 0532 0130 01", nil}, // mod 97
		{"DE8937040044053201300", nil},       // too short
		{"DE893704004405320130001", nil},     // too long
		{"DE89 3704 0044 0532 0130 0", nil},  // too short, grouped
		{"XX89370400440532013000", nil},      // unknown country
		{"de89370400440532013000", nil},      // lower case
		{"PL07 6985 0346 6912 1457 3694 1751", nil},
	})
}

func TestScanIBANBrokenGrouping(t *testing.T) {
	sc := newScanner(t, Options{})
	for _, m := range sc.Scan(nil, "DE89 37040044 0532 0130 00") {
		assert.NotEqual(t, IBAN, m.Type)
	}
}

func TestScanIPv4(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"192.168.1.1", []exp{{IPv4, "192.168.1.1"}}},
		{"client 10.0.0.255:8080 connected", []exp{{IPv4, "10.0.0.255"}}},
		{"http://203.0.113.7/path", []exp{{IPv4, "203.0.113.7"}}},
		{"net 10.0.0.0/8", nil}, // a network block names no host
		{"host 192.0.2.17/24", []exp{{IPv4, "192.0.2.17"}}},
		{"single host 203.0.113.77/32", []exp{{IPv4, "203.0.113.77"}}},
		{"a 1.1.1.1, b 8.8.8.8.", []exp{{IPv4, "1.1.1.1"}, {IPv4, "8.8.8.8"}}},
		{"ips=10.0.0.1,10.0.0.2", []exp{{IPv4, "10.0.0.1"}, {IPv4, "10.0.0.2"}}},
		{"/hosts/10.1.2.3", []exp{{IPv4, "10.1.2.3"}}},
		{"range 10.0.0.1-10.0.0.254", []exp{{IPv4, "10.0.0.1"}, {IPv4, "10.0.0.254"}}},
		{"nat 0.0.0.0:0.0.0.0", nil}, // the unspecified address names no host
		{"10.0.0.1-555-123-4567", nil},
		{"555-123-4567-10.0.0.1", nil},
		{"id-10.0.0.1", nil},
		// Context that is itself PII is not context.
		{"x@y.version 10.0.0.1", []exp{{Email, "x@y.version"}, {IPv4, "10.0.0.1"}}},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc-555-123-4567", []exp{{APIKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}, {Phone, "555-123-4567"}}},
		// Not IPs.
		{"v1.2.3.4", nil},
		{"version 10.0.0.1", nil},
		{"Version: 10.0.0.1", nil},
		{`"appVersion":"2.3.1.0"`, nil},
		{"build 1.0.0.1", nil},
		{"firmware 2.0.0.12", nil},
		{"1.2.3", nil},
		{"999.1.1.1", nil},
		{"1.2.3.256", nil},
		{"1.2.3.4.5", nil},
		{"01.02.03.04", nil},
		{"Chrome/120.0.0.0 Safari/537.36", nil},
		{"1.3.6.1.4.1.2021", nil},
	})
}

func TestScanIPv6(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", []exp{{IPv6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}}},
		{"2001:db8::1", []exp{{IPv6, "2001:db8::1"}}},
		{"from fe80::1%eth0", []exp{{IPv6, "fe80::1"}}},
		{"::1", []exp{{IPv6, "::1"}}},
		{"[::ffff:192.0.2.1]:80", []exp{{IPv6, "::ffff:192.0.2.1"}}},
		{"http://[2001:db8::8a2e:370:7334]:8080/", []exp{{IPv6, "2001:db8::8a2e:370:7334"}}},
		{"FE80::ABCD:1", []exp{{IPv6, "FE80::ABCD:1"}}},
		{"abcd:ef01:2345:6789:abcd:ef01:2345:6789", []exp{{IPv6, "abcd:ef01:2345:6789:abcd:ef01:2345:6789"}}},
		{"2001:db8::", []exp{{IPv6, "2001:db8::"}}},
		// Not addresses.
		{"10:20:30", nil},
		{"00:1A:2B:3C:4D:5E", []exp{{MACAddress, "00:1A:2B:3C:4D:5E"}}}, // six groups: a MAC address
		{"std::vector", nil},
		{"a::b", nil},
		{"::", nil},
		{"1::2::3", nil},
		{"12345::1", nil},
		{"1:2:3:4:5:6:7", nil},
		{"1:2:3:4:5:6:7:8:9", nil},
	})
}

func TestScanSSN(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"123-45-6789", []exp{{SSN, "123-45-6789"}}},
		{"ssn: 078-05-1120.", []exp{{SSN, "078-05-1120"}}},
		{"219 09 9999", []exp{{SSN, "219 09 9999"}}},
		{"861 24 1020 861 24 1020", []exp{{SSN, "861 24 1020"}, {SSN, "861 24 1020"}}},
		{"899-99-9999", []exp{{SSN, "899-99-9999"}}},
		// Not SSNs.
		{"000-12-3456", nil},
		{"666-12-3456", nil},
		{"900-12-3456", nil},
		{"999-12-3456", nil},
		{"123-00-4567", nil},
		{"123-45-0000", nil},
		{"123-45 6789", nil},
		{"123456789", nil},
		{"123-45-67890", nil},
		{"1123-45-6789", nil},
	})
}

const testJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

func TestScanJWT(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{testJWT, []exp{{JWT, testJWT}}},
		{"token: " + testJWT + ".", []exp{{JWT, testJWT}}},
		{`{"id_token":"` + testJWT + `"}`, []exp{{JWT, testJWT}}},
		{"Authorization: Bearer " + testJWT, []exp{{JWT, testJWT}}},
		{"unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", []exp{{JWT, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}}},
		// Not JWTs.
		{"eyJhbGciOiJIUzI1NiJ9", nil},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", nil},
		{"xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", nil},
		{"eyJhbG.eyJzdWIiOiIxIn0.sig", nil},
	})
}

func TestScanBearer(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543", []exp{{BearerToken, "8f14e45fceea167a5a36dedd4bea2543"}}},
		{"authorization: bearer ya29.a0AfB_byC7dEfGhIjKl0123", []exp{{APIKey, "ya29.a0AfB_byC7dEfGhIjKl0123"}}}, // the more specific type
		{"BEARER   abcDEF0123456789xyz==, next", []exp{{BearerToken, "abcDEF0123456789xyz=="}}},
		{"Bearer abcdef0123456789abcdef.", []exp{{BearerToken, "abcdef0123456789abcdef"}}},
		// An API key or JWT after Bearer is reported as the more specific type.
		{"Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc", []exp{{APIKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}}},
		// Not tokens.
		{"Bearer token missing", nil},
		{"the bearer of this card", nil},
		{"Bearer authenticationFailure", nil},
		{"Bearer short123", nil},
		{"Bearer realm=\"example\"", nil},
		{"Bearer_abcdef0123456789abcdef", nil},
	})
}

func TestScanAPIKey(t *testing.T) {
	keys := []string{
		"sk_live_4eC39HqLyjWDarjtT1zdp7dc",
		"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
		"pk_live_51H8x2kLmNoPqRsTuVwXyZ01",
		"rk_live_51H8x2kLmNoPqRsTuVwXyZ01",
		"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"ghu_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"ghr_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW",
		"xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
		"xoxp-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
		"xoxa-2-123456789012-AbCdEfGhIjKlMnOp",
		"xoxr-123456789012-AbCdEfGhIjKlMnOp",
		"AKIAIOSFODNN7EXAMPLE",
		"ASIAIOSFODNN7EXAMPLE",
		"AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
		"glpat-xxxxxxxxxxxxxxxxxxxx",
		"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",
		"sk-proj-abcDEF0123456789abcdefGHIJ",
		"sk-ant-api03-abcDEF0123456789abcdefGHIJ",
		"npm_abcdefghijklmnopqrstuvwxyz0123456789",
	}
	var cases []scanCase
	for _, k := range keys {
		cases = append(cases,
			scanCase{k, []exp{{APIKey, k}}},
			scanCase{"KEY=" + k + "; next", []exp{{APIKey, k}}},
			scanCase{`{"k":"` + k + `"}`, []exp{{APIKey, k}}},
		)
	}
	cases = append(cases, []scanCase{
		{"sk_live_short", nil},
		{"task_live_4eC39HqLyjWDarjtT1zdp7dc", nil},
		{"sk-spinner-double-bounce-container", nil},
		{"sk-learn", nil},
		{"ghp_tooShort123", nil},
		{"AKIAIOSFODNN7EXAMPL", nil},
		{"AKIAIOSFODNN7EXAMPLE1", nil},
		{"AKIAiosfodnn7example", nil},
		{"AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBW", nil},
		{"xoxb-", nil},
		{"SG.short.short", nil},
		{"npm_install", nil},
		{"mysk_live_4eC39HqLyjWDarjtT1zdp7dc", nil},
	}...)
	runCases(t, newScanner(t, Options{}), cases)
}

func TestScanURLSecret(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"postgres://app:s3cret@db.internal:5432/app", []exp{{URLSecret, "app:s3cret"}}},
		{"redis://:p4ss@cache:6379", []exp{{URLSecret, ":p4ss"}}},
		{"https://u:p@10.0.0.1/", []exp{{URLSecret, "u:p"}, {IPv4, "10.0.0.1"}}},
		{"https://x.io/reset?token=abc123&lang=en", []exp{{URLSecret, "abc123"}}},
		{"/cb?code=4/0AeaY-x_y&state=s", []exp{{URLSecret, "4/0AeaY-x_y"}}},
		{"https://x.io/?a=1&API_KEY=k3y;next", []exp{{URLSecret, "k3y"}}},
		{"https://x.io/cb#access_token=tok123&expires_in=3600", []exp{{URLSecret, "tok123"}}},
		{"https://x.io/f?X-Amz-Signature=abcdef0123", []exp{{URLSecret, "abcdef0123"}}},
		{"/checkout;jsessionid=ABC123?step=2", []exp{{URLSecret, "ABC123"}}},
		{"(see https://x.io/?sig=abc)", []exp{{URLSecret, "abc"}}},
		{"https://x.io/?token=" + testJWT, []exp{{URLSecret, testJWT}}},
		{"https://x.io/?password=pw9&email=jane@example.com", []exp{{URLSecret, "pw9"}, {Email, "jane@example.com"}}},
		// Not secrets.
		{"https://x.io/?page=2&sort=asc", nil},
		{"https://x.io/?token=&key=", nil},
		{"https://x.io/?auth=true&session=null", nil},
		{"https://user@x.io/", nil},
		{"https://user:@x.io/", nil},
		{"https://x.io:8080/path", nil},
		{"?tokens=abc", nil},
		{"#fff", nil},
		{"Set-Cookie: a=1; token=abc", nil},
	})
}

func TestScanSkipsIDs(t *testing.T) {
	runCases(t, newScanner(t, Options{}), []scanCase{
		{"123e4567-e89b-12d3-a456-426614174000", nil},
		{"c8a1f7e2-3b4d-4e5f-9a6b-7c8d9e0f1a2b", nil},
		{"12345678-1234-1234-1234-123456789012", nil},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", nil},
		{"trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7", nil},
		{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", nil},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", nil},
		{"color: #3b82f6; width: 12.5px; font-size: 1.25rem", nil},
		{"/usr/local/lib/python3.11/site-packages/x.py:42", nil},
	})
}

func TestScanExactOffsets(t *testing.T) {
	sc := newScanner(t, Options{})
	s := "é jane@example.com — 10.0.0.1 ✓ +1 555 123 4567"
	got := sc.Scan(nil, s)
	assert.Equal(t, []Match{
		{Type: Email, Start: 3, End: 19, Pattern: -1},
		{Type: IPv4, Start: 24, End: 32, Pattern: -1},
		{Type: Phone, Start: 37, End: 52, Pattern: -1},
	}, got)
	assert.Equal(t, "jane@example.com", s[3:19])
	assert.Equal(t, "10.0.0.1", s[24:32])
	assert.Equal(t, "+1 555 123 4567", s[37:52])
}

func TestScanTypesFilter(t *testing.T) {
	s := "jane@example.com 10.0.0.1 https://u:pw@h.io/"
	sc := newScanner(t, Options{Types: []Type{IPv4}})
	assert.Equal(t, []Match{{Type: IPv4, Start: 17, End: 25, Pattern: -1}}, sc.Scan(nil, s))

	sc = newScanner(t, Options{Types: []Type{}})
	assert.Empty(t, sc.Scan(nil, s))

	// With URLSecret off, the userinfo is still not taken for an email.
	sc = newScanner(t, Options{Types: []Type{Email}})
	assert.Equal(t, []Match{{Type: Email, Start: 0, End: 16, Pattern: -1}}, sc.Scan(nil, s))

	// Custom in Types is accepted and ignored.
	sc = newScanner(t, Options{Types: []Type{Custom, Email}})
	assert.Len(t, sc.Scan(nil, s), 1)
}

func TestScanCustom(t *testing.T) {
	sc := newScanner(t, Options{
		Types: []Type{Email, Phone},
		Custom: []Pattern{
			{Name: "employee", Regex: `\bEMP-[0-9]{6}\b`},
			{Name: "ticket", Regex: `(?i)\bticket\s+#?\d+`},
		},
	})
	s := "EMP-123456 opened Ticket #42 for jane@example.com, also EMP-654321"
	got := sc.Scan(nil, s)
	assert.Equal(t, []Match{
		{Type: Custom, Start: 0, End: 10, Pattern: 0},
		{Type: Custom, Start: 18, End: 28, Pattern: 1},
		{Type: Custom, Start: 0, End: 0, Pattern: 0},
	}[:2], got[:2])
	require.Len(t, got, 4)
	assert.Equal(t, Match{Type: Email, Start: 33, End: 49, Pattern: -1}, got[2])
	assert.Equal(t, Match{Type: Custom, Start: 56, End: 66, Pattern: 0}, got[3])

	// Overlap: a longer custom match wins over a phone inside it.
	sc = newScanner(t, Options{Custom: []Pattern{{Name: "order", Regex: `ORD-\d{3}-\d{3}-\d{4}`}}})
	s = "ORD-555-123-4567"
	assert.Equal(t, []Match{{Type: Custom, Start: 0, End: len(s), Pattern: 0}}, sc.Scan(nil, s))
}

func TestScanCustomMatchIsNotContext(t *testing.T) {
	// A custom match right before "::1" does not veto it as a word would:
	// redacting the custom match must not change what is found after it.
	sc := newScanner(t, Options{Custom: []Pattern{{Name: "secret", Regex: `(?i)\bsecret\w*`}}})
	s := "seCret::1 and ::1"
	assert.Equal(t, []Match{
		{Type: Custom, Start: 0, End: 6, Pattern: 0},
		{Type: IPv6, Start: 6, End: 9, Pattern: -1},
		{Type: IPv6, Start: 14, End: 17, Pattern: -1},
	}, sc.Scan(nil, s))
}

func TestScanOverlapPriority(t *testing.T) {
	sc := newScanner(t, Options{})
	// URLSecret over the email inside its value.
	s := "https://x.io/?token=jane@example.com"
	assert.Equal(t, []Match{{Type: URLSecret, Start: 20, End: len(s), Pattern: -1}}, sc.Scan(nil, s))
	// Email over a phone-like local part.
	s = "555-123-4567@example.com"
	assert.Equal(t, []Match{{Type: Email, Start: 0, End: len(s), Pattern: -1}}, sc.Scan(nil, s))
}

func TestScanAppendsAndDoesNotAllocate(t *testing.T) {
	sc := newScanner(t, Options{})
	dst := make([]Match, 1, 8)
	dst[0] = Match{Type: Custom, Start: 1, End: 2, Pattern: 3}
	got := sc.Scan(dst, "x 10.0.0.1 y")
	require.Len(t, got, 2)
	assert.Equal(t, dst[0], got[0])
	assert.Equal(t, Match{Type: IPv4, Start: 2, End: 10, Pattern: -1}, got[1])

	buf := make([]Match, 0, 16)
	clean := strings.Join(cleanEvent, " | ")
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = sc.Scan(buf[:0], clean) }))
	pii := strings.Join(piiEvent, " | ")
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = sc.Scan(buf[:0], pii) }))
	assert.NotEmpty(t, buf)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Redact(clean, nil, mask) }))
}

func TestScanNilScanner(t *testing.T) {
	var sc *Scanner
	assert.Nil(t, sc.Scan(nil, "jane@example.com"))
}

func TestScanConcurrent(t *testing.T) {
	sc := newScanner(t, Options{Custom: []Pattern{{Name: "emp", Regex: `EMP-\d+`}}})
	s := strings.Join(piiEvent, " ") + " EMP-42"
	want := sc.Scan(nil, s)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []Match
			for range 200 {
				dst = sc.Scan(dst[:0], s)
				if !assert.Equal(t, want, dst) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestRedact(t *testing.T) {
	sc := newScanner(t, Options{})
	s := "mail jane@example.com from 10.0.0.1"
	ms := sc.Scan(nil, s)
	assert.Equal(t, "mail [email] from [ipv4]", Redact(s, ms, nil))
	assert.Equal(t, "mail <EMAIL:16> from <IPV4:8>", Redact(s, ms, func(m Match, v string) string {
		return fmt.Sprintf("<%s:%d>", strings.ToUpper(m.Type.String()), len(v))
	}))
	assert.Equal(t, "mail **************** from ********", Redact(s, ms, mask))

	// Empty matches: s itself.
	assert.Equal(t, s, Redact(s, nil, nil))
	// Bad matches are skipped, not a panic.
	bad := []Match{{Type: Email, Start: 5, End: 21}, {Type: Phone, Start: 10, End: 12}, {Type: IPv4, Start: 27, End: 99}, {Type: SSN, Start: 3, End: 2}}
	assert.Equal(t, "mail [email] from 10.0.0.1", Redact(s, bad, nil))
	// A match at the very start and end.
	s = "jane@example.com"
	assert.Equal(t, "[email]", Redact(s, sc.Scan(nil, s), nil))
}

func TestTypeStringParse(t *testing.T) {
	want := map[Type]string{
		Email: "email", Phone: "phone", CreditCard: "credit_card", IBAN: "iban", IPv4: "ipv4", IPv6: "ipv6",
		SSN: "ssn", JWT: "jwt", BearerToken: "bearer_token", APIKey: "api_key", URLSecret: "url_secret",
		MACAddress: "mac_address", IMEI: "imei", Secret: "secret", Custom: "custom",
	}
	for typ, name := range want {
		assert.Equal(t, name, typ.String())
		got, err := ParseType(name)
		require.NoError(t, err)
		assert.Equal(t, typ, got)
		got, err = ParseType(" " + strings.ToUpper(name) + " ")
		require.NoError(t, err)
		assert.Equal(t, typ, got)
	}
	assert.Equal(t, "Type(0)", Type(0).String())
	assert.Equal(t, "Type(99)", Type(99).String())

	_, err := ParseType("passport")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"passport"`)
	for _, name := range want {
		assert.Contains(t, err.Error(), name)
	}

	all := AllTypes()
	assert.Len(t, all, 14)
	assert.NotContains(t, all, Custom)
	all[0] = Custom // a fresh slice each call
	assert.Equal(t, Email, AllTypes()[0])
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want []string
	}{
		{Options{Types: []Type{Email, Type(0)}}, []string{"Options.Types[1]", "Type(0)", "email"}},
		{Options{Types: []Type{Type(42)}}, []string{"Type(42)"}},
		{Options{Custom: []Pattern{{Name: "ok", Regex: "x"}, {Name: "broken", Regex: "a(b"}}}, []string{"custom pattern 1", `"broken"`, "missing closing )"}},
		{Options{Custom: []Pattern{{Name: "empty"}}}, []string{`"empty"`, "empty regex"}},
		{Options{Custom: []Pattern{{Name: "star", Regex: "a*"}}}, []string{`"star"`, "matches the empty string"}},
	} {
		_, err := New(c.opts)
		require.Error(t, err)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w)
		}
	}
	_, err := New(Options{Types: AllTypes(), Custom: []Pattern{{Name: "ok", Regex: `\d{3}`}}})
	assert.NoError(t, err)
}

func TestBenchmarkEvents(t *testing.T) {
	sc := newScanner(t, Options{})
	n := 0
	for _, v := range cleanEvent {
		n += len(v)
		assert.Empty(t, sc.Scan(nil, v), "clean value %q", v)
	}
	assert.InDelta(t, 1024, n, 100, "the clean event is about 1 KB")
	var found []string
	for _, v := range piiEvent {
		for _, m := range sc.Scan(nil, v) {
			found = append(found, m.Type.String()+":"+v[m.Start:m.End])
		}
	}
	assert.Equal(t, []string{
		"url_secret:Zx9Qm2Lp7Vt4Rk8Wn3Hs",
		"email:jane.doe@example.com",
		"phone:+49 30 12345678",
		"credit_card:4111 1111 1111 1111",
		"ipv4:203.0.113.42",
	}, found)
}

// TestScanLinearTime feeds repetitive input that would make a scanner that
// re-reads from every candidate start quadratic.
func TestScanLinearTime(t *testing.T) {
	sc := newScanner(t, Options{})
	for _, unit := range []string{
		"sk-", "AIza-", "SG.a-", "glpat-", "xoxb-1", "eyJ", "eyJa.", "eyJabcdefghij.eyJab.", "a@", "a@b.", "://",
		"?token=", "&key=a", "Bearer ", "bearer a.", "1.", "1-", "1 ", "+1 ", "(1", "::", "a:", "DE89 ", "4111 ",
		"123-45-", "0", "ghp_", "github_pat_a",
	} {
		s := strings.Repeat(unit, (256<<10)/len(unit))
		start := time.Now()
		sc.Scan(nil, s)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q x %d: %v", unit, len(s)/len(unit), d)
		}
	}
}
