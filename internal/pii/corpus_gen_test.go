package pii

// The generator of testdata/corpus. It runs only with -gen-corpus:
//
//	go test ./internal/pii -run TestGenerateCorpus -gen-corpus
//
// It is deterministic (a fixed seed), so regenerating gives the same files.
// Every value is fake but valid in form: Luhn-valid test card numbers,
// mod-97-valid IBANs, SSNs with valid area/group/serial, JWTs with real JSON
// headers, and so on.

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var genCorpus = flag.Bool("gen-corpus", false, "regenerate testdata/corpus")

type corpusSpan struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type corpusLine struct {
	Text  string       `json:"text"`
	Spans []corpusSpan `json:"spans,omitempty"`
}

type gen struct {
	r *rand.Rand
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) digitsFrom(n int, first string) string {
	return string(first[g.r.IntN(len(first))]) + g.digits(n-1)
}

func (g *gen) chars(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upAlnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b64url    = alnum + "-_"
	hexDigits = "0123456789abcdef"
)

// mixedChars returns n alphanumerics with at least one digit and one letter.
func (g *gen) mixedChars(n int, alphabet string) string {
	for {
		v := g.chars(n, alphabet)
		if mixed(v) {
			return v
		}
	}
}

// --- values ---

var (
	firstNames = []string{"jane", "john", "maria", "jose", "li", "wei", "anna", "lukas", "sophie", "pierre", "yuki", "hiro", "olga", "ivan", "fatima", "omar", "priya", "raj", "emma", "noah", "lea", "mateo", "chloe", "ali", "sara", "kim", "min", "ana", "joao", "giulia"}
	lastNames  = []string{"doe", "smith", "garcia", "muller", "schmidt", "dubois", "rossi", "tanaka", "suzuki", "ivanova", "kowalski", "nguyen", "chen", "wang", "silva", "santos", "kim", "park", "haddad", "sharma", "jensen", "novak", "oconnor", "fischer", "moreau"}
	domains    = []string{"example.com", "example.org", "mail.example.de", "example.co.uk", "corp.example.fr", "example.co.jp", "example.com.br", "students.example.edu", "example.io", "sub.example.net", "example-shop.com", "example.ch", "example.nl", "example.es", "example.it"}
)

func (g *gen) email() string {
	f, l := g.pick(firstNames), g.pick(lastNames)
	var local string
	switch g.r.IntN(6) {
	case 0:
		local = f + "." + l
	case 1:
		local = f + "_" + l
	case 2:
		local = f[:1] + l
	case 3:
		local = f + "." + l + "+" + g.pick([]string{"news", "shop", "test", "spam", "2024"})
	case 4:
		local = f + g.digits(2+g.r.IntN(3))
	default:
		local = strings.ToUpper(f[:1]) + f[1:] + "." + strings.ToUpper(l[:1]) + l[1:]
	}
	return local + "@" + g.pick(domains)
}

func (g *gen) nanp() (string, string, string) {
	return g.digitsFrom(3, "23456789"), g.digitsFrom(3, "23456789"), g.digits(4)
}

// nanpFormats are the ways phone() writes a North American number (area
// code, exchange, line); they are its first cases.
var nanpFormats = [...]string{
	"(%s) %s-%s", "%s-%s-%s", "%s.%s.%s", "%s %s %s",
	"+1 %s %s %s", "+1-%s-%s-%s", "+1 (%s) %s-%s",
}

func (g *gen) phone() string {
	c := g.r.IntN(24)
	if c < len(nanpFormats) {
		a, e, n := g.nanp()
		return fmt.Sprintf(nanpFormats[c], a, e, n)
	}
	switch c {
	case 7:
		_, e, n := g.nanp()
		return fmt.Sprintf("1-800-%s-%s", e, n)
	case 8:
		return "+44 20 " + g.digits(4) + " " + g.digits(4)
	case 9:
		return "+44 7" + g.digits(3) + " " + g.digits(6)
	case 10:
		return "07" + g.digits(3) + " " + g.digits(6)
	case 11:
		return "020 " + g.digits(4) + " " + g.digits(4)
	case 12:
		return "+49 30 " + g.digits(8)
	case 13:
		return "030 " + g.digits(8)
	case 14:
		return "+49 (0)" + g.digitsFrom(2, "123456789") + " " + g.digits(7)
	case 15:
		return "+33 " + g.digitsFrom(1, "1234567") + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2)
	case 16:
		return "0" + g.digitsFrom(1, "1234567") + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2)
	case 17:
		return "06-" + g.digits(8)
	case 18:
		return "+81 3-" + g.digits(4) + "-" + g.digits(4)
	case 19:
		return "0" + g.pick([]string{"90", "80", "70"}) + "-" + g.digits(4) + "-" + g.digits(4)
	case 20:
		return "04" + g.digits(2) + " " + g.digits(3) + " " + g.digits(3)
	case 21:
		return "(02) " + g.digits(4) + " " + g.digits(4)
	case 22:
		return "+" + g.pick([]string{"1415", "4420", "4930", "3314", "8190", "6129"}) + g.digits(7)
	default:
		return g.pick([]string{"+91 ", "+34 ", "+39 ", "+55 11 ", "+61 2 ", "+82 10-"}) + g.digits(4) + g.pick([]string{" ", "-"}) + g.digits(4)
	}
}

