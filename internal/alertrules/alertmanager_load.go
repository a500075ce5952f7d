//go:build amconfig

package alertrules

import "github.com/prometheus/alertmanager/config"

// With the tag amconfig, CheckAlertmanager also loads the configuration
// with Alertmanager's own loader. The tag needs the modules the config
// package imports in go.mod and go.sum (go get
// github.com/prometheus/alertmanager/config@v0.35.0).
func init() {
	loadAlertmanager = func(s string) error {
		_, err := config.Load(s)
		return err
	}
}
