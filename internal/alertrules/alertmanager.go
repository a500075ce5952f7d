package alertrules

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// AlertmanagerOptions are the delivery settings of the generated
// Alertmanager configuration. Empty fields take the Default* placeholders,
// which Alertmanager accepts but which deliver nothing: replace them.
type AlertmanagerOptions struct {
	SMTPFrom      string // global smtp_from
	SMTPSmarthost string // global smtp_smarthost, host:port
	SlackAPIURL   string // global slack_api_url (incoming webhook)
	// SMSWebhookURL receives SMS notifications (Alertmanager webhook
	// payload); the recipient is added as the query parameter "to".
	SMSWebhookURL string
}

// Placeholders for unset AlertmanagerOptions.
const (
	DefaultSMTPFrom      = "pulse-alerts@example.com"
	DefaultSMTPSmarthost = "smtp.example.com:587"
	DefaultSlackAPIURL   = "https://hooks.slack.com/services/REPLACE/ME/TOKEN"
	DefaultSMSWebhookURL = "http://127.0.0.1:9095/sms"

	// NullReceiver gets the alerts of no rule.
	NullReceiver = "pulse-null"
)

func (o AlertmanagerOptions) withDefaults() AlertmanagerOptions {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.SMTPFrom, DefaultSMTPFrom)
	def(&o.SMTPSmarthost, DefaultSMTPSmarthost)
	def(&o.SlackAPIURL, DefaultSlackAPIURL)
	def(&o.SMSWebhookURL, DefaultSMSWebhookURL)
	return o
}

// placeholders lists the settings that take a placeholder.
func (o AlertmanagerOptions) placeholders() []string {
	var out []string
	if o.SMTPFrom == "" {
		out = append(out, "smtp_from")
	}
	if o.SMTPSmarthost == "" {
		out = append(out, "smtp_smarthost")
	}
	if o.SlackAPIURL == "" {
		out = append(out, "slack_api_url")
	}
	if o.SMSWebhookURL == "" {
		out = append(out, "the SMS webhook URL")
	}
	return out
}

// The generated configuration, with only the fields Pulse sets, so that
// older Alertmanagers (Debian's amtool) read it as well.
type amConfig struct {
	Global    amGlobal     `yaml:"global"`
	Route     amRoute      `yaml:"route"`
	Receivers []amReceiver `yaml:"receivers"`
}

type amGlobal struct {
	SMTPFrom      string `yaml:"smtp_from"`
	SMTPSmarthost string `yaml:"smtp_smarthost"`
	SlackAPIURL   string `yaml:"slack_api_url"`
}

type amRoute struct {
	Receiver       string    `yaml:"receiver,omitempty"`
	GroupBy        []string  `yaml:"group_by,omitempty"`
	Matchers       []string  `yaml:"matchers,omitempty"`
	GroupInterval  string    `yaml:"group_interval,omitempty"`
	RepeatInterval string    `yaml:"repeat_interval,omitempty"`
	Continue       bool      `yaml:"continue,omitempty"`
	Routes         []amRoute `yaml:"routes,omitempty"`
}

type amReceiver struct {
	Name           string      `yaml:"name"`
	EmailConfigs   []amEmail   `yaml:"email_configs,omitempty"`
	SlackConfigs   []amSlack   `yaml:"slack_configs,omitempty"`
	WebhookConfigs []amWebhook `yaml:"webhook_configs,omitempty"`
}

type amEmail struct {
	To           string `yaml:"to"`
	SendResolved bool   `yaml:"send_resolved"`
}

type amSlack struct {
	Channel      string `yaml:"channel"`
	SendResolved bool   `yaml:"send_resolved"`
}

type amWebhook struct {
	URL          string `yaml:"url"`
	SendResolved bool   `yaml:"send_resolved"`
}

// receiverName names the receiver of a recipient set: the channel and the
// sorted recipients ("email:a@example.com,b@example.com"), or for
// escalation recipients of mixed channels "escalation:" and the recipients.
func receiverName(prefix string, recipients []string) string {
	rs := slices.Clone(recipients)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	return prefix + ":" + strings.Join(rs, ",")
}