func luhnComplete(prefix string, length int, g *gen) string {
	body := prefix + g.digits(length-len(prefix)-1)
	for d := byte('0'); d <= '9'; d++ {
		c := body + string(d)
		if luhn([]byte(c)) {
			return c
		}
	}
	panic("unreachable")
}

func (g *gen) cardNumber() string {
	switch g.r.IntN(8) {
	case 0, 1:
		return luhnComplete("4"+g.digits(5), 16, g)
	case 2:
		return luhnComplete(fmt.Sprint(51+g.r.IntN(5)), 16, g)
	case 3:
		return luhnComplete(fmt.Sprint(2221+g.r.IntN(500)), 16, g)
	case 4:
		return luhnComplete(g.pick([]string{"34", "37"}), 15, g)
	case 5:
		return luhnComplete(g.pick([]string{"6011", "65", "644"}), 16, g)
	case 6:
		return luhnComplete(fmt.Sprint(3528+g.r.IntN(62)), 16, g)
	default:
		if g.r.IntN(2) == 0 {
			return luhnComplete("36", 14, g)
		}
		return luhnComplete("62", 16, g)
	}
}

func groupCard(n string, sep string) string {
	var sizes []int
	switch len(n) {
	case 15:
		sizes = []int{4, 6, 5}
	case 14:
		sizes = []int{4, 6, 4}
	default:
		sizes = []int{4, 4, 4, 4}
	}
	var parts []string
	p := 0
	for _, s := range sizes {
		parts = append(parts, n[p:p+s])
		p += s
	}
	return strings.Join(parts, sep)
}

func (g *gen) card() string {
	n := g.cardNumber()
	switch g.r.IntN(3) {
	case 0:
		return n
	case 1:
		return groupCard(n, " ")
	default:
		return groupCard(n, "-")
	}
}

// ibanFormats: country, BBAN layout (n digit, a upper letter, c alnum).
var ibanFormats = [][2]string{
	{"DE", "nnnnnnnnnnnnnnnnnn"},
	{"GB", "aaaannnnnnnnnnnnnn"},
	{"FR", "nnnnnnnnnnnnnnnnnnnnnnn"},
	{"NL", "aaaannnnnnnnnn"},
	{"ES", "nnnnnnnnnnnnnnnnnnnn"},
	{"IT", "annnnnnnnnnnnnnnnnnnnnn"},
	{"BE", "nnnnnnnnnnnn"},
	{"CH", "nnnnnnnnnnnnnnnnn"},
	{"AT", "nnnnnnnnnnnnnnnn"},
	{"PL", "nnnnnnnnnnnnnnnnnnnnnnnn"},
	{"SE", "nnnnnnnnnnnnnnnnnnnn"},
	{"NO", "nnnnnnnnnnn"},
	{"PT", "nnnnnnnnnnnnnnnnnnnnn"},
	{"IE", "aaaannnnnnnnnnnnnn"},
	{"DK", "nnnnnnnnnnnnnn"},
	{"FI", "nnnnnnnnnnnnnn"},
}

