// Package plantedpii holds the personal data that privacy tests plant in
// events, and the fragments that must never come out again. One set, so
// every test that proves "no raw PII leaves" checks the same things.
package plantedpii // import "github.com/pulse-otel/pulse/internal/plantedpii"

import (
	"fmt"
	"strings"
)

// Values are planted in every kind of field. A person's name is only
// recognisable by its key (full_name): free-text names are not a detectable
// pattern, so none is planted in free text.
var Values = map[string]string{
	"email": "ada.lovelace@example.com",
	"phone": "+44 20 7946 0958",
	"card":  "4111 1111 1111 1111",
	"iban":  "GB82 WEST 1234 5698 7654 32",
	"ssn":   "123-45-6789",
	"ip":    "203.0.113.77",
	"jwt":   "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
	"key":   "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
	"name":  "Augusta Byron",
	// Encoded the way URLs carry them: percent-encoded '@' and '+'.
	"email_encoded": "grace.hopper%40example.com",
	"phone_encoded": "%2B4915123632299",
}

// Fragments must not survive anywhere: the values, and the distinctive
// parts of the ones that could be masked in pieces.
var Fragments = []string{"ada.lovelace", "7946 0958", "4111 1111", "WEST 1234", "123-45-6789", "203.0.113.77", "eyJhbGciOiJIUzI1NiJ9", "sk_live_4eC39", "Augusta", "Byron", "grace.hopper", "15123632299"}

// Event returns an analytics event (JSON, /v1/events) with PII in every
// string field, nested map and array, at consent level full, in map keys
// as well as values, and percent-encoded in a page URL. When valid is
// false the event is also invalid, with PII in the bad values and in an
// unknown field name, so that error answers are tested too.
func Event(id string, ts int64, valid bool) string {
	v := Values
	e := fmt.Sprintf(`{"eventId":"%[11]s %[1]s","sessionId":%[2]q,"userId":%[1]q,"deviceId":%[6]q,
"eventType":"user_action","category":"call %[2]s","action":"card %[3]s",
"properties":{"page":"/u/%[1]s?login_hint=%[12]s&tel=%[13]s","feature":"iban %[4]s","value":1,"duration":5,
  "metadata":{"note":"ssn %[5]s","full_name":%[9]q,%[1]q:1,"call %[2]s":"key","list":["from %[6]s",{"deep":"token %[7]s"}],"apiKey":"x %[8]s","ip":%[6]q}},
"userAgent":"Mozilla/5.0 %[1]s","platform":"web","appVersion":"1.0.0","consentLevel":"full","dataRetentionDays":30,"timestamp":%[10]d,
"behavior":{"behaviorType":"conversion","conversionData":{"goalType":"signup %[1]s","funnelStep":"step %[2]s","conversionTime":10,"previousSteps":["a %[3]s","b"]}}}`,
		v["email"], v["phone"], v["card"], v["iban"], v["ssn"], v["ip"], v["jwt"], v["key"], v["name"], ts, id, v["email_encoded"], v["phone_encoded"])
	if !valid {
		e = strings.Replace(e, `"platform":"web"`, fmt.Sprintf(`"platform":%q,%q:1`, v["email"], v["phone"]), 1)
	}
	return e
}

// Leaks returns the fragments found in text.
func Leaks(text string) []string {
	var out []string
	for _, f := range Fragments {
		if strings.Contains(text, f) {
			out = append(out, f)
		}
	}
	return out
}