// receiver builds the receiver of recipients, each sent on its own channel.
func receiver(name string, recipients []string, o AlertmanagerOptions) (amReceiver, error) {
	rs := slices.Clone(recipients)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	rcv := amReceiver{Name: name}
	var emails []string
	for _, rc := range rs {
		switch recipientChannel(rc) {
		case ChannelEmail:
			emails = append(emails, rc)
		case ChannelSlack:
			rcv.SlackConfigs = append(rcv.SlackConfigs, amSlack{Channel: rc, SendResolved: true})
		case ChannelSMS:
			u, err := smsURL(o.SMSWebhookURL, rc)
			if err != nil {
				return amReceiver{}, err
			}
			rcv.WebhookConfigs = append(rcv.WebhookConfigs, amWebhook{URL: u, SendResolved: true})
		default:
			return amReceiver{}, fmt.Errorf("recipient %q: not an email address, Slack channel or phone number", rc)
		}
	}
	if len(emails) > 0 {
		rcv.EmailConfigs = []amEmail{{To: strings.Join(emails, ", "), SendResolved: true}}
	}
	return rcv, nil
}

func smsURL(base, to string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("sms webhook URL %q: must be an absolute http or https URL", base)
	}
	q := u.Query()
	q.Set("to", to)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// CompileAlertmanager compiles the notifications of the active rules into