func ibanCheck(cc, bban string) string {
	r := 0
	for _, c := range bban + cc + "00" {
		if c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return fmt.Sprintf("%02d", 98-r)
}

func (g *gen) ibanCompact() string {
	f := ibanFormats[g.r.IntN(len(ibanFormats))]
	var b strings.Builder
	for _, k := range f[1] {
		switch k {
		case 'n':
			b.WriteByte(byte('0' + g.r.IntN(10)))
		case 'a':
			b.WriteByte(byte('A' + g.r.IntN(26)))
		}
	}
	bban := b.String()
	return f[0] + ibanCheck(f[0], bban) + bban
}

func groupIBAN(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

func (g *gen) iban() string {
	v := g.ibanCompact()
	if g.r.IntN(2) == 0 {
		return groupIBAN(v)
	}
	return v
}

func (g *gen) ipv4() string {
	switch g.r.IntN(5) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", g.r.IntN(256), 1+g.r.IntN(254))
	case 2:
		return fmt.Sprintf("172.%d.%d.%d", 16+g.r.IntN(16), g.r.IntN(256), 1+g.r.IntN(254))
	case 3:
		return fmt.Sprintf("%d.%d.%d.%d", g.pick4([]int{203, 198, 192}), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
	}
}

func (g *gen) pick4(xs []int) int { return xs[g.r.IntN(len(xs))] }

func (g *gen) hexGroup() string {
	v := fmt.Sprintf("%x", g.r.IntN(0x10000))
	return v
}

func (g *gen) ipv6() string {
	switch g.r.IntN(7) {
	case 0:
		var gs []string
		for range 8 {
			gs = append(gs, fmt.Sprintf("%04x", g.r.IntN(0x10000)))
		}
		return strings.Join(gs, ":")
	case 1:
		return "2001:db8::" + g.hexGroup()
	case 2:
		return "fe80::" + g.hexGroup() + ":" + g.hexGroup() + ":" + g.hexGroup() + ":" + g.hexGroup()
	case 3:
		return "2001:db8:" + g.hexGroup() + ":" + g.hexGroup() + "::" + g.hexGroup()
	case 4:
		return "::ffff:" + g.ipv4()
	case 5:
		return strings.ToUpper("2a00:1450:" + g.hexGroup() + ":" + g.hexGroup() + "::" + g.hexGroup())
	default:
		var gs []string
		for range 8 {
			gs = append(gs, g.hexGroup())
		}
		return strings.Join(gs, ":")
	}
}

func (g *gen) ssn() string {
	area := 1 + g.r.IntN(899)
	for area == 666 {
		area = 1 + g.r.IntN(899)
	}
	sep := "-"
	if g.r.IntN(5) == 0 {
		sep = " "
	}
	return fmt.Sprintf("%03d%s%02d%s%04d", area, sep, 1+g.r.IntN(99), sep, 1+g.r.IntN(9999))
}

func b64(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }

func (g *gen) jwt() string {
	header := g.pick([]string{
		`{"alg":"HS256","typ":"JWT"}`,
		`{"alg":"RS256","typ":"JWT","kid":"` + g.chars(16, hexDigits) + `"}`,
		`{"typ":"JWT","alg":"ES256"}`,
		`{"alg":"HS512"}`,
	})
	payload := fmt.Sprintf(`{"sub":"%s","name":"%s %s","iat":%d,"exp":%d}`, g.digits(8), g.pick(firstNames), g.pick(lastNames), 1700000000+g.r.IntN(9999999), 1710000000+g.r.IntN(9999999))
	if g.r.IntN(2) == 0 {
		payload = fmt.Sprintf(`{"iss":"https://auth.example.com/","aud":"pulse","sub":"auth0|%s","scope":"openid profile email"}`, g.chars(24, hexDigits))
	}
	sigLen := 43
	if strings.Contains(header, "RS256") {
		sigLen = 342
	}
	return b64(header) + "." + b64(payload) + "." + g.chars(sigLen, b64url)
}

func (g *gen) bearer() string {
	switch g.r.IntN(5) {
	case 0:
		return g.mixedChars(32+g.r.IntN(32), alnum)
	case 1:
		return g.mixedChars(40, hexDigits)
	case 2:
		return "ya29.a0" + g.mixedChars(60+g.r.IntN(40), b64url)
	case 3:
		return g.mixedChars(40, alnum+"+/") + "=="
	default:
		return "gho" + g.mixedChars(20, alnum) + "." + g.mixedChars(20, alnum)
	}
}

// bearerType is the type a bearer token is reported as: a Google access
// token ("ya29.") is an API key, the more specific type.
func bearerType(v string) string {
	if strings.HasPrefix(v, "ya29.") {
		return "api_key"
	}
	return "bearer_token"
}

func (g *gen) apiKey() string {
	switch g.r.IntN(16) {
	case 0:
		return "sk_live_" + g.mixedChars(24+g.r.IntN(76), alnum)
	case 1:
		return "sk_test_" + g.mixedChars(24, alnum)
	case 2:
		return "pk_live_" + g.mixedChars(24, alnum)
	case 3:
		return "rk_live_" + g.mixedChars(24, alnum)
	case 4:
		return g.pick([]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}) + g.mixedChars(36, alnum)
	case 5:
		return "github_pat_11" + g.mixedChars(20, upAlnum) + "_" + g.mixedChars(59, alnum)
	case 6:
		return g.pick([]string{"xoxb-", "xoxp-"}) + g.digits(12) + "-" + g.digits(13) + "-" + g.mixedChars(24, alnum)
	case 7:
		return g.pick([]string{"xoxa-2-", "xoxr-"}) + g.digits(11) + "-" + g.mixedChars(32, alnum)
	case 8:
		return g.pick([]string{"AKIA", "ASIA"}) + g.chars(16, upAlnum)
	case 9:
		return "AIza" + g.mixedChars(35, b64url)
	case 10:
		return "glpat-" + g.mixedChars(20, b64url)
	case 11:
		return "SG." + g.mixedChars(22, b64url) + "." + g.mixedChars(43, b64url)
	case 12:
		return "sk-" + g.mixedChars(48, alnum)
	case 13:
		return "sk-proj-" + g.mixedChars(64, b64url)
	case 14:
		return "npm_" + g.mixedChars(36, alnum)
	default:
		return "sk-ant-api03-" + g.mixedChars(80, b64url)
	}
}

// urlSecret returns a text with the secret embedded and the secret itself.
func (g *gen) urlSecret() (string, string) {
	host := g.pick([]string{"app.example.com", "api.example.io", "shop.example.de", "example.org", "cdn.example.net"})
	switch g.r.IntN(10) {
	case 0, 1:
		user := g.pick([]string{"admin", "app", "deploy", "svc_pulse", "postgres", "root", ""})
		pass := g.pick([]string{"hunter2", "S3cr3t!", "p4ssw0rd", "correct-horse-battery", "Tr0ub4dor", ""}) + g.mixedChars(6, alnum)
		scheme := g.pick([]string{"postgres", "mysql", "redis", "amqp", "https", "mongodb+srv", "ftp"})
		cred := user + ":" + pass
		return fmt.Sprintf("%s://%s@%s:%d/%s", scheme, cred, g.pick([]string{"db.internal", "db-1.example.net", "cache.example.com", "mq.example.io"}), 1000+g.r.IntN(9000), g.pick([]string{"app", "0", "prod", "orders"})), cred
	case 2:
		v := g.mixedChars(24+g.r.IntN(20), alnum)
		return fmt.Sprintf("https://%s/reset-password?token=%s&lang=%s", host, v, g.pick([]string{"en", "de", "ja"})), v
	case 3:
		v := g.mixedChars(32, alnum)
		return fmt.Sprintf("https://%s/v1/data?format=json&api_key=%s", host, v), v
	case 4:
		v := g.mixedChars(20, alnum+"-_")
		return fmt.Sprintf("https://%s/oauth/callback?code=%s&state=%s", host, v, "xyz"), v
	case 5:
		v := g.mixedChars(40, hexDigits)
		return fmt.Sprintf("https://%s/files/report.pdf?X-Amz-Expires=3600&X-Amz-Signature=%s", host, v), v
	case 6:
		v := g.mixedChars(30, alnum)
		return fmt.Sprintf("https://%s/cb#access_token=%s&token_type=bearer&expires_in=3600", host, v), v
	case 7:
		v := g.mixedChars(16, alnum)
		return fmt.Sprintf("/login?user=%s&password=%s", g.pick(firstNames), v), v
	case 8:
		v := g.mixedChars(26, alnum)
		return fmt.Sprintf("https://%s/checkout;jsessionid=%s?step=2", host, v), v
	default:
		v := g.mixedChars(20, alnum) + "%3D"
		return fmt.Sprintf("https://%s/share?sig=%s&ref=%s", host, v, "footer"), v
	}
}

// --- contexts ---

var personTemplates = []string{
	"Contact me at %s",
	"user signed up with %s",
	`{"event":"signup","email_or_phone":"%s","plan":"pro"}`,
	"Support ticket #4821: customer wrote \"please call %s after 5pm\"",
	"Kontakt: %s (bitte nur werktags)",
	"Pour toute question : %s.",
	"Contacto: %s, gracias.",
	"連絡先: %s までお願いします",
	"联系方式：%s",
	"Связаться со мной: %s",
	"Entre em contato: %s",
	"문의: %s 으로 연락 주세요",
	"feedback: the app crashed again, reach me on %s",
	"level=info msg=\"profile updated\" value=%s",
	"[WARN] unverified contact %s in form field 'notes'",
	"notes: %s",
}

var netTemplates = []string{
	"client %s connected",
	"level=warn msg=\"rate limited\" remote_addr=%s",
	`{"ip":"%s","country":"DE"}`,
	"X-Forwarded-For: %s",
	"Failed login from %s for user admin",
	"Verbindung von %s abgelehnt",
	"接続元IP: %s",
	"upstream %s timed out after 30s",
}

var secretTemplates = []string{
	"config: key=%s",
	`{"api_key":"%s","env":"prod"}`,
	"export STRIPE_KEY=%s",
	"Authorization header value was %s (leaked in logs)",
	"token: %s",
	"Der Schlüssel %s wurde versehentlich committet",
	"APIキー %s が漏洩しました",
	"found credential %s in request body",
	"set -x; deploy --token %s",
}

var financeTemplates = []string{
	"paid with card %s",
	`{"payment":{"method":"card","number":"%s"}}`,
	"Bitte überweisen Sie auf %s",
	"IBAN: %s",
	"Payer account %s, reference INV-2024-0042",
	"カード番号 %s で決済",
	"número de cuenta %s",
	"customer typed %s into the coupon field",
	"refund to %s requested",
}

func (g *gen) ctx(templates []string, v string) string {
	return fmt.Sprintf(g.pick(templates), v)
}

func one(typ, text, value string) corpusLine {
	return corpusLine{Text: text, Spans: []corpusSpan{{Type: typ, Value: value}}}
}

func (g *gen) positives() map[string][]corpusLine {
	out := map[string][]corpusLine{}
	const n = 120
	for range n {
		v := g.email()
		out["email"] = append(out["email"], one("email", g.ctx(append(personTemplates, "mailto:%s", "From: Jane <%s>", "Reply-To: %s"), v), v))
	}
	for range n {
		v := g.phone()
		out["phone"] = append(out["phone"], one("phone", g.ctx(append(personTemplates, "tel: %s", "Tel.: %s", "電話番号：%s", "phone=%s;"), v), v))
	}
	for range n {
		v := g.card()
		out["credit_card"] = append(out["credit_card"], one("credit_card", g.ctx(financeTemplates, v), v))
	}
	for range n {
		v := g.iban()
		out["iban"] = append(out["iban"], one("iban", g.ctx(financeTemplates, v), v))
	}
	for range n {
		v := g.ipv4()
		out["ipv4"] = append(out["ipv4"], one("ipv4", g.ctx(append(netTemplates, "peer=%s:443 tls=1.3", "proxy http://%s:3128"), v), v))
	}
	for range n {
		v := g.ipv6()
		// An IPv6 address with a port is written in brackets: an unbracketed
		// "addr:443" is itself a valid, longer address.
		t := g.ctx(append(netTemplates[:len(netTemplates):len(netTemplates)], "GET http://[%s]:8080/health 200", "peer=[%s]:443 tls=1.3", "listen [%s]:9090"), v)
		out["ipv6"] = append(out["ipv6"], one("ipv6", t, v))
	}
	for range n {
		v := g.ssn()
		out["ssn"] = append(out["ssn"], one("ssn", g.ctx(append(personTemplates, "SSN: %s", "ssn=%s", "Social Security Number %s on W-2"), v), v))
	}
	for range n {
		v := g.jwt()
		t := g.ctx(append(secretTemplates, "Authorization: Bearer %s", `{"id_token":"%s"}`, "Cookie: theme=dark; jwt=%s"), v)
		out["jwt"] = append(out["jwt"], one("jwt", t, v))
	}
	for range n {
		v := g.bearer()
		t := g.pick([]string{
			"Authorization: Bearer %s",
			"curl -H 'Authorization: Bearer %s' https://api.example.com/v1/me",
			`{"headers":{"authorization":"Bearer %s"}}`,
			"request failed: header authorization=bearer %s rejected",
			"Authorization: BEARER %s",
			"Token de acceso: Bearer %s",
			"認証ヘッダー Bearer %s を送信",
		})
		out["bearer_token"] = append(out["bearer_token"], one(bearerType(v), fmt.Sprintf(t, v), v))
	}
	for range n {
		v := g.apiKey()
		out["api_key"] = append(out["api_key"], one("api_key", g.ctx(secretTemplates, v), v))
	}
	for range n {
		t, v := g.urlSecret()
		t = g.ctx([]string{"page_view url=%s", `{"page":"%s"}`, "redirecting to %s", "Referer: %s", "DSN %s", "Link im Text: %s.", "リンク %s を開いた"}, t)
		out["url_secret"] = append(out["url_secret"], one("url_secret", t, v))
	}
	return out
}

// mixed lines hold several kinds of PII at once.
func (g *gen) mixedLines() []corpusLine {
	var out []corpusLine
	for range 60 {
		e, p, ip := g.email(), g.phone(), g.ipv4()
		out = append(out, corpusLine{
			Text:  fmt.Sprintf(`{"user":"%s","phone":"%s","ip":"%s","ua":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"}`, e, p, ip),
			Spans: []corpusSpan{{"email", e}, {"phone", p}, {"ipv4", ip}},
		})
		c, ib := g.card(), g.iban()
		out = append(out, corpusLine{
			Text:  fmt.Sprintf("2024-11-25T10:20:30Z order 88123 paid by %s, refund IBAN %s, trace 4bf92f3577b34da6a3ce929d0e0e4736", c, ib),
			Spans: []corpusSpan{{"credit_card", c}, {"iban", ib}},
		})
		k, j, s := g.apiKey(), g.jwt(), g.ssn()
		out = append(out, corpusLine{
			Text:  fmt.Sprintf("leak report v2.4.0: key %s, session jwt %s, applicant SSN %s", k, j, s),
			Spans: []corpusSpan{{"api_key", k}, {"jwt", j}, {"ssn", s}},
		})
		u, uv := g.urlSecret()
		b, v6 := g.bearer(), g.ipv6()
		out = append(out, corpusLine{
			Text:  fmt.Sprintf("GET %s from %s with Authorization: Bearer %s", u, v6, b),
			Spans: []corpusSpan{{"url_secret", uv}, {"ipv6", v6}, {bearerType(b), b}},
		})
	}
	return out
}

func (g *gen) negatives() []corpusLine {
	var texts []string
	add := func(format string, args ...any) { texts = append(texts, fmt.Sprintf(format, args...)) }
	// Fixed hard negatives.
	texts = append(texts,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
		"okhttp/4.12.0 Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001)",
		"FitTrack/4.12.0 (com.example.fittrack; build:4120; iOS 17.1.1) Alamofire/5.8.0",
		"upgrade from v1.2.3.4 to v1.2.3.5 completed",
		"version 10.0.0.1 released",
		"Version: 4.0.0.1",
		`{"appVersion":"2.3.1.0","os":"android"}`,
		"os_version=10.0.0.2 build=2846",
		"ver 1.1.1.1 rollout at 50%",
		"Windows build 10.0.19045.2846",
		"semver 2.4.0, previous 2.3.17, next 3.0.0-rc.1",
		"release-2024.11.3 tagged",
		"invalid address 999.1.1.1 rejected",
		"octets 256.100.50.25 out of range",
		"OID 1.3.6.1.4.1.2021.10.1.3.1",
		"SNMP walk 1.3.6.1.2.1.1.1.0 ok",
		"time 10:20:30 and 23:59:59.999",
		"dates 2024-01-15, 15.01.2024, 01/15/2024, 2024/01/15",
		"2024-01-15T10:20:30Z",
		"2024-01-15T10:20:30.123+05:30",
		"2024-01-15 10:20:30,123 INFO started",
		"ts=1732550400 ts_ms=1732550400123",
		"created_at: 1700000000, updated_at: 1700000123456",
		"price 1,234.56 EUR, was $12.99, now €9,99",
		"Total: 12 345,67 ₽ (НДС 20%)",
		"Gesamtbetrag 1.299,00 € inkl. MwSt.",
		"amount_cents=129900 currency=JPY ¥12,990",
		"color #3b82f6 hover #1e40af border #fff",
		"font-size: 14px; margin: 0 auto; width: calc(100% - 2rem); line-height: 1.5",
		"transform: translate(12px, -4.5px) scale(1.05)",
		"/usr/local/lib/python3.11/site-packages/requests/__init__.py",
		"C:\\Program Files\\Example\\app-4.12.0\\bin\\app.exe",
		"/var/log/nginx/access.log.2024-01-15.gz",
		"./src/components/Button/Button.test.tsx:42:13",
		"icon@2x.png and logo@3x.webp loaded",
		"npm install @babel/core@7.23.0 @types/node@20.10.5",
		"docker pull nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
		"user@localhost denied",
		"follow @pulse_otel on social",
		"std::vector<int> and std::map::find",
		"MAC ff:ff:ff:ff:ff:ff (broadcast) on eth0",
		"ratio 16:9, 4:3 and 21:9",
		"Bearer token missing from request",
		"the bearer of this card is responsible",
		"Authorization scheme: Bearer realm=\"example\"",
		"use a bearer tokenizationService instance",
		"sk-learn is not a package; use scikit-learn",
		"<div class=\"sk-spinner sk-double-bounce\"></div>",
		"task_live_updates enabled",
		"ghp_short is too short",
		"AKIA1234 partial key in docs",
		"https://example.com/search?q=privacy&page=2&sort=asc",
		"https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring_2024",
		"https://example.com/settings?auth=true&debug=false",
		"https://example.com/api?key=&token=",
		"https://example.com/page#section-2",
		"ssh://git@github.com/example/repo.git",
		"https://cdn.example.com/assets/app.3f9a1c.js",
		"SSN 000-12-3456 is invalid, so is 666-12-3456 and 900-12-3456",
		"ids 123-00-4567 and 123-45-0000",
		"ISBN 978-3-16-148410-0",
		"ZIP 94107-1234",
		"order #123-456-789",
		"Population 1 234 567",
		"coordinates +12.345678,-98.765432",
		"delta +0.0012345 after tuning",
		"score +1500 points",
		"timezone +05:30 and -08:00",
		"phone number field left empty",
		"eyJhbGciOiJIUzI1NiJ9 (header only)",
		"eyJ1c2VyIjoiamFuZSJ9 base64 of a json object",
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
		"correlation 123e4567-e89b-12d3-a456-426614174000",
		"IBAN-like DE00 1234 5678 9012 3456 78 fails its checksum",
		"Card 4111 1111 1111 1112 declined (invalid number)",
		"Ticket 1234 5678 9012 3456 closed",
		"Model iPhone15,3 and SM-S918B",
		"A/B test onboarding_flow_v3 (variant B)",
		"Completed 3 sets of 12 reps at 42.5 kg; rest 90 s",
		"en-US, de-DE, ja-JP, zh-Hans-CN",
		"Europe/Berlin UTC+01:00",
		"HTTP/1.1 200 OK",
		"chmod 0755 /etc/app/config.yaml",
		"git commit 3f9a1c2b7e4d5a6f8091a2b3c4d5e6f708192a3b",
		"md5 d41d8cd98f00b204e9800998ecf8427e",
		"sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
		"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"blob aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBiYXNlNjQgYmxvYg==",
		"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
		"Die Bestellung 2024-0042 wurde am 15.01.2024 versandt.",
		"注文番号 2024-0042 は 2024年1月15日 に発送されました",
		"Заказ № 2024-0042 от 15.01.2024",
		"Pedido 2024/0042 enviado el 15-01-2024",
		"numéro de commande 2024-0042, version 3.2.1",
		"latency p50=12.5ms p99=240.75ms",
		"memory 1024 MiB / 2048 MiB (50.0%)",
		"screen 1170x2532 @3x, dpr 3.0",
		"build 4120 (2024.11.25.1)",
		"app 4.12.0 (412000)",
		"com.example.fittrack.workouts.v2",
		"viewport width=device-width, initial-scale=1.0",
		"Set-Cookie: theme=dark; Path=/; Max-Age=31536000; SameSite=Lax",
		"Accept-Language: en-US,en;q=0.9,de;q=0.8",
		"Content-Type: application/json; charset=utf-8",
		"cron 0 */5 * * *",
		"range bytes=0-1023/146515",
		"room 2-314, floor 3",
		"counter 4111 reached",
		"lat 52.520008 lon 13.404954",
		"ipv6 support: disabled",
		"FE80 registers and ABCD blocks",
		"ratio 1:2:3:4:5:6:7",
		"call count 555 times",
	)
	// Generated families.
	for range 25 {
		add("trace_id=%s", g.chars(32, hexDigits))
		add("span %s parent %s", g.chars(16, hexDigits), g.chars(16, hexDigits))
		add("request_id=%s-%s-4%s-a%s-%s", g.chars(8, hexDigits), g.chars(4, hexDigits), g.chars(3, hexDigits), g.chars(3, hexDigits), g.chars(12, hexDigits))
		add("epoch %s ms %s", g.digitsFrom(10, "1"), g.digitsFrom(13, "1"))
		add("logged at %04d-%02d-%02dT%02d:%02d:%02dZ", 2020+g.r.IntN(6), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
		add("Datum %02d.%02d.%04d um %02d:%02d Uhr", 1+g.r.IntN(28), 1+g.r.IntN(12), 2020+g.r.IntN(6), g.r.IntN(24), g.r.IntN(60))
		add("v%d.%d.%d.%d", g.r.IntN(20), g.r.IntN(20), g.r.IntN(100), g.r.IntN(1000))
		add("app version %d.%d.%d (build %d)", g.r.IntN(10), g.r.IntN(30), g.r.IntN(20), 1000+g.r.IntN(9000))
		add("%d.%d.%d.%d", 256+g.r.IntN(700), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
		add("price $%d.%02d, total %d,%03d.%02d", g.r.IntN(1000), g.r.IntN(100), 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100))
		add("order id %s", g.nonLuhn16())
		add("customer_number=%s", g.digits(10+g.r.IntN(3)))
		add("IBAN %s (typo)", g.badIBAN())
		add("sha256:%s", g.chars(64, hexDigits))
		add("avatar %s.jpg", g.chars(40, hexDigits))
		add("#%s and #%s", g.chars(6, hexDigits), g.chars(3, hexDigits))
		add("padding: %dpx %dpx; border-radius: %.1frem", g.r.IntN(40), g.r.IntN(40), g.r.Float64()*2)
		add("/api/v%d/users/%d/workouts/%d", 1+g.r.IntN(3), g.r.IntN(100000), g.r.IntN(1000000))
		add("SSN %03d-%02d-%04d rejected", g.pick4([]int{0, 666, 900 + g.r.IntN(100)}), 1+g.r.IntN(99), 1+g.r.IntN(9999))
		add("token_hash=%s", g.b64blob())
		add("%s", g.uaString())
		add("Build %d.%d.%d.%d", g.r.IntN(20), g.r.IntN(10), g.r.IntN(30000), g.r.IntN(5000))
		add("duration %d.%03ds, %d items, %d%%", g.r.IntN(100), g.r.IntN(1000), g.r.IntN(10000), g.r.IntN(100))
		add("count %s", g.digits(7+g.r.IntN(4)))
	}
	var out []corpusLine
	for _, t := range texts {
		out = append(out, corpusLine{Text: t})
	}
	return out
}

// nonLuhn16 returns 16 digits that fail the Luhn check, starting like a card.
func (g *gen) nonLuhn16() string {
	for {
		v := g.digitsFrom(16, "3456")
		if !luhn([]byte(v)) {
			return v
		}
	}
}

func (g *gen) badIBAN() string {
	v := g.ibanCompact()
	c := v[2:4]
	bad := c
	for bad == c {
		bad = fmt.Sprintf("%02d", 2+g.r.IntN(97))
	}
	v = v[:2] + bad + v[4:]
	if g.r.IntN(2) == 0 {
		return groupIBAN(v)
	}
	return v
}

func (g *gen) b64blob() string {
	b := make([]byte, 24+g.r.IntN(24))
	for i := range b {
		b[i] = byte('a' + g.r.IntN(26))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (g *gen) uaString() string {
	switch g.r.IntN(3) {
	case 0:
		v := 15 + g.r.IntN(3)
		m := g.r.IntN(6)
		return fmt.Sprintf("Mozilla/5.0 (iPhone; CPU iPhone OS %d_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/%d.%d Mobile/15E148 Safari/604.1", v, m, v, m)
	case 1:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", 110+g.r.IntN(20))
	default:
		return fmt.Sprintf("Mozilla/5.0 (Linux; Android %d; Pixel %d) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Mobile Safari/537.36", 10+g.r.IntN(5), 5+g.r.IntN(4), 110+g.r.IntN(20), 5000+g.r.IntN(1000), g.r.IntN(200))
	}
}

func writeJSONL(t *testing.T, path string, lines []corpusLine) {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		j, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGenerateCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gen-corpus to regenerate testdata/corpus")
	}
	g := &gen{r: rand.New(rand.NewPCG(20241125, 42))}
	dir := filepath.Join("testdata", "corpus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pos := g.positives()
	for _, typ := range AllTypes() {
		writeJSONL(t, filepath.Join(dir, typ.String()+".jsonl"), pos[typ.String()])
	}
	writeJSONL(t, filepath.Join(dir, "mixed.jsonl"), g.mixedLines())
	writeJSONL(t, filepath.Join(dir, "negatives.jsonl"), g.negatives())
}
