package alertrules

import "github.com/prometheus/alertmanager/config"

// CheckAlertmanager first loads the configuration with Alertmanager's own
// loader (github.com/prometheus/alertmanager/config v0.35.0), then applies
// Pulse's stricter checks.
func init() {
	loadAlertmanager = func(s string) error {
		_, err := config.Load(s)
		return err
	}
}