// an Alertmanager configuration: a receiver per channel and recipient set,
// and per rule a route matching rule_id with a child route per notification
// (repeat_interval its cooldown) and, for an escalation, a first child route
// matching escalation="true" to the escalation recipients. It returns the
// YAML, checked with the Alertmanager config loader (v0.35).
func CompileAlertmanager(rules []Rule, opts AlertmanagerOptions) ([]byte, error) {
	o := opts.withDefaults()
	act, err := active(rules)
	if err != nil {
		return nil, err
	}
	cfg := amConfig{
		Global: amGlobal{SMTPFrom: o.SMTPFrom, SMTPSmarthost: o.SMTPSmarthost, SlackAPIURL: o.SlackAPIURL},
		Route:  amRoute{Receiver: NullReceiver, GroupBy: []string{"alertname", LabelRuleID}},
	}
	receivers := map[string]amReceiver{NullReceiver: {Name: NullReceiver}}
	addReceiver := func(name string, recipients []string) error {
		if _, ok := receivers[name]; ok {
			return nil
		}
		rcv, err := receiver(name, recipients, o)
		if err != nil {
			return err
		}
		receivers[name] = rcv
		return nil
	}
	for _, r := range act {
		rt := amRoute{Matchers: []string{fmt.Sprintf("%s=%q", LabelRuleID, r.RuleID)}}
		// One child route per receiver; notifications to the same set share it
		// with the shortest cooldown.
		cooldowns := map[string]int{}
		for _, n := range r.Notifications {
			name := receiverName(n.Channel, n.Recipients)
			if err := addReceiver(name, n.Recipients); err != nil {
				return nil, r.fieldErr("notifications", "%v", err)
			}
			if c, ok := cooldowns[name]; !ok || n.Cooldown < c {
				cooldowns[name] = n.Cooldown
			}
		}
		minCooldown := 0
		for _, c := range cooldowns {
			if minCooldown == 0 || c < minCooldown {
				minCooldown = c
			}
		}
		if e := r.Escalation; e != nil {
			name := receiverName("escalation", e.EscalationRecipients)
			if err := addReceiver(name, e.EscalationRecipients); err != nil {
				return nil, r.fieldErr("escalation.escalationRecipients", "%v", err)
			}
			rt.Routes = append(rt.Routes, amRoute{
				Receiver:       name,
				Matchers:       []string{LabelEscalation + `="true"`},
				RepeatInterval: window(minCooldown),
			})
		}
		names := make([]string, 0, len(cooldowns))
		for name := range cooldowns {
			names = append(names, name)
		}
		slices.Sort(names)
		for i, name := range names {
			rt.Routes = append(rt.Routes, amRoute{
				Receiver:       name,
				RepeatInterval: window(cooldowns[name]),
				Continue:       i < len(names)-1,
			})
		}
		// Alertmanager re-sends only on group_interval ticks (default 5m), so
		// a shorter cooldown needs a group_interval no longer than itself.
		if minCooldown > 0 && minCooldown < 5 {
			rt.GroupInterval = window(minCooldown)
		}
		cfg.Route.Routes = append(cfg.Route.Routes, rt)
	}
	names := make([]string, 0, len(receivers))
	for name := range receivers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		cfg.Receivers = append(cfg.Receivers, receivers[name])
	}
	body, err := marshalYAML(cfg)
	if err != nil {
		return nil, err
	}
	head := Header
	if ph := opts.placeholders(); len(ph) > 0 {
		head += "# Placeholders to replace before use: " + strings.Join(ph, ", ") + ".\n"
	}
	out := append([]byte(head), body...)
	if err := CheckAlertmanager(out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckAlertmanager checks an Alertmanager configuration Pulse generated:
// first with Alertmanager's own loader (config.Load of
// github.com/prometheus/alertmanager/config), then with Pulse's stricter
// checks: the YAML has only the fields Pulse writes, every route's receiver
// exists, matchers parse with Alertmanager's parser, durations and URLs are
// valid and the global settings the receivers need are set.
func CheckAlertmanager(b []byte) error {
	if _, err := amconfig.Load(string(b)); err != nil {
		return fmt.Errorf("compiled Alertmanager configuration does not load: %w", err)
	}
	var cfg amConfig
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("alertmanager configuration: %w", err)
	}
	names := map[string]amReceiver{}
	var needEmail, needSlack bool
	for _, r := range cfg.Receivers {
		if r.Name == "" {
			return fmt.Errorf("alertmanager configuration: receiver without a name")
		}
		if _, ok := names[r.Name]; ok {
			return fmt.Errorf("alertmanager configuration: receiver %q defined twice", r.Name)
		}
		names[r.Name] = r
		for _, e := range r.EmailConfigs {
			needEmail = true
			for _, to := range strings.Split(e.To, ",") {
				if _, err := mail.ParseAddress(strings.TrimSpace(to)); err != nil {
					return fmt.Errorf("alertmanager configuration: receiver %q: email to %q: %w", r.Name, e.To, err)
				}
			}
		}
		for _, sc := range r.SlackConfigs {
			needSlack = true
			if sc.Channel == "" {
				return fmt.Errorf("alertmanager configuration: receiver %q: slack config without a channel", r.Name)
			}
		}
		for _, w := range r.WebhookConfigs {
			if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("alertmanager configuration: receiver %q: webhook url %q is not an absolute http(s) URL", r.Name, w.URL)
			}
		}
	}
	if needEmail {
		if _, err := mail.ParseAddress(cfg.Global.SMTPFrom); err != nil {
			return fmt.Errorf("alertmanager configuration: global smtp_from %q: %w", cfg.Global.SMTPFrom, err)
		}
		if host, port, err := net.SplitHostPort(cfg.Global.SMTPSmarthost); err != nil || host == "" || port == "" {
			return fmt.Errorf("alertmanager configuration: global smtp_smarthost %q: must be host:port", cfg.Global.SMTPSmarthost)
		}
	}
	if needSlack {
		if u, err := url.Parse(cfg.Global.SlackAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("alertmanager configuration: global slack_api_url %q is not an absolute http(s) URL", cfg.Global.SlackAPIURL)
		}
	}
	if len(cfg.Route.Matchers) > 0 {
		return fmt.Errorf("alertmanager configuration: the root route must not have matchers")
	}
	if cfg.Route.Receiver == "" {
		return fmt.Errorf("alertmanager configuration: the root route needs a receiver")
	}
	return checkRoute(cfg.Route, "route", names)
}

func checkRoute(r amRoute, path string, receivers map[string]amReceiver) error {
	if r.Receiver != "" {
		if _, ok := receivers[r.Receiver]; !ok {
			return fmt.Errorf("alertmanager configuration: %s: undefined receiver %q", path, r.Receiver)
		}
	}
	for _, m := range r.Matchers {
		if _, err := labels.ParseMatcher(m); err != nil {
			return fmt.Errorf("alertmanager configuration: %s: matcher %q: %w", path, m, err)
		}
	}
	if r.RepeatInterval != "" {
		if d, err := model.ParseDuration(r.RepeatInterval); err != nil || d <= 0 {
			return fmt.Errorf("alertmanager configuration: %s: repeat_interval %q must be a positive duration", path, r.RepeatInterval)
		}
	}
	for i, c := range r.Routes {
		if err := checkRoute(c, fmt.Sprintf("%s.routes[%d]", path, i), receivers); err != nil {
			return err
		}
	}
	return nil
}
