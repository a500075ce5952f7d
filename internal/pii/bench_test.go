package pii

import "testing"

// cleanEvent is the string values of a realistic analytics event (about
// 1 KB) with no PII: what the privacy processor scans for most events.
var cleanEvent = []string{
	"/workouts/strength/upper-body/session-summary",
	"Upper body strength - Session summary | FitTrack",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	"workout",
	"start",
	"user_action",
	"https://app.fittrack.example/workouts/strength?tab=history&sort=recent&utm_source=newsletter&utm_campaign=spring_2024",
	"https://www.google.com/",
	"ios",
	"4.12.0 (build 4120)",
	"en-US",
	"Europe/Berlin",
	"4bf92f3577b34da6a3ce929d0e0e4736",
	"00f067aa0ba902b7",
	"c8a1f7e2-3b4d-4e5f-9a6b-7c8d9e0f1a2b",
	"Tapped the 'Start workout' button on the summary card after finishing the warm-up routine.",
	"screen_view",
	"Completed 3 sets of 12 reps at 42.5 kg; rest 90 s between sets. Next: bench press, 4x8.",
	"dark_mode=true; font_scale=1.15; reduce_motion=false",
	"recommendation_v2/collaborative-filtering/2024-11-25T10:20:30Z",
	"premium_monthly",
	"EUR 12.99",
	"release-2024.11.3",
	"iPhone15,3",
	"wifi",
	"A/B test: onboarding_flow_v3 (variant B), exposure 2024-11-24",
	"#3b82f6",
	"font-size: 14px; margin: 0 auto; width: calc(100% - 2rem)",
}

// piiEvent is the same event with five PII values mixed in.
var piiEvent = func() []string {
	e := append([]string(nil), cleanEvent...)
	e[6] = "https://app.fittrack.example/reset?token=Zx9Qm2Lp7Vt4Rk8Wn3Hs&utm_source=email"
	e[15] = "Tapped 'Contact coach' and typed: reach me at jane.doe@example.com or +49 30 12345678."
	e[17] = "Paid with 4111 1111 1111 1111 from 203.0.113.42; rest 90 s between sets."
	return e
}()

func benchScan(b *testing.B, values []string) {
	sc, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, v := range values {
		n += len(v)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	dst := make([]Match, 0, 16)
	for b.Loop() {
		for _, v := range values {
			dst = sc.Scan(dst[:0], v)
		}
	}
}

func BenchmarkScanClean(b *testing.B) { benchScan(b, cleanEvent) }

func BenchmarkScanPII(b *testing.B) { benchScan(b, piiEvent) }
